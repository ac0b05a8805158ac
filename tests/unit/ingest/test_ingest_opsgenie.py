"""Opsgenie Alert API: create, acknowledge and close by alias; priorities; bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from watchkeeper.errors import InvalidPayload, UnsupportedMediaType
from watchkeeper.ingest.adapters import opsgenie
from watchkeeper.ingest.adapters.base import MAX_DEDUP_KEY

ALIAS = {"identifierType": "alias"}


def _encode(value: Any) -> bytes:
    return json.dumps(value).encode()


def test_documented_create(payload: Callable[[str], bytes], now: datetime) -> None:
    [event] = opsgenie.parse_create(payload("opsgenie_create"), "application/json", now=now).events

    assert event.action == "trigger"
    assert event.summary == "An example alert message"
    assert event.dedup_key == "Life is too short for no alias"
    assert event.severity == "critical"  # P1
    assert event.annotations == {"description": "Every alert needs a description"}
    assert event.labels == {
        "key1": "value1",
        "key2": "value2",
        "tags": "OverwriteQuietHours,Critical",
        "entity": "An example entity",
    }
    assert event.details["tags"] == ["OverwriteQuietHours", "Critical"]
    assert event.details["properties"] == {"key1": "value1", "key2": "value2"}
    assert event.details["responders"][1] == {"name": "NOC", "type": "team"}
    assert event.details["actions"] == ["Restart", "AnExampleAction"]
    assert event.details["priority"] == "P1"
    assert event.raw["alias"] == "Life is too short for no alias"


@pytest.mark.parametrize(
    "priority, severity",
    [
        ("P1", "critical"),
        ("P2", "high"),
        ("P3", "warning"),
        ("P4", "info"),
        ("P5", "info"),
        ("p2", "high"),
        (None, "warning"),
    ],
    ids=["P1", "P2", "P3", "P4", "P5", "lower-case", "default-P3"],
)
def test_priority_mapping(priority: str | None, severity: str, now: datetime) -> None:
    alert = {"message": "m"} | ({"priority": priority} if priority else {})

    [event] = opsgenie.parse_create(_encode(alert), None, now=now).events

    assert event.severity == severity


def test_without_alias_the_message_is_the_identity(now: datetime) -> None:
    first = opsgenie.parse_create(_encode({"message": "disk full"}), None, now=now).events[0]
    again = opsgenie.parse_create(_encode({"message": "disk full"}), None, now=now).events[0]
    other = opsgenie.parse_create(_encode({"message": "cpu hot"}), None, now=now).events[0]

    assert first.dedup_key == again.dedup_key != other.dedup_key


def test_long_alias_is_hashed_the_same_way_for_create_and_close(now: datetime) -> None:
    alias = "a" * 400  # Opsgenie allows 512
    created = opsgenie.parse_create(_encode({"message": "m", "alias": alias}), None, now=now)
    closed = opsgenie.parse_action(alias, "close", b"", None, ALIAS, now=now)

    key = created.events[0].dedup_key
    assert key is not None and len(key) <= MAX_DEDUP_KEY
    assert closed.events[0].dedup_key == key


def test_details_numbers_become_strings(now: datetime) -> None:
    body = _encode({"message": "m", "details": {"count": 3, "ok": False, "service": "checkout"}})

    [event] = opsgenie.parse_create(body, None, now=now).events

    assert event.labels == {"count": "3", "ok": "false", "service": "checkout"}
    assert event.service == "checkout"


@pytest.mark.parametrize(
    "alert, field",
    [
        ({}, "message"),
        ({"message": ""}, "message"),
        ({"message": "m" * 131}, "message"),
        ({"message": 1}, "message"),
        ({"message": "m", "priority": "P6"}, "priority"),
        ({"message": "m", "priority": "high"}, "priority"),
        ({"message": "m", "alias": "a" * 513}, "alias"),
        ({"message": "m", "tags": "not-a-list"}, "tags"),
        ({"message": "m", "tags": [1]}, "tags[0]"),
        ({"message": "m", "details": {"nested": {"a": 1}}}, "details.nested"),
        ({"message": "m", "details": {f"k{i}": "v" for i in range(200)}}, "details"),
        ({"message": "m", "details": {"k": "v" * 5000}}, "details.k"),
        ({"message": "m", "description": "d" * 15001}, "description"),
    ],
    ids=[
        "missing-message",
        "blank-message",
        "message-over-130",
        "message-not-string",
        "unknown-priority",
        "priority-word",
        "alias-over-512",
        "tags-not-list",
        "tag-not-string",
        "nested-detail",
        "too-many-details",
        "detail-too-long",
        "description-too-long",
    ],
)
def test_invalid_creates_name_the_field(alert: Any, field: str, now: datetime) -> None:
    with pytest.raises(InvalidPayload) as caught:
        opsgenie.parse_create(_encode(alert), None, now=now)

    assert caught.value.field == field


@pytest.mark.parametrize(
    "action, expected",
    [("acknowledge", "acknowledge"), ("close", "resolve")],
    ids=["acknowledge", "close"],
)
def test_documented_actions(
    action: str, expected: str, payload: Callable[[str], bytes], now: datetime
) -> None:
    body = payload("opsgenie_action")

    [event] = opsgenie.parse_action(
        "Life is too short for no alias", action, body, "application/json", ALIAS, now=now
    ).events

    assert event.action == expected
    assert event.dedup_key == "Life is too short for no alias"
    assert event.source == "AWS Lambda"
    assert event.details == {"user": "Monitoring Script", "note": "Action executed via Alert API"}
    assert event.summary == "Action executed via Alert API"


def test_action_body_is_optional(now: datetime) -> None:
    [event] = opsgenie.parse_action("x", "close", b"", None, ALIAS, now=now).events

    assert (event.action, event.dedup_key, event.details) == ("resolve", "x", {})


@pytest.mark.parametrize(
    "alias, action, body, query, field",
    [
        ("x", "close", b"", {}, "identifierType"),
        ("x", "close", b"", {"identifierType": "id"}, "identifierType"),
        ("x", "close", b"", {"identifierType": "tiny"}, "identifierType"),
        ("x", "snooze", b"", ALIAS, "action"),
        ("", "close", b"", ALIAS, "alias"),
        ("x", "close", b"[]", ALIAS, None),
        ("x", "close", b'{"note": 5}', ALIAS, "note"),
        ("x", "close", b"{", ALIAS, "body"),
    ],
    ids=[
        "no-identifierType",
        "by-id",
        "by-tiny-id",
        "unknown-action",
        "blank-alias",
        "body-not-object",
        "note-not-string",
        "invalid-json",
    ],
)
def test_invalid_actions(
    alias: str, action: str, body: bytes, query: dict[str, str], field: str | None, now: datetime
) -> None:
    with pytest.raises(InvalidPayload) as caught:
        opsgenie.parse_action(alias, action, body, "application/json", query, now=now)

    assert caught.value.field == field


def test_wrong_content_type(now: datetime) -> None:
    with pytest.raises(UnsupportedMediaType):
        opsgenie.parse_create(b'{"message": "m"}', "text/plain", now=now)
    with pytest.raises(UnsupportedMediaType):
        opsgenie.parse_action("x", "close", b"{}", "text/plain", ALIAS, now=now)


def test_response_bodies() -> None:
    assert opsgenie.accepted_body("43a29c5c-3dbf-4fa4-9c26-f4f71023e120") == {
        "result": "Request will be processed",
        "took": 0.0,
        "requestId": "43a29c5c-3dbf-4fa4-9c26-f4f71023e120",
    }
    assert opsgenie.error_body("Request body is not processable.", "r", {"message": "empty"}) == {
        "message": "Request body is not processable.",
        "took": 0.0,
        "requestId": "r",
        "errors": {"message": "empty"},
    }
