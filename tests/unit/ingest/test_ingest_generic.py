"""The generic JSON and form format: fields, defaults, severity words, bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest

from watchkeeper.domain.event import Link
from watchkeeper.errors import InvalidPayload, UnsupportedMediaType
from watchkeeper.ingest.adapters import generic
from watchkeeper.ingest.adapters.base import MAX_LABELS

FORM = "application/x-www-form-urlencoded"


def _encode(value: Any) -> bytes:
    return json.dumps(value).encode()


def test_full_json_event(now: datetime) -> None:
    body = _encode(
        {
            "summary": "Backup failed on db-1",
            "details": {"exit_code": 2, "log": "/var/log/backup.log"},
            "severity": "error",
            "service": "billing",
            "dedup": "backup-db-1",
            "action": "trigger",
            "labels": {"host": "db-1", "attempt": 3, "dry_run": False},
            "timestamp": "2026-03-02T08:15:00+01:00",
            "links": [
                "https://ci.example.com/jobs/1",
                {"href": "https://wiki.example.com", "text": "Runbook"},
            ],
            "extra": "ignored",
        }
    )

    [event] = generic.parse(body, "application/json", now=now).events

    assert event.action == "trigger"
    assert event.summary == "Backup failed on db-1"
    assert event.severity == "high"
    assert event.service == "billing"
    assert event.dedup_key == "backup-db-1"
    assert event.labels == {"host": "db-1", "attempt": "3", "dry_run": "false"}
    assert event.details == {"exit_code": 2, "log": "/var/log/backup.log"}
    assert event.occurred_at == datetime(2026, 3, 2, 7, 15, tzinfo=UTC)
    assert event.links == (
        Link("https://ci.example.com/jobs/1", ""),
        Link("https://wiki.example.com", "Runbook"),
    )


def test_minimal_event_defaults(now: datetime) -> None:
    [event] = generic.parse(b'{"summary": "it broke"}', None, now=now).events

    assert (event.action, event.severity, event.labels, event.details) == (
        "trigger",
        "warning",
        {},
        {},
    )
    assert event.dedup_key == generic.default_dedup_key(None, "it broke")


def test_default_dedup_key_depends_on_service_and_summary() -> None:
    keys = {
        generic.default_dedup_key(service, summary)
        for service, summary in [(None, "a"), ("s", "a"), ("s", "b"), ("sa", ""), ("", "sa")]
    }

    assert len(keys) == 5
    assert generic.default_dedup_key(None, "a") == generic.default_dedup_key("", "a")


@pytest.mark.parametrize(
    "word, severity",
    [
        ("critical", "critical"),
        ("high", "high"),
        ("warning", "warning"),
        ("info", "info"),
        ("error", "high"),
        ("CRITICAL", "critical"),
    ],
    ids=["critical", "high", "warning", "info", "pagerduty-error", "upper-case"],
)
def test_severity_words(word: str, severity: str, now: datetime) -> None:
    [event] = generic.parse(_encode({"summary": "s", "severity": word}), None, now=now).events

    assert event.severity == severity


@pytest.mark.parametrize(
    "action", ["trigger", "acknowledge", "resolve", "RESOLVE"], ids=lambda a: str(a)
)
def test_actions(action: str, now: datetime) -> None:
    [event] = generic.parse(_encode({"summary": "s", "action": action}), None, now=now).events

    assert event.action == action.lower()


def test_details_may_be_plain_text(now: datetime) -> None:
    [event] = generic.parse(_encode({"summary": "s", "details": "see log"}), None, now=now).events

    assert event.details == {"details": "see log"}


def test_form_body(now: datetime) -> None:
    body = urlencode(
        [
            ("summary", "Disk almost full"),
            ("severity", "critical"),
            ("service", "storage"),
            ("labels.host", "nas-1"),
            ("labels.app.kubernetes.io/name", "minio"),
            ("details.free", "2%"),
            ("link", "https://grafana.example.com/d/1"),
            ("links", "https://grafana.example.com/d/2"),
            ("timestamp", "2026-03-02T08:00:00Z"),
        ]
    ).encode()

    [event] = generic.parse(body, FORM + "; charset=utf-8", now=now).events

    assert event.summary == "Disk almost full"
    assert event.severity == "critical"
    assert event.labels == {"host": "nas-1", "app.kubernetes.io/name": "minio"}
    assert event.details == {"free": "2%"}
    assert [link.href for link in event.links] == [
        "https://grafana.example.com/d/1",
        "https://grafana.example.com/d/2",
    ]
    assert event.occurred_at == datetime(2026, 3, 2, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    "event, field",
    [
        ({}, "summary"),
        ({"summary": " "}, "summary"),
        ({"summary": "s" * 1025}, "summary"),
        ({"summary": ["s"]}, "summary"),
        ({"summary": "s", "severity": "urgent"}, "severity"),
        ({"summary": "s", "action": "snooze"}, "action"),
        ({"summary": "s", "labels": ["a"]}, "labels"),
        ({"summary": "s", "labels": {"a": {"b": "c"}}}, "labels.a"),
        ({"summary": "s", "labels": {"a": None}}, "labels.a"),
        ({"summary": "s", "labels": {f"l{i}": "v" for i in range(MAX_LABELS + 1)}}, "labels"),
        ({"summary": "s", "labels": {"a": "v" * 5000}}, "labels.a"),
        ({"summary": "s", "timestamp": "last tuesday"}, "timestamp"),
        ({"summary": "s", "dedup": "d" * 256}, "dedup"),
        ({"summary": "s", "service": 5}, "service"),
        ({"summary": "s", "links": [5]}, "links[0]"),
        ({"summary": "s", "links": [{"href": "https://x", "text": 5}]}, "links[0].text"),
    ],
    ids=[
        "missing-summary",
        "blank-summary",
        "summary-too-long",
        "summary-not-string",
        "unknown-severity",
        "unknown-action",
        "labels-not-object",
        "nested-label",
        "null-label",
        "too-many-labels",
        "label-too-long",
        "bad-timestamp",
        "dedup-too-long",
        "service-not-string",
        "link-not-url-or-object",
        "link-text-not-string",
    ],
)
def test_invalid_json_names_the_field(event: Any, field: str, now: datetime) -> None:
    with pytest.raises(InvalidPayload) as caught:
        generic.parse(_encode(event), "application/json", now=now)

    assert caught.value.field == field
    if field == "severity":
        assert caught.value.allowed is not None and "critical" in caught.value.allowed


@pytest.mark.parametrize(
    "body, field",
    [
        (b"severity=info", "summary"),
        (b"summary=a&summary=b", "summary"),
        (b"summary=a&labels.x=1&labels.x=2", "labels.x"),
        (b"summary=a&details=text&details.x=1", "details"),
        (b"summary=a&labels=flat", "labels"),
        (b"summary=%FF", None),
    ],
    ids=[
        "missing-summary",
        "summary-twice",
        "label-twice",
        "details-both-ways",
        "labels-not-a-map",
        "invalid-utf8",
    ],
)
def test_invalid_forms_name_the_field(body: bytes, field: str | None, now: datetime) -> None:
    with pytest.raises(InvalidPayload) as caught:
        generic.parse(body, FORM, now=now)

    assert caught.value.field == field


@pytest.mark.parametrize(
    "content_type", ["text/plain", "multipart/form-data; boundary=x", "application/xml"]
)
def test_wrong_content_type(content_type: str, now: datetime) -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        generic.parse(b'{"summary": "s"}', content_type, now=now)

    assert caught.value.status == 415
