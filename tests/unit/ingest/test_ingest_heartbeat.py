"""Heartbeat pings: empty, JSON and form bodies all resolve the missed-heartbeat alert."""

from __future__ import annotations

from datetime import datetime

import pytest

from watchkeeper.errors import InvalidPayload, PayloadTooLarge, Problem, UnsupportedMediaType
from watchkeeper.ingest.adapters import heartbeat


@pytest.mark.parametrize(
    "body, content_type, details",
    [
        (b"", None, {}),
        (b"", "text/plain", {}),
        (b"", "application/x-www-form-urlencoded", {}),
        (
            b'{"job": "nightly-backup", "duration_s": 812}',
            "application/json",
            {"job": "nightly-backup", "duration_s": 812},
        ),
        (b'"ok"', None, {"body": "ok"}),
        (b"job=backup", "application/x-www-form-urlencoded", {"job": "backup"}),
        (b"\n", "text/plain", {}),
    ],
    ids=["get", "empty-text", "curl-d-empty", "json", "json-string", "form", "newline-only"],
)
def test_pings(
    body: bytes, content_type: str | None, details: dict[str, object], now: datetime
) -> None:
    [event] = heartbeat.parse(body, content_type, now=now).events

    assert event.kind == "heartbeat"
    assert event.action == "resolve"
    assert event.dedup_key == "heartbeat"
    assert event.summary == "heartbeat ping"
    assert event.occurred_at == now
    assert event.details == details


@pytest.mark.parametrize(
    "body, content_type, problem",
    [
        (b"{", "application/json", InvalidPayload),
        (b"status ok", "text/plain", UnsupportedMediaType),
        (b"x" * (heartbeat.MAX_BODY + 1), None, PayloadTooLarge),
    ],
    ids=["invalid-json", "text-body", "too-large"],
)
def test_bad_pings(body: bytes, content_type: str, problem: type[Problem], now: datetime) -> None:
    with pytest.raises(problem):
        heartbeat.parse(body, content_type, now=now)
