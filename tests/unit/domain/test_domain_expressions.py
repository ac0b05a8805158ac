"""CEL conditions: results, compile-time checks, and run-time failures that give False."""

from __future__ import annotations

import pytest

from watchkeeper.domain.event import NormalizedEvent
from watchkeeper.domain.expressions import compile_expression, eval_context, event_context

CONTEXT = eval_context(
    labels={"env": "prod", "app": "payments-api"},
    annotations={"runbook": "https://runbooks.example/payments"},
    summary="Payment latency high",
    severity="critical",
    source="prometheus",
    service="payments",
    integration="prometheus-main",
    details={"count": 7, "region": "eu"},
)

TRUE_FALSE_CASES = [
    ('labels.env == "prod"', True),
    ('labels.env == "dev"', False),
    ('labels.app.startsWith("payments") && severity == "critical"', True),
    ('severity in ["critical", "high"]', True),
    ('has(labels.team)', False),
    ('has(labels.team) && labels.team == "sre"', False),
    ('summary.contains("latency")', True),
    ('summary.matches("^Payment")', True),
    ("details.count > 5", True),
    ('details.region == "us"', False),
    ('service == "payments" || source == "grafana"', True),
    ('integration == "prometheus-main"', True),
    ('labels.exists(k, k == "env")', True),
    ('annotations.runbook.endsWith("/payments")', True),
    ("size(labels) == 2", True),
]  # fmt: skip


@pytest.mark.parametrize(
    ("source", "expected"), TRUE_FALSE_CASES, ids=[c[0] for c in TRUE_FALSE_CASES]
)
def test_evaluates(source: str, expected: bool) -> None:
    expression = compile_expression(source)
    assert expression(CONTEXT) is expected
    assert expression.failures == 0


COMPILE_ERRORS = [
    ('labels.env ==', "does not parse"),
    ('foo == 1', "unknown name(s) foo"),
    ('lowerAscii(summary) == "x"', "unknown function(s) lowerAscii"),
    ('"text"', "gives text, not true or false"),
    ('1 + 2', "gives a number"),
    ('', "non-empty"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("source", "message"), COMPILE_ERRORS, ids=[c[0] or "empty" for c in COMPILE_ERRORS]
)
def test_compile_errors(source: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        compile_expression(source)
    assert message in str(caught.value)


RUNTIME_FAILURES = [
    ('labels.team == "sre"', "no such key 'team'"),
    ("labels.env", "gave text 'prod', not true or false"),
    ('details.count + "x" == 1', "TypeError"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("source", "problem"), RUNTIME_FAILURES, ids=[c[0] for c in RUNTIME_FAILURES]
)
def test_runtime_failure_is_false_and_reported(source: str, problem: str) -> None:
    seen: list[tuple[str, str]] = []
    expression = compile_expression(source, on_failure=lambda src, why: seen.append((src, why)))
    assert expression(CONTEXT) is False
    value, why = expression.explain(CONTEXT)
    assert value is False and why is not None and problem in why
    assert expression.failures == 2
    assert expression.last_failure == why
    assert seen == [(source, why), (source, why)]


def test_comprehension_variables_are_not_unknown_names() -> None:
    expression = compile_expression('labels.all(name, name != "secret")')
    assert expression(CONTEXT) is True


def test_event_context_fills_every_variable() -> None:
    event = NormalizedEvent(action="trigger", summary="x", labels={"env": "prod"})
    context = event_context(event, integration="am")
    assert context["source"] == "" and context["service"] == "" and context["details"] == {}
    assert context["integration"] == "am"
    assert compile_expression('labels.env == "prod" && source == ""')(context) is True


def test_equality_by_source() -> None:
    assert compile_expression("true") == compile_expression("true")
    assert str(compile_expression("true")) == "true"


def test_a_partial_context_reads_missing_variables_as_empty() -> None:
    expression = compile_expression('labels.env == "prod" && summary == "" && !has(details.x)')
    assert expression({"labels": {"env": "prod"}}) is True  # type: ignore[typeddict-item]
    assert expression.failures == 0
