"""Properties of every adapter: hostile input only ever gives a Problem, and what parses
stays within our limits; the label hash ignores key order."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watchkeeper.errors import Problem
from watchkeeper.ingest.adapters import (
    alertmanager,
    cloudevents,
    feedback,
    generic,
    grafana,
    heartbeat,
    opsgenie,
    pagerduty,
)
from watchkeeper.ingest.adapters.alertmanager import label_hash
from watchkeeper.ingest.adapters.base import (
    MAX_DEDUP_KEY,
    MAX_LABEL_NAME,
    MAX_LABEL_VALUE,
    MAX_LABELS,
    MAX_SUMMARY,
    Parsed,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FORM = "application/x-www-form-urlencoded"
CE_HEADERS = {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t"}

Adapter = Callable[[bytes, str | None], Parsed]
ADAPTERS: dict[str, Adapter] = {
    "pagerduty": lambda b, ct: pagerduty.parse(b, ct, now=NOW),
    "pagerduty-change": lambda b, ct: pagerduty.parse_change(b, ct, now=NOW),
    "alertmanager": lambda b, ct: alertmanager.parse(b, ct, now=NOW),
    "alertmanager-api-v2": lambda b, ct: alertmanager.parse_alerts(b, ct, now=NOW),
    "grafana": lambda b, ct: grafana.parse(b, ct, now=NOW),
    "opsgenie-create": lambda b, ct: opsgenie.parse_create(b, ct, now=NOW),
    "opsgenie-close": lambda b, ct: opsgenie.parse_action(
        "a", "close", b, ct, {"identifierType": "alias"}, now=NOW
    ),
    "generic": lambda b, ct: generic.parse(b, ct, now=NOW),
    "generic-form": lambda b, ct: generic.parse(b, FORM, now=NOW),
    "cloudevents": lambda b, ct: cloudevents.parse(b, "application/cloudevents+json", {}, now=NOW),
    "cloudevents-batch": lambda b, ct: cloudevents.parse(
        b, "application/cloudevents-batch+json", {}, now=NOW
    ),
    "cloudevents-binary": lambda b, ct: cloudevents.parse(b, ct, CE_HEADERS, now=NOW),
    "heartbeat": lambda b, ct: heartbeat.parse(b, ct, now=NOW),
    "feedback": lambda b, ct: feedback.parse(b, ct, now=NOW),
    "feedback-form": lambda b, ct: feedback.parse(b, FORM, now=NOW),
}

# Every field name any format reads, so random objects reach past the first check.
FIELDS = [
    "routing_key", "event_action", "dedup_key", "payload", "summary", "source", "severity",
    "timestamp", "component", "group", "class", "custom_details", "images", "links", "href",
    "text", "src", "client", "client_url", "version", "groupKey", "truncatedAlerts", "status",
    "receiver", "groupLabels", "commonLabels", "externalURL", "alerts", "labels",
    "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint", "orgId", "title",
    "state", "message", "silenceURL", "dashboardURL", "panelURL", "values", "valueString",
    "alias", "description", "priority", "responders", "tags", "details", "entity", "note",
    "user", "service", "dedup", "action", "specversion", "id", "type", "subject", "time",
    "datacontenttype", "data", "data_base64", "reporter", "impact_start", "contact",
]  # fmt: skip
WORDS = [
    "e93facc04764012d7bfb002500d5d1a6", "trigger", "acknowledge", "resolve", "resolved",
    "firing", "critical", "error", "page", "P1", "P9", "1.0", "0.3", "application/json",
    "2026-03-02T09:00:00Z", "0001-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00", "2026-03-02T10:00:00.123456789+01:00", "eyJ9", "e30=",
    "https://example.com", "javascript:alert(1)", "", " ", "x" * 1100, "a.resolved",
]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(WORDS),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=8)), inner, max_size=6),
    ),
    max_leaves=30,
)
content_types = st.sampled_from(
    [None, "", "application/json", "application/json; charset=utf-8", FORM, "text/plain",
     "application/cloudevents+json", "application/x+json", "text/xml", "\x00;;;"]
)  # fmt: skip
EXAMPLES = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(adapter: Adapter, body: bytes, content_type: str | None) -> None:
    try:
        parsed = adapter(body, content_type)
    except Problem:
        return
    msgspec.json.encode(parsed)  # what parses can be stored
    for event in parsed.events:
        assert len(event.summary) <= MAX_SUMMARY
        assert event.dedup_key is None or 0 < len(event.dedup_key) <= MAX_DEDUP_KEY
        assert len(event.labels) <= MAX_LABELS
        assert all(isinstance(v, str) and len(v) <= MAX_LABEL_VALUE for v in event.labels.values())
        assert all(len(name) <= MAX_LABEL_NAME for name in event.labels)
        for instant in (event.occurred_at, event.ends_at):
            assert instant is None or instant.utcoffset() is not None
        assert all(link.href.lower().startswith(("http://", "https://")) for link in event.links)


@pytest.mark.parametrize("name", list(ADAPTERS), ids=list(ADAPTERS))
@EXAMPLES
@given(body=st.binary(max_size=300), content_type=content_types)
def test_random_bytes_give_only_problems(name: str, body: bytes, content_type: str | None) -> None:
    _check(ADAPTERS[name], body, content_type)


@pytest.mark.parametrize("name", list(ADAPTERS), ids=list(ADAPTERS))
@EXAMPLES
@given(value=json_values, content_type=content_types)
def test_random_json_gives_only_problems(name: str, value: Any, content_type: str | None) -> None:
    _check(ADAPTERS[name], json.dumps(value).encode(), content_type)


@pytest.mark.parametrize("name", list(ADAPTERS), ids=list(ADAPTERS))
@EXAMPLES
@given(
    fields=st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=10),
    content_type=st.sampled_from([None, "application/json", FORM]),
)
def test_random_objects_of_known_fields_give_only_problems(
    name: str, fields: dict[str, Any], content_type: str | None
) -> None:
    body = json.dumps(fields).encode()
    _check(ADAPTERS[name], body, content_type)
    _check(ADAPTERS[name], json.dumps([fields, fields]).encode(), content_type)
    _check(ADAPTERS[name], json.dumps({"alerts": [fields], "payload": fields}).encode(), None)


@EXAMPLES
@given(
    headers=st.dictionaries(
        st.sampled_from(["ce-" + f for f in FIELDS] + ["ce-", "CE-ID", "content-type"]),
        st.one_of(st.text(max_size=20), st.sampled_from(WORDS)),
        max_size=8,
    ),
    body=st.binary(max_size=100),
    content_type=content_types,
)
def test_random_cloudevent_headers_give_only_problems(
    headers: dict[str, str], body: bytes, content_type: str | None
) -> None:
    _check(lambda b, ct: cloudevents.parse(b, ct, headers, now=NOW), body, content_type)


@EXAMPLES
@given(
    alias=st.text(max_size=600),
    action=st.sampled_from(["close", "acknowledge", "snooze", ""]),
    query=st.dictionaries(st.sampled_from(["identifierType", "x"]), st.text(max_size=8)),
    body=st.binary(max_size=50),
)
def test_random_opsgenie_actions_give_only_problems(
    alias: str, action: str, query: dict[str, str], body: bytes
) -> None:
    _check(lambda b, ct: opsgenie.parse_action(alias, action, b, ct, query, now=NOW), body, None)


@settings(max_examples=300, deadline=None)
@given(
    labels=st.dictionaries(st.text(max_size=10), st.text(max_size=10), max_size=12),
    data=st.data(),
)
def test_label_hash_ignores_key_order(labels: dict[str, str], data: st.DataObject) -> None:
    shuffled = dict(data.draw(st.permutations(list(labels.items()))))

    assert label_hash(shuffled) == label_hash(labels)
    assert len(label_hash(labels)) == 32


@settings(max_examples=300, deadline=None)
@given(
    a=st.dictionaries(st.text(max_size=6), st.text(max_size=6), max_size=5),
    b=st.dictionaries(st.text(max_size=6), st.text(max_size=6), max_size=5),
)
def test_label_hash_separates_label_sets(a: dict[str, str], b: dict[str, str]) -> None:
    assert (label_hash(a) == label_hash(b)) == (a == b)
