"""PagerDuty Events API v2: alert events (/v2/enqueue) and change events (/v2/change/enqueue)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

import msgspec

from watchkeeper.domain.event import Action, ChangeEvent, NormalizedEvent
from watchkeeper.domain.severity import Severity
from watchkeeper.errors import InvalidPayload, Problem
from watchkeeper.ingest.adapters.base import (
    MAX_DEDUP_KEY,
    MAX_LABEL_VALUE,
    MAX_SUMMARY,
    Parsed,
    check_labels,
)
from watchkeeper.ingest.adapters.decoding import (
    check_size,
    convert,
    decode_json,
    links_from,
    optional_text,
    parse_time,
    require_body_kind,
    require_text,
    safe_link,
)

__all__ = [
    "MAX_BODY",
    "ROUTING_KEY_LENGTH",
    "error_body",
    "error_body_for",
    "parse",
    "parse_change",
    "success_body",
]

MAX_BODY: Final = 512 * 1024
ROUTING_KEY_LENGTH: Final = 32
ACTIONS: Final[tuple[Action, ...]] = ("trigger", "acknowledge", "resolve")
SEVERITIES: Final[dict[str, Severity]] = {
    "critical": "critical",
    "error": "high",
    "warning": "warning",
    "info": "info",
}


class _Link(msgspec.Struct, kw_only=True):
    href: str
    text: str | None = None


class _Image(msgspec.Struct, kw_only=True):
    src: str
    href: str | None = None
    alt: str | None = None


class _Payload(msgspec.Struct, kw_only=True):
    summary: str | None = None
    source: str | None = None
    severity: str | None = None
    timestamp: str | None = None
    component: str | None = None
    group: str | None = None
    class_: str | None = msgspec.field(default=None, name="class")
    # PagerDuty accepts any JSON value here (scripts often send a string).
    custom_details: Any = None


class _Event(msgspec.Struct, kw_only=True):
    routing_key: str | None = None
    event_action: str | None = None
    dedup_key: str | None = None
    payload: _Payload | None = None
    images: list[_Image] | None = None
    links: list[_Link] | None = None
    client: str | None = None
    client_url: str | None = None


class _ChangePayload(msgspec.Struct, kw_only=True):
    summary: str | None = None
    source: str | None = None
    timestamp: str | None = None
    custom_details: Any = None


class _Change(msgspec.Struct, kw_only=True):
    routing_key: str | None = None
    payload: _ChangePayload | None = None
    links: list[_Link] | None = None
    images: list[_Image] | None = None


def _new_dedup_key() -> str:
    return uuid.uuid4().hex


def parse(
    body: bytes,
    content_type: str | None,
    *,
    now: datetime,
    new_dedup_key: Callable[[], str] = _new_dedup_key,
) -> Parsed:
    """One Events API v2 event. A trigger without `dedup_key` gets a generated one (the
    caller answers it in the 202 body); `routing_key` is the integration key."""
    del now  # the sender's timestamp is kept as given; receipt time is the pipeline's
    check_size(body, MAX_BODY)
    require_body_kind(content_type)
    data = decode_json(body)
    event = convert(data, _Event)
    routing_key = _routing_key(event.routing_key)
    action = _action(event.event_action)
    dedup_key = optional_text(event.dedup_key, "dedup_key", MAX_DEDUP_KEY)
    if dedup_key is None:
        if action != "trigger":
            raise InvalidPayload(
                f"required for {action} (the key of the alert to {action})", field="dedup_key"
            )
        dedup_key = new_dedup_key()
    payload = event.payload
    if action == "trigger" and payload is None:
        raise InvalidPayload("required field is missing", field="payload")
    payload = payload or _Payload()
    if action == "trigger":
        summary = require_text(payload.summary, "payload.summary", MAX_SUMMARY)
        require_text(payload.source, "payload.source", MAX_LABEL_VALUE)
        severity = _severity(payload.severity, required=True)
    else:
        summary = optional_text(payload.summary, "payload.summary", MAX_SUMMARY) or ""
        severity = _severity(payload.severity, required=False)
    labels = {
        name: value
        for name, value in (
            ("source", payload.source),
            ("component", payload.component),
            ("group", payload.group),
            ("class", payload.class_),
        )
        if value
    }
    check_labels(labels, "payload")
    details = _details(payload.custom_details)
    if event.client:
        details["client"] = event.client
    if event.images:
        details["images"] = [msgspec.to_builtins(image) for image in event.images]
    links = links_from(
        [
            *(safe_link(link.href, link.text) for link in event.links or ()),
            safe_link(event.client_url, event.client),
        ]
    )
    return Parsed(
        events=[
            NormalizedEvent(
                action=action,
                summary=summary,
                severity=severity,
                dedup_key=dedup_key,
                labels=labels,
                details=details,
                source=payload.source or None,
                occurred_at=parse_time(payload.timestamp, "payload.timestamp"),
                links=links,
                raw=_without_key(data),
            )
        ],
        routing_key=routing_key,
    )


def parse_change(body: bytes, content_type: str | None, *, now: datetime) -> Parsed:
    """One change event (a deploy, a config push); it never pages."""
    del now
    check_size(body, MAX_BODY)
    require_body_kind(content_type)
    data = decode_json(body)
    change = convert(data, _Change)
    routing_key = _routing_key(change.routing_key)
    if change.payload is None:
        raise InvalidPayload("required field is missing", field="payload")
    payload = change.payload
    summary = require_text(payload.summary, "payload.summary", MAX_SUMMARY)
    source = optional_text(payload.source, "payload.source", MAX_LABEL_VALUE)
    details = _details(payload.custom_details)
    if change.images:
        details["images"] = [msgspec.to_builtins(image) for image in change.images]
    return Parsed(
        changes=[
            ChangeEvent(
                summary=summary,
                source=source,
                occurred_at=parse_time(payload.timestamp, "payload.timestamp"),
                details=details,
                links=links_from(safe_link(link.href, link.text) for link in change.links or ()),
                raw=_without_key(data),
            )
        ],
        routing_key=routing_key,
    )


def success_body(dedup_key: str) -> dict[str, Any]:
    """The 202 body PagerDuty answers (its client reads `dedup_key` from it)."""
    return {"status": "success", "message": "Event processed", "dedup_key": dedup_key}


def error_body(message: str, errors: list[str]) -> dict[str, Any]:
    """The 400 body PagerDuty answers for a bad event."""
    return {"status": "invalid event", "message": message, "errors": list(errors)}


def error_body_for(problem: Problem) -> dict[str, Any]:
    """A problem from parse() in PagerDuty's words, e.g. "'payload.summary' is missing"."""
    text = f"'{problem.field}' {problem.detail}" if problem.field else problem.detail
    if problem.allowed:
        text += f" (allowed: {problem.allowed})"
    return error_body("Event object is invalid", [text])


def _routing_key(value: str | None) -> str:
    if value is None or not value.strip():
        raise InvalidPayload(
            "required field is missing or blank (the integration key)", field="routing_key"
        )
    if len(value) != ROUTING_KEY_LENGTH:
        raise InvalidPayload(
            f"must be the {ROUTING_KEY_LENGTH}-character integration key; got {len(value)} "
            "characters",
            field="routing_key",
            allowed=f"exactly {ROUTING_KEY_LENGTH} characters",
        )
    return value


def _action(value: str | None) -> Action:
    for action in ACTIONS:
        if value == action:
            return action
    raise InvalidPayload(
        "required field is missing" if value is None else f"unknown action {value[:40]!r}",
        field="event_action",
        allowed=", ".join(ACTIONS),
    )


def _severity(value: str | None, *, required: bool) -> Severity:
    severity = SEVERITIES.get((value or "").strip().lower())
    if severity is None and not required:
        # PagerDuty reads no payload on acknowledge/resolve; neither does a ticket.
        return "warning"
    if severity is None:
        raise InvalidPayload(
            "required field is missing" if value is None else f"unknown severity {value[:40]!r}",
            field="payload.severity",
            allowed=", ".join(SEVERITIES),
        )
    return severity


def _details(custom_details: Any) -> dict[str, Any]:
    if custom_details is None:
        return {}
    if isinstance(custom_details, dict):
        return dict(custom_details)
    return {"custom_details": custom_details}


def _without_key(data: Any) -> Any:
    """The event as received, minus the integration key: raw payloads are readable by
    anyone who can see events, the key is a secret."""
    if isinstance(data, dict):
        return {name: value for name, value in data.items() if name != "routing_key"}
    return data
