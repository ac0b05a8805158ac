"""PagerDuty Events API v2 adapter: the documented examples, the error shape, bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx2
import pytest
from pagerduty import EventsApiV2Client
from pagerduty.errors import HttpError

from watchkeeper.domain.event import Link
from watchkeeper.errors import InvalidPayload, PayloadTooLarge, Problem, UnsupportedMediaType
from watchkeeper.ingest.adapters import pagerduty

KEY = "e93facc04764012d7bfb002500d5d1a6"


def _encode(value: Any) -> bytes:
    return json.dumps(value).encode()


def _trigger(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "routing_key": KEY,
        "event_action": "trigger",
        "payload": {"summary": "disk full", "source": "db-1", "severity": "warning"},
    }
    payload = overrides.pop("payload", None)
    event.update(overrides)
    if payload is not None:
        event["payload"] = {**event["payload"], **payload}
    return event


def test_documented_trigger(payload: Callable[[str], bytes], now: datetime) -> None:
    parsed = pagerduty.parse(payload("pagerduty_trigger"), "application/json", now=now)

    assert parsed.routing_key == KEY
    [event] = parsed.events
    assert event.action == "trigger"
    assert event.summary == "DISK at 99% on machine prod-datapipe03.example.com"
    assert event.severity == "critical"
    assert event.dedup_key == "srv01/mysql"
    assert event.source == "prod-datapipe03.example.com"
    assert event.labels == {
        "source": "prod-datapipe03.example.com",
        "component": "mysql",
        "group": "prod-datapipe",
        "class": "disk",
    }
    assert event.details["free space"] == "1%"
    assert event.details["load avg"] == 0.75
    assert event.details["client"] == "Sample Monitoring Service"
    assert event.details["images"][0]["alt"] == "Example text"
    assert event.occurred_at == datetime(2015, 7, 17, 8, 42, 58, 315000, tzinfo=UTC)
    assert event.links == (
        Link("http://pagerduty.example.com", "An example link."),
        Link("https://monitoring.service.com", "Sample Monitoring Service"),
    )
    assert event.kind == "alert"
    assert "routing_key" not in event.raw, "the integration key is a secret"
    assert event.raw["dedup_key"] == "srv01/mysql"


@pytest.mark.parametrize(
    "name, action",
    [("pagerduty_acknowledge", "acknowledge"), ("pagerduty_resolve", "resolve")],
    ids=["acknowledge", "resolve"],
)
def test_documented_acknowledge_and_resolve(
    name: str, action: str, payload: Callable[[str], bytes], now: datetime
) -> None:
    [event] = pagerduty.parse(payload(name), "application/json", now=now).events

    assert (event.action, event.dedup_key) == (action, "srv01/mysql")


@pytest.mark.parametrize(
    "word, severity",
    [("critical", "critical"), ("error", "high"), ("warning", "warning"), ("info", "info")],
    ids=["critical", "error-is-high", "warning", "info"],
)
def test_severity_mapping(word: str, severity: str, now: datetime) -> None:
    body = _encode(_trigger(payload={"severity": word}))

    [event] = pagerduty.parse(body, None, now=now).events

    assert event.severity == severity


def test_trigger_without_dedup_key_gets_a_generated_one(now: datetime) -> None:
    body = _encode(_trigger())

    [event] = pagerduty.parse(body, None, now=now, new_dedup_key=lambda: "k" * 32).events
    [default] = pagerduty.parse(body, None, now=now).events

    assert event.dedup_key == "k" * 32
    assert default.dedup_key is not None and len(default.dedup_key) == 32
    int(default.dedup_key, 16)  # uuid4 hex


@pytest.mark.parametrize(
    "custom_details, details",
    [
        ({"a": 1}, {"a": 1}),
        ("free text from a script", {"custom_details": "free text from a script"}),
        ([1, 2], {"custom_details": [1, 2]}),
        (None, {}),
    ],
    ids=["object", "string", "list", "null"],
)
def test_custom_details_any_json_value(
    custom_details: Any, details: dict[str, Any], now: datetime
) -> None:
    body = _encode(_trigger(payload={"custom_details": custom_details}))

    [event] = pagerduty.parse(body, None, now=now).events

    assert event.details == details


def test_acknowledge_ignores_a_payload_severity(now: datetime) -> None:
    body = _encode(
        {
            "routing_key": KEY,
            "event_action": "acknowledge",
            "dedup_key": "k",
            "payload": {"severity": "whatever", "summary": "on it"},
        }
    )

    [event] = pagerduty.parse(body, None, now=now).events

    assert (event.action, event.summary, event.severity) == ("acknowledge", "on it", "warning")


def test_unknown_fields_are_accepted(now: datetime) -> None:
    body = _encode(_trigger(payload={"new_field": {"x": 1}}, future="yes"))

    [event] = pagerduty.parse(body, "application/json; charset=utf-8", now=now).events

    assert event.summary == "disk full"


def test_unsafe_links_are_dropped(now: datetime) -> None:
    links = [{"href": "javascript:alert(1)", "text": "x"}, {"href": "https://ok.example"}]
    body = _encode(_trigger(links=links))

    [event] = pagerduty.parse(body, None, now=now).events

    assert event.links == (Link("https://ok.example", ""),)


def _without(field: str) -> dict[str, Any]:
    event = _trigger()
    if field.startswith("payload."):
        del event["payload"][field.removeprefix("payload.")]
    else:
        del event[field]
    return event


@pytest.mark.parametrize(
    "event, field",
    [
        (_without("routing_key"), "routing_key"),
        (_trigger(routing_key="short"), "routing_key"),
        (_trigger(routing_key=""), "routing_key"),
        (_trigger(routing_key=12345), "routing_key"),
        (_without("event_action"), "event_action"),
        (_trigger(event_action="snooze"), "event_action"),
        (_without("payload"), "payload"),
        (_without("payload.summary"), "payload.summary"),
        (_trigger(payload={"summary": "   "}), "payload.summary"),
        (_trigger(payload={"summary": "x" * 1025}), "payload.summary"),
        (_trigger(payload={"summary": 5}), "payload.summary"),
        (_without("payload.source"), "payload.source"),
        (_without("payload.severity"), "payload.severity"),
        (_trigger(payload={"severity": "page"}), "payload.severity"),
        (_trigger(payload={"timestamp": "yesterday"}), "payload.timestamp"),
        (_trigger(payload={"timestamp": "0001-01-01T00:00:00+01:00"}), "payload.timestamp"),
        (_trigger(payload={"component": "c" * 5000}), "payload.component"),
        (_trigger(dedup_key="d" * 256), "dedup_key"),
        (_trigger(links=[{"text": "no href"}]), "links[0].href"),
        (_trigger(links={"href": "x"}), "links"),
        (_trigger(images=[{"href": "no src"}]), "images[0].src"),
        ({"routing_key": KEY, "event_action": "resolve"}, "dedup_key"),
        ({"routing_key": KEY, "event_action": "acknowledge", "dedup_key": ""}, "dedup_key"),
        (
            {"routing_key": KEY, "event_action": "resolve", "dedup_key": "a", "payload": []},
            "payload",
        ),
    ],
    ids=[
        "missing-routing-key",
        "short-routing-key",
        "blank-routing-key",
        "numeric-routing-key",
        "missing-action",
        "unknown-action",
        "missing-payload",
        "missing-summary",
        "blank-summary",
        "summary-too-long",
        "summary-not-string",
        "missing-source",
        "missing-severity",
        "unknown-severity",
        "bad-timestamp",
        "timestamp-out-of-range",
        "label-value-too-long",
        "dedup-key-too-long",
        "link-without-href",
        "links-not-a-list",
        "image-without-src",
        "resolve-without-dedup-key",
        "acknowledge-with-blank-dedup-key",
        "payload-not-an-object",
    ],
)
def test_invalid_events_name_the_field(event: Any, field: str, now: datetime) -> None:
    with pytest.raises(InvalidPayload) as caught:
        pagerduty.parse(_encode(event), "application/json", now=now)

    assert caught.value.field == field
    assert caught.value.status == 400


@pytest.mark.parametrize(
    "body, content_type, problem",
    [
        (b"{not json", "application/json", InvalidPayload),
        (b"", "application/json", InvalidPayload),
        (b"[]", "application/json", InvalidPayload),
        (b'{"a": "\xff"}', "application/json", InvalidPayload),
        (b"[" * 5000 + b"]" * 5000, "application/json", InvalidPayload),
        (_encode(_trigger()), "text/plain", UnsupportedMediaType),
        (_encode(_trigger()), "application/x-www-form-urlencoded", UnsupportedMediaType),
        (b" " * (pagerduty.MAX_BODY + 1), "application/json", PayloadTooLarge),
    ],
    ids=[
        "invalid-json",
        "empty-body",
        "array",
        "invalid-utf8",
        "too-deep",
        "text-plain",
        "form",
        "over-512kb",
    ],
)
def test_malformed_bodies(
    body: bytes, content_type: str, problem: type[Problem], now: datetime
) -> None:
    with pytest.raises(problem):
        pagerduty.parse(body, content_type, now=now)


def test_documented_change_event(payload: Callable[[str], bytes], now: datetime) -> None:
    parsed = pagerduty.parse_change(payload("pagerduty_change"), "application/json", now=now)

    assert parsed.events == []
    assert parsed.routing_key == "737ea619db564d41bd9824063e1f6b08"
    [change] = parsed.changes
    assert change.summary == "Build Success: Increase snapshot create timeout to 30 seconds"
    assert change.source == "prod-build-agent-i-0b148d1040d565540"
    assert change.occurred_at == datetime(2020, 7, 17, 8, 42, 58, 315000, tzinfo=UTC)
    assert change.details == {"build_state": "passed", "build_number": "2", "run_time": "1236s"}
    assert change.links == (
        Link(
            "https://buildkite.com/nathanstestorg/pagerduty-change-events-demo/builds/2",
            "View on Buildkite",
        ),
    )
    assert "routing_key" not in change.raw


@pytest.mark.parametrize(
    "event, field",
    [
        ({"payload": {"summary": "deploy"}}, "routing_key"),
        ({"routing_key": KEY}, "payload"),
        ({"routing_key": KEY, "payload": {}}, "payload.summary"),
        (
            {"routing_key": KEY, "payload": {"summary": "d", "timestamp": "now"}},
            "payload.timestamp",
        ),
    ],
    ids=["missing-routing-key", "missing-payload", "missing-summary", "bad-timestamp"],
)
def test_invalid_change_events(event: Any, field: str, now: datetime) -> None:
    with pytest.raises(InvalidPayload) as caught:
        pagerduty.parse_change(_encode(event), None, now=now)

    assert caught.value.field == field


def test_response_bodies() -> None:
    assert pagerduty.success_body("abc") == {
        "status": "success",
        "message": "Event processed",
        "dedup_key": "abc",
    }
    assert pagerduty.error_body("Event object is invalid", ["x"]) == {
        "status": "invalid event",
        "message": "Event object is invalid",
        "errors": ["x"],
    }
    problem = InvalidPayload("required field is missing or blank", field="payload.summary")
    assert pagerduty.error_body_for(problem)["errors"] == [
        "'payload.summary' required field is missing or blank"
    ]


def _fake_events_api(now: datetime, seen: list[Any]) -> httpx2.MockTransport:
    """Our parsers behind PagerDuty's URLs, answering in PagerDuty's shapes."""

    def handle(request: httpx2.Request) -> httpx2.Response:
        content_type = request.headers.get("content-type")
        try:
            if request.url.path == "/v2/change/enqueue":
                seen.append(pagerduty.parse_change(request.content, content_type, now=now))
                return httpx2.Response(
                    202, json={"status": "success", "message": "Change event processed"}
                )
            parsed = pagerduty.parse(request.content, content_type, now=now)
        except Problem as problem:
            return httpx2.Response(400, json=pagerduty.error_body_for(problem))
        seen.append(parsed)
        dedup_key = parsed.events[0].dedup_key
        assert dedup_key is not None
        return httpx2.Response(202, json=pagerduty.success_body(dedup_key))

    return httpx2.MockTransport(handle)


def test_the_official_client_works_unchanged(now: datetime) -> None:
    seen: list[Any] = []
    client = EventsApiV2Client(
        KEY, base_url="https://watchkeeper.example", transport=_fake_events_api(now, seen)
    )

    generated = client.trigger("disk full", "db-1", severity="error", custom_details={"a": 1})
    client.acknowledge(generated)
    client.resolve(generated)
    client.send_change_event(payload={"summary": "deploy 42", "source": "ci"})

    assert [p.routing_key for p in seen] == [KEY] * 4
    assert [p.events[0].action for p in seen[:3]] == ["trigger", "acknowledge", "resolve"]
    assert {p.events[0].dedup_key for p in seen[:3]} == {generated}
    assert seen[0].events[0].severity == "high"
    assert seen[3].changes[0].summary == "deploy 42"


def test_the_official_client_sees_our_errors(now: datetime) -> None:
    client = EventsApiV2Client(
        "not-a-32-character-key",
        base_url="https://watchkeeper.example",
        transport=_fake_events_api(now, []),
    )

    with pytest.raises(HttpError) as caught:
        client.trigger("disk full", "db-1")

    response = caught.value.response
    assert response is not None and response.status_code == 400
    assert "routing_key" in response.json()["errors"][0]
