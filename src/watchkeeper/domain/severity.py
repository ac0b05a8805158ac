"""The severity scale and how every sender's words map onto it."""

from __future__ import annotations

from typing import Final, Literal

Severity = Literal["critical", "high", "warning", "info"]

SEVERITIES: Final[tuple[Severity, ...]] = ("critical", "high", "warning", "info")
RANK: Final[dict[str, int]] = {"critical": 4, "high": 3, "warning": 2, "info": 1}

_WORDS: Final[dict[str, Severity]] = {
    # our own scale
    "critical": "critical",
    "high": "high",
    "warning": "warning",
    "info": "info",
    # PagerDuty
    "error": "high",
    # Alertmanager / Grafana `severity` label conventions
    "page": "critical",
    "major": "high",
    "minor": "warning",
    "none": "info",
    "low": "info",
    # common spellings
    "crit": "critical",
    "warn": "warning",
    "informational": "info",
    # Opsgenie priorities
    "p1": "critical",
    "p2": "high",
    "p3": "warning",
    "p4": "info",
    "p5": "info",
}

DEFAULT: Final[Severity] = "warning"


def parse_severity(word: str | None, default: Severity = DEFAULT) -> Severity:
    """Map a sender's severity word; unknown or missing words give `default`."""
    if word is None:
        return default
    return _WORDS.get(word.strip().lower(), default)


def is_known_severity(word: str) -> bool:
    return word.strip().lower() in _WORDS


def highest(a: Severity, b: Severity) -> Severity:
    return a if RANK[a] >= RANK[b] else b


def at_least(severity: str, threshold: str) -> bool:
    return RANK.get(severity, 0) >= RANK[threshold]
