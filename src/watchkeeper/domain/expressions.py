"""Conditions in CEL (Common Expression Language), checked at config time and compiled once."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Final, TypedDict

import cel

from watchkeeper.domain.event import NormalizedEvent


class EvalContext(TypedDict):
    """What an expression sees: every variable is always present (text defaults to "")."""

    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    summary: str
    severity: str
    source: str
    service: str
    integration: str
    details: Mapping[str, Any]


VARIABLES: Final[tuple[str, ...]] = tuple(EvalContext.__annotations__)
_EMPTY: Final[dict[str, Any]] = {
    name: {} if name in ("labels", "annotations", "details") else "" for name in VARIABLES
}

# Functions the CEL runtime provides natively (cel-rust core spec); the package's extra
# string/list helpers need a per-call Context and are not offered.
FUNCTIONS: Final[frozenset[str]] = frozenset(
    {
        "size", "contains", "startsWith", "endsWith", "matches",
        "int", "uint", "double", "string", "bytes", "timestamp", "duration",
        "dyn", "type", "has",
        "getFullYear", "getMonth", "getDayOfYear", "getDayOfMonth", "getDate",
        "getDayOfWeek", "getHours", "getMinutes", "getSeconds", "getMilliseconds",
    }
)  # fmt: skip
# Type names are identifiers in CEL (`type(x) == int`), so they show up as variables.
_TYPE_NAMES: Final = frozenset(
    {"int", "uint", "double", "string", "bytes", "bool", "list", "map", "null_type", "type"}
)
# Comprehension macros bind a name (`labels.exists(k, k.startsWith("x"))`); the package
# reports it as a variable.
_BOUND = re.compile(r"\.\s*(?:all|exists_one|exists|map|filter)\s*\(\s*([A-Za-z_]\w*)\s*,")

FailureHook = Callable[[str, str], None]
"""Called with (expression source, what went wrong) when an evaluation cannot give a bool."""


def eval_context(
    *,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    summary: str | None = None,
    severity: str | None = None,
    source: str | None = None,
    service: str | None = None,
    integration: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> EvalContext:
    """A complete context; build it once per event and evaluate many expressions on it."""
    return {
        "labels": dict(labels or {}),
        "annotations": dict(annotations or {}),
        "summary": summary or "",
        "severity": severity or "",
        "source": source or "",
        "service": service or "",
        "integration": integration or "",
        "details": dict(details or {}),
    }


def event_context(
    event: NormalizedEvent, *, integration: str | None = None, service: str | None = None
) -> EvalContext:
    """The context for one normalized event; `service` defaults to the one it names."""
    return eval_context(
        labels=event.labels,
        annotations=event.annotations,
        summary=event.summary,
        severity=event.severity,
        source=event.source,
        service=service if service is not None else event.service,
        integration=integration,
        details=event.details,
    )


class Expression:
    """A compiled condition. Calling it gives a bool; a run that cannot give one (an error,
    a missing map key, a non-bool result) gives False and is counted and reported."""

    __slots__ = ("_execute", "_names", "failures", "last_failure", "on_failure", "source")

    def __init__(
        self, source: str, program: Any, names: tuple[str, ...], on_failure: FailureHook | None
    ) -> None:
        self.source = source
        self._execute: Callable[[Any], Any] = program.execute
        self._names = names
        self.on_failure = on_failure
        self.failures = 0
        self.last_failure: str | None = None

    def __call__(self, context: EvalContext) -> bool:
        return self.explain(context)[0]

    def explain(self, context: EvalContext) -> tuple[bool, str | None]:
        """The result and, when it is False for want of a bool, why (for "why not paged?")."""
        # The runtime converts every variable it is given on each call: hand it only the
        # ones the expression reads (a large `details` would otherwise cost on every rule).
        variables = {name: context.get(name, _EMPTY[name]) for name in self._names}
        try:
            value = self._execute(variables)
        except KeyError as exc:
            problem = f"no such key {exc}; test optional keys with has(), e.g. has(labels.env)"
            return False, self._failed(problem)
        except Exception as exc:  # the runtime raises several types; all mean "no answer"
            return False, self._failed(f"{type(exc).__name__}: {exc}")
        if value is True or value is False:
            return value, None
        return False, self._failed(f"gave {_kind(value)} {value!r}, not true or false")

    def _failed(self, problem: str) -> str:
        self.failures += 1
        self.last_failure = problem
        if self.on_failure is not None:
            self.on_failure(self.source, problem)
        return problem

    def __str__(self) -> str:
        return self.source

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Expression):
            return NotImplemented
        return self.source == other.source

    def __hash__(self) -> int:
        return hash(self.source)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    names = {str: "text", int: "a number", float: "a number", list: "a list", dict: "a map"}
    return names.get(type(value), f"a {type(value).__name__}")


def compile_expression(source: str, *, on_failure: FailureHook | None = None) -> Expression:
    """Compile and check `source`; a ValueError says what is wrong with it."""
    if not isinstance(source, str) or not source.strip():
        raise ValueError('an expression must be non-empty text, e.g. labels.env == "prod"')
    try:
        program = cel.compile(source)
    except ValueError as exc:
        detail = str(exc).removeprefix(f"Failed to parse expression {source!r}: ")
        raise ValueError(f"expression {source!r} does not parse: {detail}") from None
    bound = set(_BOUND.findall(source))
    unknown = sorted(set(program.variables()) - set(VARIABLES) - _TYPE_NAMES - bound)
    if unknown:
        raise ValueError(
            f"expression {source!r} uses unknown name(s) {', '.join(unknown)};"
            f" the variables are {', '.join(VARIABLES)}"
        )
    # Operators appear as `_==_`, `@in`, `!_`: only named functions need checking.
    functions = {f for f in program.functions() if f[:1].isalpha()}
    if missing := sorted(functions - FUNCTIONS):
        raise ValueError(
            f"expression {source!r} calls unknown function(s) {', '.join(missing)};"
            f" available: {', '.join(sorted(FUNCTIONS))}"
        )
    _check_gives_bool(source, program)
    names = tuple(name for name in VARIABLES if name in program.variables())
    return Expression(source, program, names, on_failure)


def _check_gives_bool(source: str, program: Any) -> None:
    """Refuse at config time what is plainly not a condition (`labels.env`, `1 + 2`).

    A trial run on an empty context cannot see every branch; whatever it misses is
    caught at run time (False, counted as a failure).
    """
    try:
        value = program.execute(eval_context())
    except Exception:  # an empty context often lacks the keys the expression reads
        return
    if value is not True and value is not False:
        raise ValueError(
            f"expression {source!r} gives {_kind(value)}, not true or false;"
            ' compare it, e.g. labels.env == "prod"'
        )
