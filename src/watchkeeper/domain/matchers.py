"""Label matchers (`=`, `!=`, `=~`, `!~`), parsed from text and compiled once."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, cast

MatchOp = Literal["=", "!=", "=~", "!~"]
OPS: Final[tuple[MatchOp, ...]] = ("=", "!=", "=~", "!~")

LabelPredicate = Callable[[Mapping[str, str]], bool]

# Prometheus label names, plus the `.`, `-` and `/` of Kubernetes-style names
# (`app.kubernetes.io/name`); none of them can be mistaken for an operator.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-/]*")
_TEXT = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_.\-/]*)\s*(=~|!~|!=|=)\s*(.*?)\s*", re.DOTALL)
_UNQUOTED_BAD = re.compile(r"[\s\",]")
_ESCAPES: Final[dict[str, str]] = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}


@dataclass(frozen=True, slots=True)
class Matcher:
    """One condition on one label; a missing label reads as "" (as in Alertmanager)."""

    name: str
    op: MatchOp
    value: str
    _regex: re.Pattern[str] | None = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.fullmatch(self.name):
            raise ValueError(
                f"label name {self.name!r} is not valid: use letters, digits, '_', '.', '-', '/',"
                " starting with a letter or '_'"
            )
        if self.op not in OPS:
            raise ValueError(f"operator {self.op!r} is not one of {', '.join(OPS)}")
        if not isinstance(self.value, str):
            raise ValueError(
                f"value of {self.name!r} must be text, got {type(self.value).__name__}"
            )
        if self.op in ("=~", "!~"):
            try:
                # fullmatch anchors at both ends, like Alertmanager's ^(?:value)$.
                regex = re.compile(self.value)
            except re.error as exc:
                raise ValueError(
                    f"regular expression {self.value!r} of {self.name!r} is invalid: {exc}"
                ) from None
            object.__setattr__(self, "_regex", regex)

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self._regex is None:
            return (actual == self.value) is (self.op == "=")
        return (self._regex.fullmatch(actual) is not None) is (self.op == "=~")

    def __str__(self) -> str:
        return f"{self.name}{self.op}{quote(self.value)}"


def quote(value: str) -> str:
    """Double-quote a value so `parse_matcher` reads it back unchanged."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n").replace("\t", "\\t") + '"'


def _unquote(body: str, whole: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            # Unknown escapes stay as written, so `"Disk\.full"` keeps its regex escape.
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
            i += 2
            continue
        if char == '"':
            raise ValueError(f"matcher {whole!r}: a '\"' inside a quoted value must be escaped")
        out.append(char)
        i += 1
    return "".join(out)


def parse_matcher(text: str) -> Matcher:
    """Parse `name=value`, `name!="value"`, `alertname=~"Disk.*"`, `env!~"dev|test"`."""
    if not isinstance(text, str):
        raise ValueError(f"a matcher must be text like 'env=\"prod\"', got {type(text).__name__}")
    found = _TEXT.fullmatch(text)
    if found is None:
        raise ValueError(
            f"matcher {text!r} is not of the form name OP value, with OP one of {', '.join(OPS)}"
            ' (e.g. alertname=~"Disk.*")'
        )
    name, op, raw = found.groups()
    if raw.startswith('"'):
        if len(raw) < 2 or not raw.endswith('"') or _odd_tail(raw):
            raise ValueError(f"matcher {text!r}: the quoted value has no closing '\"'")
        value = _unquote(raw[1:-1], text)
    else:
        bad = _UNQUOTED_BAD.search(raw)
        if bad is not None:
            raise ValueError(
                f"matcher {text!r}: value {raw!r} contains {bad.group()!r}; put it in double quotes"
            )
        if raw[:1] in ("=", "~"):
            raise ValueError(
                f"matcher {text!r}: value {raw!r} starts with {raw[0]!r}; operators are"
                f" {', '.join(OPS)} (quote the value if {raw[0]!r} belongs to it)"
            )
        value = raw
    return Matcher(name, cast(MatchOp, op), value)


def _odd_tail(raw: str) -> bool:
    """Whether the final quote is escaped (an odd run of backslashes before it)."""
    run = len(raw) - 1 - len(raw[:-1].rstrip("\\"))
    return run % 2 == 1


def matcher_from_mapping(data: Mapping[str, Any]) -> Matcher:
    """Build a matcher from `{name, op, value}` (op defaults to "=") or from Alertmanager's
    API shape `{name, value, isRegex, isEqual}`."""
    keys = set(data)
    allowed = {"name", "op", "value", "isRegex", "isEqual"}
    if unknown := sorted(keys - allowed):
        raise ValueError(f"unknown matcher field(s) {', '.join(unknown)}; use name, op, value")
    if missing := sorted({"name", "value"} - keys):
        raise ValueError(f"matcher needs {' and '.join(missing)}")
    if "op" in keys and keys & {"isRegex", "isEqual"}:
        raise ValueError("give either op or isRegex/isEqual, not both")
    op = data.get("op", "=")
    if keys & {"isRegex", "isEqual"}:
        regex, equal = data.get("isRegex", False), data.get("isEqual", True)
        if not isinstance(regex, bool) or not isinstance(equal, bool):
            raise ValueError("isRegex and isEqual must be true or false")
        op = {(False, True): "=", (False, False): "!=", (True, True): "=~", (True, False): "!~"}[
            (regex, equal)
        ]
    return Matcher(data["name"], op, data["value"])


def as_matcher(item: object) -> Matcher:
    """Accept a Matcher, its text form or its mapping form (what config and API bodies hold)."""
    if isinstance(item, Matcher):
        return item
    if isinstance(item, str):
        return parse_matcher(item)
    if isinstance(item, Mapping):
        return matcher_from_mapping(item)
    raise ValueError(
        f"a matcher is text like 'env=\"prod\"' or {{name, op, value}}; got {type(item).__name__}"
    )


def parse_matchers(items: Iterable[str | Mapping[str, Any]]) -> tuple[Matcher, ...]:
    """Parse several matchers (text or mapping form); the error names the bad one's position."""
    out = []
    for index, item in enumerate(items):
        try:
            out.append(as_matcher(item))
        except ValueError as exc:
            raise ValueError(f"matcher {index + 1}: {exc}") from None
    return tuple(out)


def compile_matchers(matchers: Iterable[Matcher]) -> LabelPredicate:
    """One predicate that is true when every matcher matches (no matchers: always true)."""
    checks = tuple(_compile_one(m) for m in matchers)
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]

    def all_match(labels: Mapping[str, str]) -> bool:
        # A plain loop: all() over a generator costs about twice as much per call here.
        for check in checks:  # noqa: SIM110
            if not check(labels):
                return False
        return True

    return all_match


def _always(labels: Mapping[str, str]) -> bool:
    return True


def _compile_one(matcher: Matcher) -> LabelPredicate:
    # One specialised closure per operator keeps the hot path free of branching on op.
    name, value, regex = matcher.name, matcher.value, matcher._regex
    if matcher.op == "=":
        return lambda labels: labels.get(name, "") == value
    if matcher.op == "!=":
        return lambda labels: labels.get(name, "") != value
    assert regex is not None
    fullmatch = regex.fullmatch
    if matcher.op == "=~":
        return lambda labels: fullmatch(labels.get(name, "")) is not None
    return lambda labels: fullmatch(labels.get(name, "")) is None


def format_matchers(matchers: Iterable[Matcher]) -> str:
    """Render a set as Alertmanager does: `{alertname="X", env=~"prod|stage"}`."""
    return "{" + ", ".join(str(m) for m in matchers) + "}"


def matches_empty(matcher: Matcher) -> bool:
    """Whether the matcher also matches a missing label (it cannot narrow a silence alone)."""
    return matcher.matches({})
