"""CloudEvents 1.0 over HTTP: structured, batched and binary content modes."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final
from urllib.parse import unquote

import msgspec

from watchkeeper.domain.event import Action, NormalizedEvent
from watchkeeper.errors import InvalidPayload, UnsupportedMediaType
from watchkeeper.ingest.adapters.base import MAX_SUMMARY, Parsed, check_labels
from watchkeeper.ingest.adapters.decoding import (
    MAX_NAME,
    check_count,
    check_size,
    convert,
    decode_json,
    fit_key,
    is_json,
    join_field,
    media_type,
    optional_text,
    parse_time,
    scalar_map,
    severity_word,
    truncate,
)

__all__ = ["BATCH", "MAX_BODY", "STRUCTURED", "parse"]

MAX_BODY: Final = 512 * 1024
STRUCTURED: Final = "application/cloudevents+json"
BATCH: Final = "application/cloudevents-batch+json"
SPECVERSION: Final = "1.0"
MAX_ATTRIBUTE: Final = 4096
ACTIONS: Final[tuple[Action, ...]] = ("trigger", "acknowledge", "resolve")
# Context attributes the spec defines; any other member is an extension attribute.
_ATTRIBUTES: Final = frozenset(
    {"id", "source", "specversion", "type", "subject", "time", "datacontenttype", "dataschema"}
)
_DATA: Final = frozenset({"data", "data_base64"})


class _Attributes(msgspec.Struct, kw_only=True):
    specversion: str | None = None
    id: str | None = None
    source: str | None = None
    type: str | None = None
    subject: str | None = None
    time: str | None = None
    datacontenttype: str | None = None
    dataschema: str | None = None
    data_base64: str | None = None


class _Data(msgspec.Struct, kw_only=True):
    """The members of `data` we read when it is an object; the rest stays in details."""

    summary: str | None = None
    message: str | None = None
    severity: str | None = None
    action: str | None = None
    labels: dict[str, Any] | None = None
    service: str | None = None


def parse(
    body: bytes, content_type: str | None, headers: Mapping[str, str], *, now: datetime
) -> Parsed:
    """Structured mode by content type (a single event or a batch); otherwise binary mode,
    where `ce-*` headers carry the attributes and the body is the data."""
    del now
    check_size(body, MAX_BODY)
    mtype = media_type(content_type)
    if mtype == STRUCTURED:
        data = decode_json(body)
        return Parsed(events=[_structured(data, at="")])
    if mtype == BATCH:
        items = convert(decode_json(body), list[Any])
        check_count(len(items), None)
        return Parsed(events=[_structured(item, at=f"[{i}]") for i, item in enumerate(items)])
    return Parsed(events=[_binary(body, mtype, content_type, headers)])


def _structured(item: Any, *, at: str) -> NormalizedEvent:
    attributes = convert(item, _Attributes, at=at)
    extensions = {k: v for k, v in item.items() if k not in _ATTRIBUTES and k not in _DATA}
    data = item.get("data")
    if attributes.data_base64 is not None:
        data = _base64_data(attributes, at)
    return _event(
        attributes,
        extensions,
        data,
        raw=item,
        name=lambda attribute: join_field(at, attribute) or attribute,
        data_field=join_field(at, "data") or "data",
    )


def _binary(
    body: bytes, mtype: str, content_type: str | None, headers: Mapping[str, str]
) -> NormalizedEvent:
    ce = {
        name.lower()[3:]: _header_value(name.lower(), value)
        for name, value in headers.items()
        if name.lower().startswith("ce-")
    }
    if not ce:
        raise UnsupportedMediaType(
            f"content type {mtype[:100]!r} without ce-* headers is not a CloudEvent",
            field="content-type",
            allowed=f"{STRUCTURED}, {BATCH}, or binary mode with ce-* headers",
        )
    attributes = _Attributes(
        specversion=ce.get("specversion"),
        id=ce.get("id"),
        source=ce.get("source"),
        type=ce.get("type"),
        subject=ce.get("subject"),
        time=ce.get("time"),
        datacontenttype=content_type,
        dataschema=ce.get("dataschema"),
    )
    extensions = {k: v for k, v in ce.items() if k not in _ATTRIBUTES}
    data = _binary_data(body, mtype)
    raw = {**ce, "datacontenttype": content_type, "data": data}
    return _event(
        attributes,
        extensions,
        data,
        raw=raw,
        name=lambda attribute: f"ce-{attribute}",
        data_field="data",  # the body
    )


def _event(
    attributes: _Attributes,
    extensions: dict[str, Any],
    data: Any,
    *,
    raw: Any,
    name: Callable[[str], str],
    data_field: str,
) -> NormalizedEvent:
    """`name` spells an attribute's field as the sender wrote it (a member or a header)."""
    _check_specversion(attributes.specversion, name("specversion"))
    event_id = _required(attributes.id, name("id"))
    source = _required(attributes.source, name("source"))
    event_type = _required(attributes.type, name("type"))
    subject = optional_text(attributes.subject, name("subject"), MAX_ATTRIBUTE)
    occurred_at = parse_time(attributes.time, name("time"))
    content = convert(data, _Data, at=data_field) if isinstance(data, dict) else _Data()
    labels = scalar_map(content.labels, f"{data_field}.labels")
    check_labels(labels, f"{data_field}.labels")
    summary = optional_text(content.summary, f"{data_field}.summary", MAX_SUMMARY)
    if summary is None:
        summary = truncate((content.message or "").strip() or event_type, MAX_SUMMARY)
    service = optional_text(content.service, f"{data_field}.service", MAX_NAME)
    context = {
        "id": event_id,
        "source": source,
        "type": event_type,
        "specversion": SPECVERSION,
    }
    for key, value in (
        ("subject", subject),
        ("time", attributes.time),
        ("datacontenttype", attributes.datacontenttype),
        ("dataschema", attributes.dataschema),
    ):
        if value:
            context[key] = value
    details: dict[str, Any] = {"cloudevent": {**context, **extensions}}
    if data is not None:
        details["data"] = data
    return NormalizedEvent(
        action=_action(content.action, event_type, f"{data_field}.action"),
        summary=summary,
        severity=severity_word(content.severity, f"{data_field}.severity"),
        dedup_key=fit_key(subject or f"{source}\x1f{event_type}"),
        labels=labels,
        details=details,
        source=source,
        service=service or labels.get("service") or None,
        occurred_at=occurred_at,
        idempotency_key=fit_key(f"{source}\x1f{event_id}"),
        raw=raw,
    )


def _check_specversion(value: str | None, field: str) -> None:
    if value is None or not value.strip():
        raise InvalidPayload("required attribute is missing", field=field, allowed=SPECVERSION)
    if value.strip() != SPECVERSION:
        raise InvalidPayload(
            f"unsupported specversion {value[:20]!r}", field=field, allowed=SPECVERSION
        )


def _required(value: str | None, field: str) -> str:
    if value is None or not value.strip():
        raise InvalidPayload("required attribute is missing or empty", field=field)
    if len(value) > MAX_ATTRIBUTE:
        raise InvalidPayload(
            f"{len(value)} characters long",
            field=field,
            allowed=f"at most {MAX_ATTRIBUTE} characters",
        )
    return value


def _action(value: str | None, event_type: str, field: str) -> Action:
    if value is None or not value.strip():
        # A common naming style for lifecycle events: com.example.alert.resolved
        return "resolve" if event_type.lower().endswith(".resolved") else "trigger"
    for action in ACTIONS:
        if value.strip().lower() == action:
            return action
    raise InvalidPayload(f"unknown action {value[:40]!r}", field=field, allowed=", ".join(ACTIONS))


def _header_value(name: str, value: str) -> str:
    """The HTTP binding percent-encodes what a header cannot carry; undo it."""
    if "%" not in value:
        return value
    try:
        return unquote(value, errors="strict")
    except UnicodeDecodeError:
        raise InvalidPayload("percent-encoding is not valid UTF-8", field=name) from None


def _binary_data(body: bytes, mtype: str) -> Any:
    """The body as data: JSON when the content type says so, text when it decodes, else
    only its size (binary payloads are not stored)."""
    if not body:
        return None
    if is_json(mtype):
        return _json_data(body, "data")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return {"bytes": len(body)}
    if mtype == "":
        # No content type: JSON when it parses (the common case), else the text itself.
        try:
            return msgspec.json.decode(body)
        except (msgspec.DecodeError, RecursionError, ValueError):
            return text
    return text


def _base64_data(attributes: _Attributes, at: str) -> Any:
    field = join_field(at, "data_base64") or "data_base64"
    try:
        decoded = base64.b64decode(attributes.data_base64 or "", validate=True)
    except (binascii.Error, ValueError):
        raise InvalidPayload("not valid base64", field=field) from None
    if is_json(media_type(attributes.datacontenttype)):
        return _json_data(decoded, field)
    try:
        return decoded.decode("utf-8")
    except UnicodeDecodeError:
        return {"bytes": len(decoded)}


def _json_data(body: bytes, field: str) -> Any:
    try:
        return decode_json(body, whole=None)
    except InvalidPayload as problem:
        problem.field = join_field(field, problem.field)
        raise
