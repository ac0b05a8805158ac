"""CloudEvents 1.0: structured, batch and binary modes from the spec's examples; bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from watchkeeper.errors import InvalidPayload, Problem, UnsupportedMediaType
from watchkeeper.ingest.adapters import cloudevents

STRUCTURED = "application/cloudevents+json; charset=UTF-8"
BATCH = "application/cloudevents-batch+json"
BINARY_HEADERS = {
    "ce-specversion": "1.0",
    "ce-type": "com.example.someevent",
    "ce-time": "2018-04-05T03:56:24Z",
    "ce-id": "1234-1234-1234",
    "ce-source": "/mycontext/subcontext",
}


def _encode(value: Any) -> bytes:
    return json.dumps(value).encode()


def _event(**fields: Any) -> dict[str, Any]:
    base = {"specversion": "1.0", "id": "1", "source": "/checks", "type": "com.example.alert"}
    return {**base, **fields}


def test_spec_structured_example(payload: Callable[[str], bytes], now: datetime) -> None:
    [event] = cloudevents.parse(payload("cloudevents_structured"), STRUCTURED, {}, now=now).events

    assert event.action == "trigger"
    assert event.summary == "com.example.someevent"
    assert event.severity == "warning"
    assert event.dedup_key == "/mycontext\x1fcom.example.someevent"
    assert event.idempotency_key == "/mycontext\x1fA234-1234-1234"
    assert event.source == "/mycontext"
    assert event.occurred_at == datetime(2018, 4, 5, 17, 31, tzinfo=UTC)
    assert event.details["data"] == {"appinfoA": "abc", "appinfoB": 123, "appinfoC": True}
    assert event.details["cloudevent"]["comexampleextension1"] == "value"
    assert event.details["cloudevent"]["comexampleothervalue"] == 5
    assert event.raw["id"] == "A234-1234-1234"


def test_spec_xml_data_example(payload: Callable[[str], bytes], now: datetime) -> None:
    [event] = cloudevents.parse(payload("cloudevents_xml"), STRUCTURED, {}, now=now).events

    assert event.dedup_key == "123"  # the subject
    assert event.summary == "com.github.pull_request.opened"
    assert event.details["data"] == '<much wow="xml"/>'


def test_data_base64_with_json_content(payload: Callable[[str], bytes], now: datetime) -> None:
    [event] = cloudevents.parse(payload("cloudevents_base64"), STRUCTURED, {}, now=now).events

    assert (event.summary, event.severity) == ("disk full", "critical")


def test_batch_of_trigger_and_resolve(payload: Callable[[str], bytes], now: datetime) -> None:
    triggered, resolved = cloudevents.parse(payload("cloudevents_batch"), BATCH, {}, now=now).events

    assert triggered.action == "trigger"
    assert triggered.summary == "Checkout latency above 2s"
    assert triggered.severity == "high"  # PagerDuty's error
    assert triggered.service == "checkout"
    assert triggered.labels == {"region": "eu-west-1", "replicas": "3"}
    assert resolved.action == "resolve"  # type ends in .resolved
    assert resolved.summary == "Checkout latency back to normal"  # data.message
    assert triggered.dedup_key == resolved.dedup_key == "checkout-latency"
    assert triggered.idempotency_key != resolved.idempotency_key


def test_empty_batch(now: datetime) -> None:
    assert cloudevents.parse(b"[]", BATCH, {}, now=now).events == []


def test_spec_binary_example(now: datetime) -> None:
    body = b'{"summary": "queue backlog", "severity": "info", "action": "acknowledge"}'

    [event] = cloudevents.parse(
        body, "application/json; charset=utf-8", BINARY_HEADERS, now=now
    ).events

    assert event.action == "acknowledge"
    assert event.summary == "queue backlog"
    assert event.severity == "info"
    assert event.idempotency_key == "/mycontext/subcontext\x1f1234-1234-1234"
    assert event.occurred_at == datetime(2018, 4, 5, 3, 56, 24, tzinfo=UTC)
    assert event.raw["data"]["summary"] == "queue backlog"


@pytest.mark.parametrize(
    "body, content_type, data",
    [
        (b"<much wow='xml'/>", "text/xml", "<much wow='xml'/>"),
        (b'{"a": 1}', None, {"a": 1}),
        (b"plain words", None, "plain words"),
        (b"\xff\xfe", "application/octet-stream", {"bytes": 2}),
        (b"", None, None),
    ],
    ids=["xml", "untyped-json", "untyped-text", "binary", "empty"],
)
def test_binary_mode_data(body: bytes, content_type: str | None, data: Any, now: datetime) -> None:
    headers = {**BINARY_HEADERS, "Ce-Subject": "queue%2F7", "ce-traceparent": "00-ab-cd-01"}

    [event] = cloudevents.parse(body, content_type, headers, now=now).events

    assert event.details.get("data") == data
    assert event.dedup_key == "queue/7"  # percent-decoded header
    assert event.details["cloudevent"]["traceparent"] == "00-ab-cd-01"


@pytest.mark.parametrize(
    "event, field",
    [
        (_event(specversion="0.3"), "specversion"),
        ({"id": "1", "source": "/s", "type": "t"}, "specversion"),
        (_event(id=""), "id"),
        (_event(id=None), "id"),
        (_event(id=7), "id"),
        (_event(source=" "), "source"),
        ({"specversion": "1.0", "id": "1", "source": "/s"}, "type"),
        (_event(time="04/05/2018"), "time"),
        (_event(data={"severity": "urgent"}), "data.severity"),
        (_event(data={"action": "snooze"}), "data.action"),
        (_event(data={"labels": {"a": [1]}}), "data.labels.a"),
        (_event(data={"summary": 5}), "data.summary"),
        (_event(data={"summary": "s" * 1025}), "data.summary"),
        (_event(datacontenttype="application/json", data_base64="!!!"), "data_base64"),
        (_event(datacontenttype="application/json", data_base64="e30"), "data_base64"),
        (_event(datacontenttype="application/json", data_base64="eyI="), "data_base64"),
    ],
    ids=[
        "old-specversion",
        "missing-specversion",
        "empty-id",
        "null-id",
        "numeric-id",
        "blank-source",
        "missing-type",
        "bad-time",
        "unknown-severity",
        "unknown-action",
        "nested-label",
        "summary-not-string",
        "summary-too-long",
        "base64-invalid",
        "base64-unpadded",
        "base64-not-json",
    ],
)
def test_invalid_structured_events(event: Any, field: str, now: datetime) -> None:
    with pytest.raises(InvalidPayload) as caught:
        cloudevents.parse(_encode(event), STRUCTURED, {}, now=now)

    assert caught.value.field == field


def test_batch_errors_name_the_index(now: datetime) -> None:
    body = _encode([_event(), _event(specversion="2.0")])

    with pytest.raises(InvalidPayload) as caught:
        cloudevents.parse(body, BATCH, {}, now=now)

    assert caught.value.field == "[1].specversion"


@pytest.mark.parametrize(
    "headers, body, field",
    [
        ({**BINARY_HEADERS, "ce-specversion": "0.3"}, b"", "ce-specversion"),
        ({k: v for k, v in BINARY_HEADERS.items() if k != "ce-specversion"}, b"", "ce-specversion"),
        ({k: v for k, v in BINARY_HEADERS.items() if k != "ce-id"}, b"", "ce-id"),
        ({**BINARY_HEADERS, "ce-time": "noon"}, b"", "ce-time"),
        ({**BINARY_HEADERS, "ce-subject": "%FF"}, b"", "ce-subject"),
        (BINARY_HEADERS, b"{not json", "data"),
        (BINARY_HEADERS, b'{"severity": 1}', "data.severity"),
    ],
    ids=[
        "old-specversion",
        "missing-specversion",
        "missing-id",
        "bad-time",
        "bad-percent-encoding",
        "invalid-json-data",
        "severity-not-string",
    ],
)
def test_invalid_binary_events(
    headers: dict[str, str], body: bytes, field: str, now: datetime
) -> None:
    with pytest.raises(InvalidPayload) as caught:
        cloudevents.parse(body, "application/json", headers, now=now)

    assert caught.value.field == field


@pytest.mark.parametrize(
    "body, content_type, headers, problem",
    [
        (_encode(_event()), "application/json", {}, UnsupportedMediaType),
        (_encode(_event()), None, {}, UnsupportedMediaType),
        (b"{", STRUCTURED, {}, InvalidPayload),
        (_encode([_event()]), STRUCTURED, {}, InvalidPayload),
        (_encode(_event()), BATCH, {}, InvalidPayload),
    ],
    ids=[
        "json-without-ce-headers",
        "no-content-type-no-headers",
        "invalid-json",
        "array-as-single",
        "object-as-batch",
    ],
)
def test_malformed_requests(
    body: bytes,
    content_type: str | None,
    headers: dict[str, str],
    problem: type[Problem],
    now: datetime,
) -> None:
    with pytest.raises(problem):
        cloudevents.parse(body, content_type, headers, now=now)
