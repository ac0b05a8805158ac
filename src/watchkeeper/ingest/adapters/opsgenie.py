"""Opsgenie Alert API: create (POST /v2/alerts) and acknowledge/close by alias."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

import msgspec

from watchkeeper.domain.event import Action, NormalizedEvent
from watchkeeper.domain.severity import Severity
from watchkeeper.errors import InvalidPayload
from watchkeeper.ingest.adapters.base import MAX_LABEL_VALUE, Parsed, check_labels
from watchkeeper.ingest.adapters.decoding import (
    MAX_NAME,
    check_length,
    check_size,
    convert,
    decode_json,
    fit_key,
    optional_text,
    require_body_kind,
    require_text,
    scalar_map,
    short_hash,
)

__all__ = [
    "MAX_BODY",
    "MAX_MESSAGE",
    "accepted_body",
    "error_body",
    "parse",
    "parse_action",
    "parse_create",
]

MAX_BODY: Final = 512 * 1024
MAX_MESSAGE: Final = 130
MAX_ALIAS: Final = 512
MAX_DESCRIPTION: Final = 15_000
MAX_NOTE: Final = 25_000
PRIORITIES: Final[dict[str, Severity]] = {
    "P1": "critical",
    "P2": "high",
    "P3": "warning",
    "P4": "info",
    "P5": "info",
}
ACTIONS: Final[dict[str, Action]] = {"acknowledge": "acknowledge", "close": "resolve"}


class _Create(msgspec.Struct, kw_only=True):
    message: str | None = None
    alias: str | None = None
    description: str | None = None
    responders: list[Any] | None = None
    visible_to: list[Any] | None = msgspec.field(default=None, name="visibleTo")
    actions: list[str] | None = None
    tags: list[str] | None = None
    details: dict[str, Any] | None = None
    entity: str | None = None
    source: str | None = None
    priority: str | None = None
    user: str | None = None
    note: str | None = None


class _ActionBody(msgspec.Struct, kw_only=True):
    user: str | None = None
    source: str | None = None
    note: str | None = None


def parse_create(body: bytes, content_type: str | None, *, now: datetime) -> Parsed:
    """Create an alert. `alias` is the dedup key; without one, Opsgenie dedups by message,
    so the key is a hash of the message."""
    del now
    check_size(body, MAX_BODY)
    require_body_kind(content_type)
    data = decode_json(body)
    alert = convert(data, _Create)
    message = require_text(alert.message, "message", MAX_MESSAGE)
    alias = optional_text(alert.alias, "alias", MAX_ALIAS)
    description = optional_text(alert.description, "description", MAX_DESCRIPTION)
    note = optional_text(alert.note, "note", MAX_NOTE)
    source = optional_text(alert.source, "source", MAX_NAME)
    entity = optional_text(alert.entity, "entity", MAX_NAME)
    user = optional_text(alert.user, "user", MAX_NAME)
    severity = _priority(alert.priority)
    properties = scalar_map(alert.details, "details")
    check_labels(properties, "details")
    labels = dict(properties)
    # Our own fields win over a custom property of the same name.
    if alert.tags:
        labels["tags"] = ",".join(alert.tags)
        check_length(labels["tags"], "tags", MAX_LABEL_VALUE)
    if entity:
        labels["entity"] = entity
    check_labels(labels, "details")
    details: dict[str, Any] = {"priority": alert.priority or "P3"}
    for name, value in (
        ("properties", properties),
        ("tags", alert.tags),
        ("responders", alert.responders),
        ("visibleTo", alert.visible_to),
        ("actions", alert.actions),
        ("entity", entity),
        ("user", user),
        ("note", note),
    ):
        if value:
            details[name] = value
    return Parsed(
        events=[
            NormalizedEvent(
                action="trigger",
                summary=message,
                severity=severity,
                dedup_key=_alias_key(alias) if alias else short_hash(message),
                labels=labels,
                annotations={"description": description} if description else {},
                details=details,
                source=source,
                service=labels.get("service") or None,
                raw=data,
            )
        ]
    )


parse = parse_create


def parse_action(
    alias: str,
    action: str,
    body: bytes,
    content_type: str | None,
    query: Mapping[str, str],
    *,
    now: datetime,
) -> Parsed:
    """`POST /v2/alerts/{alias}/acknowledge|close?identifierType=alias`; the body
    ({user, source, note}) is optional. Only aliases identify alerts here: Opsgenie's own
    ids and tiny ids name alerts in Opsgenie, which we never issued."""
    del now
    check_size(body, MAX_BODY)
    mapped = ACTIONS.get(action)
    if mapped is None:
        raise InvalidPayload(
            f"unknown alert action {action[:40]!r}", field="action", allowed=", ".join(ACTIONS)
        )
    identifier_type = query.get("identifierType")
    if identifier_type is None or identifier_type.strip().lower() != "alias":
        raise InvalidPayload(
            "only identifierType=alias is supported (Opsgenie's default is id)"
            if identifier_type is None
            else f"identifierType {identifier_type[:40]!r} is not supported",
            field="identifierType",
            allowed="alias",
        )
    alias = require_text(alias, "alias", MAX_ALIAS)
    request = _ActionBody()
    raw: Any = {}
    if body.strip():
        require_body_kind(content_type)
        raw = decode_json(body)
        request = convert(raw, _ActionBody)
    note = optional_text(request.note, "note", MAX_NOTE)
    user = optional_text(request.user, "user", MAX_NAME)
    source = optional_text(request.source, "source", MAX_NAME)
    details = {name: value for name, value in (("user", user), ("note", note)) if value}
    return Parsed(
        events=[
            NormalizedEvent(
                action=mapped,
                summary=note or "",
                dedup_key=_alias_key(alias),
                details=details,
                source=source,
                raw=raw,
            )
        ]
    )


def accepted_body(request_id: str) -> dict[str, Any]:
    """The 202 body Opsgenie answers: the work is queued under this request id."""
    return {"result": "Request will be processed", "took": 0.0, "requestId": request_id}


def error_body(
    message: str, request_id: str, errors: dict[str, str] | None = None
) -> dict[str, Any]:
    """Opsgenie's error shape (it answers 422 for a payload it cannot process)."""
    out: dict[str, Any] = {"message": message, "took": 0.0, "requestId": request_id}
    if errors:
        out["errors"] = dict(errors)
    return out


def _priority(value: str | None) -> Severity:
    if value is None or not value.strip():
        return "warning"  # Opsgenie's default P3
    severity = PRIORITIES.get(value.strip().upper())
    if severity is None:
        raise InvalidPayload(
            f"unknown priority {value[:40]!r}", field="priority", allowed=", ".join(PRIORITIES)
        )
    return severity


def _alias_key(alias: str) -> str:
    # Opsgenie allows longer aliases than our dedup keys; create and close must agree.
    return fit_key(alias)
