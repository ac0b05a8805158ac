"""Alertmanager webhook v4 and API v2 alerts: documented shapes, severity words, bad input."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from watchkeeper.domain.event import Link
from watchkeeper.errors import InvalidPayload, PayloadTooLarge, Problem, UnsupportedMediaType
from watchkeeper.ingest.adapters import alertmanager
from watchkeeper.ingest.adapters.alertmanager import label_hash
from watchkeeper.ingest.adapters.base import MAX_ITEMS, MAX_LABELS, MAX_SUMMARY

GENERATOR = (
    "http://prometheus:9090/graph?g0.expr=job%3Aapi_request_latency_seconds%3Amean5m"
    "%7Bjob%3D%22api%22%7D+%3E+0.5&g0.tab=1"
)


def _encode(value: Any) -> bytes:
    return json.dumps(value).encode()


def _group(*alerts: dict[str, Any], **envelope: Any) -> bytes:
    return _encode({"version": "4", "status": "firing", "alerts": list(alerts), **envelope})


def _alert(**fields: Any) -> dict[str, Any]:
    return {
        "status": "firing",
        "labels": {"alertname": "Down"},
        "annotations": {},
        "startsAt": "2026-03-02T08:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        **fields,
    }


def test_documented_group_mixes_firing_and_resolved(
    payload: Callable[[str], bytes], now: datetime
) -> None:
    parsed = alertmanager.parse(payload("alertmanager_webhook"), "application/json", now=now)

    firing, resolved = parsed.events
    assert parsed.routing_key is None
    assert (firing.action, resolved.action) == ("trigger", "resolve")
    assert (firing.dedup_key, resolved.dedup_key) == ("c6eadffa33fcdf37", "bc97ff14869b13e3")
    assert firing.summary == "High request latency on api-1:9090"
    assert resolved.summary == "api-2:9090 has a median request latency above 0.5s"
    assert (firing.severity, resolved.severity) == ("critical", "critical")  # severity=page
    assert firing.service == "checkout"
    assert firing.labels["instance"] == "api-1:9090"
    assert firing.annotations["runbook_url"] == "https://runbooks.example.com/HighRequestLatency"
    assert firing.occurred_at == datetime(2026, 3, 2, 8, 51, 3, 157076, tzinfo=UTC)
    assert firing.ends_at is None, "0001-01-01T00:00:00Z means still firing"
    assert resolved.occurred_at == datetime(2026, 3, 2, 7, 40, 3, 157076, tzinfo=UTC)
    assert resolved.ends_at == datetime(2026, 3, 2, 8, 58, 33, 157076, tzinfo=UTC)
    assert firing.links == (Link(GENERATOR, "Source"),)
    assert firing.details == {
        "receiver": "watchkeeper",
        "groupKey": '{}:{alertname="HighRequestLatency"}',
        "groupLabels": {"alertname": "HighRequestLatency"},
        "externalURL": "http://alertmanager:9093",
    }
    assert firing.raw["fingerprint"] == "c6eadffa33fcdf37"


@pytest.mark.parametrize(
    "word, severity",
    [
        ("critical", "critical"),
        ("page", "critical"),
        ("error", "high"),
        ("high", "high"),
        ("major", "high"),
        ("warning", "warning"),
        ("minor", "warning"),
        ("info", "info"),
        ("none", "info"),
        ("low", "info"),
        ("Critical", "critical"),
        (None, "warning"),
        ("something-else", "warning"),
    ],
    ids=lambda value: str(value),
)
def test_severity_label_words(word: str | None, severity: str, now: datetime) -> None:
    labels = {"alertname": "Down"} | ({"severity": word} if word is not None else {})

    [webhook] = alertmanager.parse(_group(_alert(labels=labels)), None, now=now).events
    [api] = alertmanager.parse_alerts(_encode([{"labels": labels}]), None, now=now).events

    assert (webhook.severity, api.severity) == (severity, severity)


@pytest.mark.parametrize(
    "labels, annotations, summary",
    [
        ({"alertname": "Down"}, {"summary": "s", "description": "d"}, "s"),
        ({"alertname": "Down"}, {"summary": "  ", "description": "d"}, "d"),
        ({"alertname": "Down", "job": "api", "a": "1"}, {}, "Down (a=1, job=api)"),
        ({"alertname": "Down"}, {}, "Down"),
        ({"job": "api"}, {}, "alert (job=api)"),
        ({"alertname": "Down"}, {"summary": "x" * 5000}, "x" * (MAX_SUMMARY - 1) + "…"),
    ],
    ids=["summary", "description", "labels", "alertname-only", "no-alertname", "truncated"],
)
def test_summary_fallbacks(
    labels: dict[str, str], annotations: dict[str, str], summary: str, now: datetime
) -> None:
    body = _group(_alert(labels=labels, annotations=annotations))

    [event] = alertmanager.parse(body, None, now=now).events

    assert event.summary == summary


def test_missing_fingerprint_falls_back_to_the_label_hash(now: datetime) -> None:
    labels = {"alertname": "Down", "job": "api"}
    body = _group(_alert(labels=labels), _alert(labels=labels, fingerprint=""))

    first, second = alertmanager.parse(body, None, now=now).events

    assert first.dedup_key == second.dedup_key == label_hash(labels)


def test_truncated_alerts_never_resolve_the_absent(now: datetime) -> None:
    body = _group(_alert(fingerprint="a"), truncatedAlerts=40, status="firing")

    [event] = alertmanager.parse(body, None, now=now).events

    assert event.action == "trigger"
    assert event.details["truncatedAlerts"] == 40


def test_null_maps_from_go_are_empty(now: datetime) -> None:
    body = _group(_alert(annotations=None, labels=None), groupLabels=None)

    [event] = alertmanager.parse(body, None, now=now).events

    assert (event.labels, event.annotations, event.summary) == ({}, {}, "alert")


def _many_labels(count: int) -> dict[str, str]:
    return {f"l{i}": "v" for i in range(count)}


@pytest.mark.parametrize(
    "body, field",
    [
        (_encode({"version": "4"}), "alerts"),
        (_encode({"alerts": {}}), "alerts"),
        (_group(_alert(labels={"a": 1})), "alerts[0].labels[...]"),
        (_group(_alert(labels=_many_labels(MAX_LABELS + 1))), "alerts[0].labels"),
        (_group(_alert(labels={"a": "v" * 5000})), "alerts[0].labels.a"),
        (_group(_alert(annotations={"a": "v" * 70000})), "alerts[0].annotations.a"),
        (_group(_alert(), _alert(startsAt="2026-13-01T00:00:00Z")), "alerts[1].startsAt"),
        (_group(_alert(endsAt="soon")), "alerts[0].endsAt"),
        (_group(_alert(startsAt=1700000000)), "alerts[0].startsAt"),
        (_group(_alert(), truncatedAlerts="many"), "truncatedAlerts"),
        (_group(*[{}] * (MAX_ITEMS + 1)), "alerts"),
    ],
    ids=[
        "missing-alerts",
        "alerts-not-a-list",
        "label-not-string",
        "too-many-labels",
        "label-value-too-long",
        "annotation-too-long",
        "bad-startsAt",
        "bad-endsAt",
        "numeric-startsAt",
        "truncatedAlerts-not-int",
        "too-many-alerts",
    ],
)
def test_invalid_webhooks_name_the_field(body: bytes, field: str, now: datetime) -> None:
    with pytest.raises(InvalidPayload) as caught:
        alertmanager.parse(body, "application/json", now=now)

    assert caught.value.field == field


@pytest.mark.parametrize(
    "parse",
    [alertmanager.parse, alertmanager.parse_alerts],
    ids=["webhook", "api-v2"],
)
@pytest.mark.parametrize(
    "body, content_type, problem",
    [
        (b"{", "application/json", InvalidPayload),
        (b"null", None, InvalidPayload),
        (b"[]", "text/plain", UnsupportedMediaType),
        (b" " * (alertmanager.MAX_BODY + 1), None, PayloadTooLarge),
    ],
    ids=["invalid-json", "null", "text-plain", "over-10mb"],
)
def test_malformed_bodies(
    parse: Callable[..., Any],
    body: bytes,
    content_type: str | None,
    problem: type[Problem],
    now: datetime,
) -> None:
    with pytest.raises(problem):
        parse(body, content_type, now=now)


def test_large_groups_up_to_10mb_are_accepted(now: datetime) -> None:
    alerts = [_alert(labels={"alertname": "Down", "i": str(i)}) for i in range(MAX_ITEMS)]
    body = _group(*alerts)
    assert 512 * 1024 < len(body) < alertmanager.MAX_BODY

    parsed = alertmanager.parse(body, None, now=now)

    assert len({event.dedup_key for event in parsed.events}) == MAX_ITEMS


# --- API v2 alerts --------------------------------------------------------------------------


def test_documented_api_v2_alerts(payload: Callable[[str], bytes], now: datetime) -> None:
    still_firing, ended = alertmanager.parse_alerts(
        payload("alertmanager_api_v2"), "application/json", now=now
    ).events

    assert still_firing.action == "trigger"
    assert still_firing.ends_at == datetime(2026, 3, 2, 9, 4, tzinfo=UTC)
    assert ended.action == "resolve"
    assert ended.ends_at == datetime(2026, 3, 2, 8, 55, tzinfo=UTC)
    assert still_firing.dedup_key == label_hash(
        {
            "alertname": "InstanceDown",
            "instance": "node-1:9100",
            "job": "node",
            "severity": "critical",
        }
    )
    assert still_firing.dedup_key != ended.dedup_key
    assert still_firing.summary == "Instance node-1:9100 is down"
    assert still_firing.severity == "critical"
    assert still_firing.occurred_at == datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
    assert still_firing.links == (
        Link("http://prometheus:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1", "Source"),
    )
    assert still_firing.raw["labels"]["instance"] == "node-1:9100"


@pytest.mark.parametrize(
    "alert, action, starts, ends",
    [
        ({}, "trigger", "now", None),
        ({"endsAt": "2026-03-02T09:00:00Z"}, "resolve", "now", "now"),
        (
            {"endsAt": "2026-03-02T08:59:00Z"},
            "resolve",
            "2026-03-02T08:59:00Z",
            "2026-03-02T08:59:00Z",
        ),
        ({"endsAt": "2026-03-02T09:05:00Z"}, "trigger", "now", "2026-03-02T09:05:00Z"),
        ({"endsAt": "0001-01-01T00:00:00Z"}, "trigger", "now", None),
        ({"startsAt": "2026-03-02T08:00:00+01:00"}, "trigger", "2026-03-02T07:00:00Z", None),
    ],
    ids=[
        "no-times",
        "ends-now-resolves",
        "ended-without-start",
        "ends-later",
        "zero-end",
        "offset-start",
    ],
)
def test_api_v2_times(
    alert: dict[str, Any], action: str, starts: str, ends: str | None, now: datetime
) -> None:
    def instant(value: str | None) -> datetime | None:
        if value is None:
            return None
        return now if value == "now" else datetime.fromisoformat(value)

    body = _encode([{"labels": {"alertname": "Down"}, **alert}])

    [event] = alertmanager.parse_alerts(body, None, now=now).events

    assert (event.action, event.occurred_at, event.ends_at) == (
        action,
        instant(starts),
        instant(ends),
    )


@pytest.mark.parametrize(
    "alerts, field",
    [
        ({"labels": {"a": "b"}}, None),
        ([{"annotations": {}}], "[0].labels"),
        ([{"labels": {}}], "[0].labels"),
        ([{"labels": {"a": "b"}}, {"labels": []}], "[1].labels"),
        ([{"labels": _many_labels(MAX_LABELS + 1)}], "[0].labels"),
        ([{"labels": {"a": "b"}, "startsAt": "03/02/2026"}], "[0].startsAt"),
        (
            [
                {
                    "labels": {"a": "b"},
                    "startsAt": "2026-03-02T09:00:00Z",
                    "endsAt": "2026-03-02T08:00:00Z",
                }
            ],
            "[0].endsAt",
        ),
        ([{"labels": {"a": "b"}}] * (MAX_ITEMS + 1), None),
    ],
    ids=[
        "object-not-array",
        "missing-labels",
        "empty-labels",
        "labels-not-object",
        "too-many-labels",
        "bad-startsAt",
        "ends-before-start",
        "too-many-alerts",
    ],
)
def test_invalid_api_v2_alerts(alerts: Any, field: str | None, now: datetime) -> None:
    body = _encode(alerts)

    with pytest.raises(InvalidPayload) as caught:
        alertmanager.parse_alerts(body, None, now=now)

    assert caught.value.field == field


@pytest.mark.parametrize(
    "a, b, same",
    [
        ({"a": "1", "b": "2"}, {"b": "2", "a": "1"}, True),
        ({"a": "1"}, {"a": "2"}, False),
        ({"a": "1", "b": ""}, {"a": "1"}, False),
        ({"ab": "c"}, {"a": "bc"}, False),
        ({}, {}, True),
    ],
    ids=["key-order", "value", "extra-label", "boundary", "empty"],
)
def test_label_hash(a: dict[str, str], b: dict[str, str], same: bool) -> None:
    assert (label_hash(a) == label_hash(b)) is same
    assert len(label_hash(a)) == 32


@pytest.mark.parametrize(
    "labels",
    [{"alertname": "Down", "job": "api"}, {"zone": "zürich", "alertname": "Ausfall"}, {}],
    ids=["ascii", "non-ascii", "empty"],
)
def test_label_hash_is_stable_across_releases(labels: dict[str, str]) -> None:
    # Stored dedup keys depend on this definition: changing it splits every open alert.
    canonical = json.dumps(sorted(labels.items()), separators=(",", ":"), ensure_ascii=False)

    assert label_hash(labels) == hashlib.sha256(canonical.encode()).hexdigest()[:32]
    assert label_hash({"alertname": "Down", "job": "api"}) == "bfe8c603c5f61a30d506884f0166f34b"


def test_resends_are_idempotent(payload: Callable[[str], bytes], now: datetime) -> None:
    body = payload("alertmanager_webhook")

    first = alertmanager.parse(body, None, now=now)
    again = alertmanager.parse(body, None, now=now + timedelta(minutes=5))

    assert first == again
