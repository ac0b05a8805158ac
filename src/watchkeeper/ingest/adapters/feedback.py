"""User feedback reports (a form, a support tool, a chat bot, or a signed-in person)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

import msgspec

from watchkeeper.domain.event import NormalizedEvent
from watchkeeper.ingest.adapters.base import MAX_ANNOTATION_VALUE, MAX_SUMMARY, Parsed
from watchkeeper.ingest.adapters.decoding import (
    MAX_NAME,
    check_size,
    convert,
    decode_json,
    form_object,
    optional_text,
    parse_form,
    parse_time,
    require_body_kind,
    require_text,
    severity_word,
    truncate,
)

__all__ = ["MAX_BODY", "MAX_TITLE", "parse"]

MAX_BODY: Final = 512 * 1024
MAX_TITLE: Final = 120


class _Report(msgspec.Struct, kw_only=True):
    description: str | None = None
    title: str | None = None
    reporter: str | None = None
    contact: str | None = None
    service: str | None = None
    severity: str | None = None
    impact_start: str | None = None


def parse(
    body: bytes, content_type: str | None, *, now: datetime, reporter: str | None = None
) -> Parsed:
    """One report, JSON or form. `reporter` is the signed-in person on /api/v1/feedback;
    it replaces any reporter the body names. Each report is its own alert (no dedup key);
    reports converge by service later."""
    del now
    check_size(body, MAX_BODY)
    if require_body_kind(content_type, form=True) == "form":
        data: Any = form_object(parse_form(body))
    else:
        data = decode_json(body)
    report = convert(data, _Report)
    description = require_text(report.description, "description", MAX_ANNOTATION_VALUE)
    title = optional_text(report.title, "title", MAX_SUMMARY) or _title(description)
    who = reporter or optional_text(report.reporter, "reporter", MAX_NAME)
    contact = optional_text(report.contact, "contact", MAX_NAME)
    details: dict[str, Any] = {"description": description}
    if who:
        details["reporter"] = who
    if contact:
        details["contact"] = contact
    return Parsed(
        events=[
            NormalizedEvent(
                action="trigger",
                summary=title,
                severity=severity_word(report.severity, "severity"),
                dedup_key=None,
                details=details,
                service=optional_text(report.service, "service", MAX_NAME),
                occurred_at=parse_time(report.impact_start, "impact_start"),
                kind="feedback",
                raw=data,
            )
        ]
    )


def _title(description: str) -> str:
    """The first non-blank line of the description, shortened for a ticket title."""
    first = next((line.strip() for line in description.splitlines() if line.strip()), "")
    return truncate(first, MAX_TITLE)
