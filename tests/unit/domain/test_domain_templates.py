"""Restricted templates: placeholders, escapes, missing values, validation and the length cap."""

from __future__ import annotations

import pytest

from watchkeeper.domain.event import NormalizedEvent
from watchkeeper.domain.templates import Overflow, compile_template, template_context

CONTEXT = {
    "labels": {"alertname": "DiskFull", "instance": "db-1", "app.kubernetes.io/name": "web"},
    "annotations": {"summary": "disk 95% full"},
    "service": "orders-db",
    "summary": "Disk full on db-1",
    "severity": "critical",
    "source": "prometheus",
    "integration": "prometheus-main",
}

RENDER_CASES = [
    ("{labels.alertname}/{labels.instance}", "DiskFull/db-1"),
    ("{service}", "orders-db"),
    ("[{severity}] {summary} ({source} via {integration})",
     "[critical] Disk full on db-1 (prometheus via prometheus-main)"),
    ("{annotations.summary}", "disk 95% full"),
    ("{labels.app.kubernetes.io/name}", "web"),
    ("{labels.missing}-{annotations.missing}", "-"),
    ("{{literal}} {{{service}}}", "{literal} {orders-db}"),
    ("no placeholders", "no placeholders"),
    ("", ""),
    ("}}{{", "}{"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"), RENDER_CASES, ids=[c[0] or "empty" for c in RENDER_CASES]
)
def test_render(text: str, expected: str) -> None:
    assert compile_template(text).render(CONTEXT) == expected


def test_missing_roots_render_empty() -> None:
    template = compile_template("{service}|{labels.x}|{source}")
    assert template.render({}) == "||"
    assert template.render({"labels": None, "source": None}) == "||"


BAD_CASES = [
    ("{foo}", "placeholder {foo} is unknown"),
    ("{labels}", "placeholder {labels} needs a name"),
    ("{labels.}", "placeholder {labels.} needs a name"),
    ("{service.name}", "placeholder {service.name}: service has no fields"),
    ("{labels.x:>10}", "format specs are not supported"),
    ("{summary!r}", "conversions are not supported"),
    ("{labels[x]}", "indexing is not supported"),
    ("{labels.__class__.__mro__}", None),  # a key, never attribute access: allowed, inert
    ("{__import__}", "placeholder {__import__} is unknown"),
    ("{}", "placeholder {} is unknown"),
    ("a } b", "a lone '}' at position 3"),
    ("a { b", "'{' at position 3 is never closed"),
    ("{labels.{x}}", "do not nest"),
]


@pytest.mark.parametrize(("text", "message"), BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_validation(text: str, message: str | None) -> None:
    if message is None:
        assert compile_template(text).render({"labels": {"__class__.__mro__": "x"}}) == "x"
        return
    with pytest.raises(ValueError) as caught:
        compile_template(text)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("overflow", "length", "expected_start"),
    [("cut", 10, "xxxxxxxxxx"), ("hash", 40, "x" * 23 + "~")],
    ids=["cut", "hash"],
)
def test_length_cap(overflow: Overflow, length: int, expected_start: str) -> None:
    template = compile_template("{summary}", max_length=length, overflow=overflow)
    out = template.render({"summary": "x" * 500})
    assert len(out) == length
    assert out.startswith(expected_start)
    assert template.render({"summary": "short"}) == "short"


def test_hash_overflow_keeps_long_keys_distinct() -> None:
    template = compile_template("{summary}", max_length=64, overflow="hash")
    first = template.render({"summary": "x" * 100 + "a"})
    second = template.render({"summary": "x" * 100 + "b"})
    assert first != second
    assert first == template.render({"summary": "x" * 100 + "a"})  # stable


def test_default_cap_is_255() -> None:
    assert len(compile_template("{summary}").render({"summary": "y" * 1000})) == 255


def test_placeholders_and_text() -> None:
    template = compile_template("{labels.a}-{service}")
    assert template.placeholders == ("labels.a", "service")
    assert str(template) == "{labels.a}-{service}"
    assert template == compile_template("{labels.a}-{service}")


def test_context_from_event() -> None:
    event = NormalizedEvent(
        action="trigger", summary="Disk full", labels={"alertname": "DiskFull"}, source="prom"
    )
    context = template_context(event, integration="am", service="orders-db")
    rendered = compile_template("{integration}/{service}/{labels.alertname}/{source}").render(
        context
    )
    assert rendered == "am/orders-db/DiskFull/prom"
