"""Restricted `{labels.x}` interpolation for dedup keys, group keys and titles, length-capped."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any, Final, Literal

from watchkeeper.domain.event import NormalizedEvent

SCALAR_ROOTS: Final[tuple[str, ...]] = ("service", "summary", "severity", "source", "integration")
MAP_ROOTS: Final[tuple[str, ...]] = ("labels", "annotations")
DEFAULT_MAX_LENGTH: Final = 255  # a dedup key's limit in the PagerDuty API, and ours

Overflow = Literal["cut", "hash"]
TemplateContext = Mapping[str, Any]
"""Keys are the roots: `labels`/`annotations` map to Mapping[str, str], the others to text."""

_KEY = re.compile(r"[A-Za-z0-9_.\-/]+")
_ALLOWED = ", ".join(
    [f"{{{root}.NAME}}" for root in MAP_ROOTS] + [f"{{{root}}}" for root in SCALAR_ROOTS]
)
_HASH_LENGTH: Final = 16

# A part is literal text or (root, key); key is None for the scalar roots.
_Part = str | tuple[str, str | None]


class Template:
    """A compiled template: literal text and placeholders, rendered without any evaluation."""

    __slots__ = ("_parts", "max_length", "overflow", "placeholders", "text")

    def __init__(
        self,
        text: str,
        parts: tuple[_Part, ...],
        *,
        max_length: int,
        overflow: Overflow,
    ) -> None:
        self.text = text
        self._parts = parts
        self.max_length = max_length
        self.overflow = overflow
        self.placeholders: tuple[str, ...] = tuple(
            root if key is None else f"{root}.{key}" for root, key in _placeholders(parts)
        )

    def render(self, context: TemplateContext) -> str:
        """Fill in the placeholders; a missing value renders as ""."""
        out: list[str] = []
        for part in self._parts:
            if isinstance(part, str):
                out.append(part)
                continue
            root, key = part
            value = context.get(root)
            if key is not None:
                value = value.get(key) if value else None
            if value is not None:
                out.append(value if isinstance(value, str) else str(value))
        rendered = "".join(out)
        if len(rendered) <= self.max_length:
            return rendered
        return _shorten(rendered, self.max_length, self.overflow)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Template({self.text!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Template):
            return NotImplemented
        return (self.text, self.max_length, self.overflow) == (
            other.text,
            other.max_length,
            other.overflow,
        )

    def __hash__(self) -> int:
        return hash((self.text, self.max_length, self.overflow))


def _placeholders(parts: tuple[_Part, ...]) -> list[tuple[str, str | None]]:
    return [part for part in parts if not isinstance(part, str)]


def _shorten(text: str, limit: int, overflow: Overflow) -> str:
    if overflow == "cut":
        return text[:limit]
    # Keys must stay distinct when cut: two long keys that share a prefix would merge alerts.
    digest = hashlib.sha256(text.encode()).hexdigest()[:_HASH_LENGTH]
    if limit <= _HASH_LENGTH + 1:
        return digest[:limit]
    return f"{text[: limit - _HASH_LENGTH - 1]}~{digest}"


def compile_template(
    text: str, *, max_length: int = DEFAULT_MAX_LENGTH, overflow: Overflow = "cut"
) -> Template:
    """Compile `text`; `{{` and `}}` are literal braces. Errors name the bad placeholder.

    `overflow="hash"` keeps over-long output distinct (prefix + `~` + a hash of the whole);
    use it for dedup and group keys, "cut" for titles.
    """
    if not isinstance(text, str):
        raise ValueError(f"a template must be text, got {type(text).__name__}")
    if max_length < 1:
        raise ValueError("max_length must be at least 1")
    parts: list[_Part] = []
    literal: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "{" and text.startswith("{{", i):
            literal.append("{")
            i += 2
        elif char == "}":
            if not text.startswith("}}", i):
                raise ValueError(
                    f"template {text!r}: a lone '}}' at position {i + 1}; write '}}}}' for a"
                    " literal brace"
                )
            literal.append("}")
            i += 2
        elif char == "{":
            end = text.find("}", i + 1)
            if end == -1:
                raise ValueError(
                    f"template {text!r}: '{{' at position {i + 1} is never closed; write '{{{{'"
                    " for a literal brace"
                )
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append(_placeholder(text[i + 1 : end]))
            i = end + 1
        else:
            literal.append(char)
            i += 1
    if literal:
        parts.append("".join(literal))
    return Template(text, tuple(parts), max_length=max_length, overflow=overflow)


def _placeholder(body: str) -> tuple[str, str | None]:
    shown = "{" + body + "}"
    if "{" in body:
        raise ValueError(f"placeholder {shown} contains '{{'; placeholders do not nest")
    for mark, what in ((":", "format specs are"), ("!", "conversions are"), ("[", "indexing is")):
        if mark in body:
            raise ValueError(f"placeholder {shown}: {what} not supported; allowed: {_ALLOWED}")
    root, dot, key = body.strip().partition(".")
    if root in SCALAR_ROOTS:
        if dot:
            raise ValueError(f"placeholder {shown}: {root} has no fields; write {{{root}}}")
        return (root, None)
    if root in MAP_ROOTS:
        if not _KEY.fullmatch(key):
            raise ValueError(
                f"placeholder {shown} needs a name after '{root}.': letters, digits, '_', '.',"
                " '-', '/'"
            )
        return (root, key)
    raise ValueError(f"placeholder {shown} is unknown; allowed: {_ALLOWED}")


def template_context(
    event: NormalizedEvent, *, integration: str, service: str | None = None
) -> dict[str, Any]:
    """The values a template sees for one event; `service` defaults to the one it names."""
    return {
        "labels": event.labels,
        "annotations": event.annotations,
        "summary": event.summary,
        "severity": event.severity,
        "source": event.source,
        "service": service if service is not None else event.service,
        "integration": integration,
    }
