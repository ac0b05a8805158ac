"""Decoding steps the adapters share: size and media type, JSON and forms, timestamps, text."""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Final, Literal, TypeVar
from urllib.parse import parse_qsl

import msgspec

from watchkeeper.domain.event import Link
from watchkeeper.domain.severity import Severity, is_known_severity, parse_severity
from watchkeeper.errors import InvalidPayload, PayloadTooLarge, UnsupportedMediaType
from watchkeeper.ingest.adapters.base import MAX_DEDUP_KEY, MAX_ITEMS, decode_error

__all__ = [
    "FORM",
    "MAX_NAME",
    "SEVERITY_WORDS",
    "check_count",
    "check_length",
    "check_size",
    "convert",
    "decode_json",
    "fit_key",
    "form_object",
    "is_json",
    "join_field",
    "links_from",
    "media_type",
    "optional_text",
    "parse_form",
    "parse_time",
    "require_body_kind",
    "require_text",
    "safe_link",
    "scalar_map",
    "severity_word",
    "short_hash",
    "truncate",
]

T = TypeVar("T")

FORM: Final = "application/x-www-form-urlencoded"
MAX_NAME: Final = 256  # service names, reporters and other short identifiers
MAX_LINKS: Final = 64
MAX_HREF: Final = 8192
MAX_LINK_TEXT: Final = 1024
MAX_FORM_FIELDS: Final = 1000
SEVERITY_WORDS: Final = "critical, high, warning, info (or PagerDuty's error)"
ELLIPSIS: Final = "…"

_MISSING = re.compile(r"Object missing required field `(?P<name>[^`]+)`")


def check_size(body: bytes, limit: int) -> None:
    """The edge stops reading at the limit; this keeps a direct caller honest too."""
    if len(body) > limit:
        raise PayloadTooLarge(
            f"body is {len(body)} bytes; at most {limit} are allowed",
            allowed=f"at most {limit} bytes",
        )


def check_count(count: int, field: str | None) -> None:
    """A request holds at most MAX_ITEMS alerts (a group, a batch)."""
    if count > MAX_ITEMS:
        raise InvalidPayload(
            f"{count} items in one request", field=field, allowed=f"at most {MAX_ITEMS} items"
        )


def media_type(content_type: str | None) -> str:
    """The media type without parameters, lower-cased; "" when the sender gave none."""
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def is_json(mtype: str) -> bool:
    return mtype == "application/json" or (
        mtype.startswith("application/") and mtype.endswith("+json")
    )


def require_body_kind(content_type: str | None, *, form: bool = False) -> Literal["json", "form"]:
    """JSON (application/json, any +json type, or no content type) or, where allowed, a form."""
    mtype = media_type(content_type)
    if mtype == "" or is_json(mtype):
        return "json"
    if form and mtype == FORM:
        return "form"
    allowed = "application/json (or a +json type)" + (f" or {FORM}" if form else "")
    raise UnsupportedMediaType(
        f"content type {mtype[:100]!r} is not accepted here", field="content-type", allowed=allowed
    )


def join_field(prefix: str, field: str | None) -> str | None:
    if not prefix:
        return field
    if not field:
        return prefix
    return prefix + field if field.startswith("[") else f"{prefix}.{field}"


def _problem(exc: msgspec.DecodeError | msgspec.ValidationError, at: str) -> InvalidPayload:
    problem = decode_error(exc)
    missing = _MISSING.match(problem.detail)
    if missing:
        # msgspec points at the enclosing object; the sender needs the missing field's name.
        problem.field = join_field(problem.field or "", missing["name"])
        problem.detail = "required field is missing"
    problem.field = join_field(at, problem.field)
    return problem


def decode_json(body: bytes, *, whole: str | None = "body") -> Any:
    """Any JSON value; every failure is an InvalidPayload (msgspec lets a few others escape).
    `whole`: the field named when the failure is not inside a value (the request body)."""
    allowed = "a JSON document"
    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        problem = _problem(exc, "")
        problem.field = problem.field or whole
        problem.allowed = allowed
        raise problem from None
    except RecursionError:
        raise InvalidPayload(
            "body is not valid JSON: nested too deeply", field=whole, allowed=allowed
        ) from None
    except UnicodeDecodeError:
        raise InvalidPayload(
            "body is not valid JSON: invalid UTF-8", field=whole, allowed=allowed
        ) from None


def convert(obj: Any, type_: type[T], *, at: str = "") -> T:
    """Check decoded JSON against a struct; `at` prefixes the field path (a batch index)."""
    try:
        return msgspec.convert(obj, type_)
    except msgspec.ValidationError as exc:
        raise _problem(exc, at) from None
    except RecursionError:
        raise InvalidPayload("nested too deeply", field=at or None) from None


def parse_form(body: bytes) -> list[tuple[str, str]]:
    """The pairs of an application/x-www-form-urlencoded body, in order."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidPayload("form body is not valid UTF-8") from None
    try:
        return parse_qsl(
            text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS, errors="strict"
        )
    except UnicodeDecodeError:
        raise InvalidPayload("a percent-encoded value is not valid UTF-8") from None
    except ValueError:
        raise InvalidPayload(
            "form body has too many fields", allowed=f"at most {MAX_FORM_FIELDS} fields"
        ) from None


def form_object(
    pairs: Iterable[tuple[str, str]],
    *,
    lists: frozenset[str] = frozenset(),
    maps: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Fold flat form pairs into the shape of the JSON body: `labels.x=y` into a map,
    repeated list fields into lists; a scalar given twice is ambiguous and refused."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        head, dot, rest = key.partition(".")
        if dot and head in maps and rest:
            target = out.setdefault(head, {})
            if not isinstance(target, dict):
                raise InvalidPayload("given both as a value and as a map", field=head)
            if rest in target:
                raise InvalidPayload("given more than once", field=key)
            target[rest] = value
        elif key in lists:
            out.setdefault(key, []).append(value)
        elif key in out:
            raise InvalidPayload("given more than once", field=key)
        else:
            out[key] = value
    return out


_OFFSET_THEN_Z = re.compile(r"[+-]\d\d:\d\dZ$")


def parse_time(value: str | None, field: str) -> datetime | None:
    """RFC 3339 / ISO 8601 to an aware UTC datetime; a time without offset is taken as UTC.
    None, "" and Go's zero time (0001-01-01T00:00:00Z, "not set") give None."""
    if value is None or not value.strip():
        return None
    try:
        return _instant(value)
    except (ValueError, OverflowError):
        raise InvalidPayload(
            f"not a valid timestamp: {value[:64]!r}",
            field=field,
            allowed="an RFC 3339 timestamp such as 2026-03-02T09:00:00Z",
        ) from None


@functools.lru_cache(maxsize=4096)
def _instant(value: str) -> datetime | None:
    """Cached: the alerts of one evaluation share their startsAt and endsAt, and Prometheus
    re-sends them unchanged (a failure raises, and is not cached)."""
    text = value.strip()
    if _OFFSET_THEN_Z.search(text):
        # "...+00:00Z": an offset and a Z both, as some clients (the PagerDuty Python client's
        # isoformat() + "Z") send; the offset says it all
        text = text[:-1]
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    parsed = parsed.astimezone(UTC)
    return None if parsed.year == 1 else parsed


def check_length(value: str, field: str, max_len: int) -> None:
    if len(value) > max_len:
        raise InvalidPayload(
            f"{len(value)} characters long",
            field=field,
            allowed=f"at most {max_len} characters",
        )


def require_text(value: str | None, field: str, max_len: int) -> str:
    if value is None or not value.strip():
        raise InvalidPayload("required field is missing or blank", field=field)
    check_length(value, field, max_len)
    return value


def optional_text(value: str | None, field: str, max_len: int) -> str | None:
    """A blank optional text is the same as an absent one."""
    if value is None or not value.strip():
        return None
    check_length(value, field, max_len)
    return value


def truncate(text: str, max_len: int) -> str:
    """Shorten a text we derived ourselves (not one the sender promised to keep short)."""
    return text if len(text) <= max_len else text[: max_len - 1] + ELLIPSIS


def scalar_map(obj: dict[str, Any] | None, field: str) -> dict[str, str]:
    """A map of strings; numbers and booleans become their JSON spelling, nesting is refused."""
    out: dict[str, str] = {}
    for key, value in (obj or {}).items():
        if isinstance(value, str):
            out[key] = value
        elif isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, int | float):
            out[key] = str(value)
        else:
            raise InvalidPayload(
                f"a {type(value).__name__ if value is not None else 'null'} value is not allowed",
                field=f"{field}.{key}",
                allowed="strings, numbers or booleans",
            )
    return out


def severity_word(word: str | None, field: str, default: Severity = "warning") -> Severity:
    """A severity a sender chose on our scale or PagerDuty's; an unknown word is an error
    (formats with a free-form `severity` label use parse_severity's default instead)."""
    if word is None or not word.strip():
        return default
    if not is_known_severity(word):
        raise InvalidPayload(f"unknown severity {word[:40]!r}", field=field, allowed=SEVERITY_WORDS)
    return parse_severity(word, default)


def short_hash(*parts: str) -> str:
    """32 hex characters of SHA-256 over the parts: a stable derived key."""
    joined = "\x1f".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.sha256(joined).hexdigest()[:32]


def fit_key(key: str) -> str:
    """A derived or foreign key that may exceed our limit keeps its identity as a hash."""
    if len(key) <= MAX_DEDUP_KEY:
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def safe_link(href: str | None, text: str | None = None) -> Link | None:
    """A link worth showing: http(s) only, since hrefs end up in the web console
    (a `javascript:` URL there would run in a responder's browser)."""
    if not href:
        return None
    href = href.strip()
    if len(href) > MAX_HREF or not href.lower().startswith(("http://", "https://")):
        return None
    return Link(href=href, text=truncate(text or "", MAX_LINK_TEXT))


def links_from(candidates: Iterable[Link | None]) -> tuple[Link, ...]:
    """Keep the usable links, in order and without repeats; links are decoration, so a bad
    one is dropped rather than failing the event."""
    out: list[Link] = []
    seen: set[str] = set()
    for link in candidates:
        if link is None or link.href in seen:
            continue
        seen.add(link.href)
        out.append(link)
        if len(out) == MAX_LINKS:
            break
    return tuple(out)
