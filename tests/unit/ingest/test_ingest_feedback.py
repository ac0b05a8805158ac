"""User feedback reports: JSON and form, titles, the signed-in reporter, bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest

from watchkeeper.errors import InvalidPayload, UnsupportedMediaType
from watchkeeper.ingest.adapters import feedback

FORM = "application/x-www-form-urlencoded"


def _encode(value: Any) -> bytes:
    return json.dumps(value).encode()


def test_support_tool_report(now: datetime) -> None:
    body = _encode(
        {
            "reporter": "support-bot",
            "description": "Customers cannot pay with cards.\nSeen by 12 tickets since 08:40.",
            "service": "checkout",
            "severity": "critical",
            "impact_start": "2026-03-02T09:40:00+01:00",
            "contact": "support@example.com",
            "ticket_url": "https://support.example.com/t/1",
        }
    )

    [event] = feedback.parse(body, "application/json", now=now).events

    assert event.kind == "feedback"
    assert event.action == "trigger"
    assert event.dedup_key is None
    assert event.summary == "Customers cannot pay with cards."
    assert event.severity == "critical"
    assert event.service == "checkout"
    assert event.occurred_at == datetime(2026, 3, 2, 8, 40, tzinfo=UTC)
    assert event.details == {
        "description": "Customers cannot pay with cards.\nSeen by 12 tickets since 08:40.",
        "reporter": "support-bot",
        "contact": "support@example.com",
    }
    assert event.raw["ticket_url"] == "https://support.example.com/t/1"


def test_form_report_with_defaults(now: datetime) -> None:
    body = urlencode(
        {"description": "\n\n  The search page is blank  \nsince this morning"}
    ).encode()

    [event] = feedback.parse(body, FORM, now=now).events

    assert event.summary == "The search page is blank"
    assert (event.severity, event.service, event.occurred_at) == ("warning", None, None)


def test_title_wins_and_long_first_lines_are_shortened(now: datetime) -> None:
    titled = feedback.parse(_encode({"description": "d", "title": "Login broken"}), None, now=now)
    long = feedback.parse(_encode({"description": "w" * 300}), None, now=now)

    assert titled.events[0].summary == "Login broken"
    assert len(long.events[0].summary) == feedback.MAX_TITLE
    assert long.events[0].summary.endswith("…")


def test_signed_in_reporter_replaces_the_body(now: datetime) -> None:
    body = _encode({"description": "d", "reporter": "someone-else"})

    [event] = feedback.parse(body, None, now=now, reporter="alice@example.com").events

    assert event.details["reporter"] == "alice@example.com"


@pytest.mark.parametrize(
    "report, field",
    [
        ({}, "description"),
        ({"description": "  \n "}, "description"),
        ({"description": 5}, "description"),
        ({"description": "d", "severity": "apocalyptic"}, "severity"),
        ({"description": "d", "impact_start": "this morning"}, "impact_start"),
        ({"description": "d", "service": "s" * 300}, "service"),
        ({"description": "d", "title": "t" * 1025}, "title"),
    ],
    ids=[
        "missing-description",
        "blank-description",
        "description-not-string",
        "unknown-severity",
        "bad-impact-start",
        "service-too-long",
        "title-too-long",
    ],
)
def test_invalid_reports_name_the_field(report: Any, field: str, now: datetime) -> None:
    with pytest.raises(InvalidPayload) as caught:
        feedback.parse(_encode(report), None, now=now)

    assert caught.value.field == field


def test_wrong_content_type(now: datetime) -> None:
    with pytest.raises(UnsupportedMediaType):
        feedback.parse(b"description=x", "text/plain", now=now)
