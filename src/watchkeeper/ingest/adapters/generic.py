"""The generic format for scripts and curl: a small JSON object or a flat form."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

import msgspec

from watchkeeper.domain.event import Action, Link, NormalizedEvent
from watchkeeper.errors import InvalidPayload
from watchkeeper.ingest.adapters.base import (
    MAX_DEDUP_KEY,
    MAX_LABEL_VALUE,
    MAX_SUMMARY,
    Parsed,
    check_labels,
)
from watchkeeper.ingest.adapters.decoding import (
    MAX_NAME,
    check_size,
    convert,
    decode_json,
    form_object,
    links_from,
    optional_text,
    parse_form,
    parse_time,
    require_body_kind,
    require_text,
    safe_link,
    scalar_map,
    severity_word,
    short_hash,
)

__all__ = ["MAX_BODY", "default_dedup_key", "parse"]

MAX_BODY: Final = 512 * 1024
ACTIONS: Final[tuple[Action, ...]] = ("trigger", "acknowledge", "resolve")


class _Generic(msgspec.Struct, kw_only=True):
    summary: str | None = None
    details: Any = None
    severity: str | None = None
    service: str | None = None
    source: str | None = None
    dedup: str | None = None
    action: str | None = None
    labels: dict[str, Any] | None = None
    timestamp: str | None = None
    links: list[Any] | None = None


def parse(body: bytes, content_type: str | None, *, now: datetime) -> Parsed:
    """A JSON object, or a form with the same fields flat: `labels.x=y`, `details.x=y`,
    and `links` (or `link`) repeated."""
    del now
    check_size(body, MAX_BODY)
    if require_body_kind(content_type, form=True) == "form":
        pairs = [("links" if key == "link" else key, value) for key, value in parse_form(body)]
        data: Any = form_object(
            pairs, lists=frozenset({"links"}), maps=frozenset({"labels", "details"})
        )
    else:
        data = decode_json(body)
    event = convert(data, _Generic)
    summary = require_text(event.summary, "summary", MAX_SUMMARY)
    service = optional_text(event.service, "service", MAX_NAME)
    labels = scalar_map(event.labels, "labels")
    check_labels(labels, "labels")
    dedup = optional_text(event.dedup, "dedup", MAX_DEDUP_KEY)
    return Parsed(
        events=[
            NormalizedEvent(
                action=_action(event.action),
                summary=summary,
                severity=severity_word(event.severity, "severity"),
                dedup_key=dedup or default_dedup_key(service, summary),
                labels=labels,
                details=_details(event.details),
                source=optional_text(event.source, "source", MAX_LABEL_VALUE),
                service=service or labels.get("service") or None,
                occurred_at=parse_time(event.timestamp, "timestamp"),
                links=_links(event.links),
                raw=data,
            )
        ]
    )


def default_dedup_key(service: str | None, summary: str) -> str:
    """Without `dedup`, the same summary for the same service is the same alert."""
    return short_hash(service or "", summary)


def _action(value: str | None) -> Action:
    if value is None or not value.strip():
        return "trigger"
    for action in ACTIONS:
        if value.strip().lower() == action:
            return action
    raise InvalidPayload(
        f"unknown action {value[:40]!r}", field="action", allowed=", ".join(ACTIONS)
    )


def _details(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, dict):
        return dict(value)
    return {"details": value}  # a plain text (or list) from a script


def _links(items: list[Any] | None) -> tuple[Link, ...]:
    candidates: list[Link | None] = []
    for index, item in enumerate(items or ()):
        if isinstance(item, str):
            candidates.append(safe_link(item))
        elif isinstance(item, dict) and isinstance(item.get("href"), str):
            text = item.get("text")
            if text is not None and not isinstance(text, str):
                raise InvalidPayload(
                    "must be a string", field=f"links[{index}].text", allowed="a string"
                )
            candidates.append(safe_link(item["href"], text))
        else:
            raise InvalidPayload(
                "must be a URL or an object with href (and text)",
                field=f"links[{index}]",
                allowed='"https://..." or {"href": "https://...", "text": "..."}',
            )
    return links_from(candidates)
