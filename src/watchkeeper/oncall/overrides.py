"""Overrides applied to the people on duty at one instant: add, replace, remove, swap."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from watchkeeper.oncall.model import (
    AddOverride,
    Override,
    RemoveOverride,
    ReplaceOverride,
    SwapOverride,
)

# (user, source): source is the YAML path of what put the user on duty, e.g. "overrides[1]".
Duty = tuple[str, str]


def override_source(index: int) -> str:
    return f"overrides[{index}]"


def apply_overrides(
    on_duty: Sequence[Duty], overrides: Sequence[tuple[int, Override]], at: datetime
) -> list[Duty]:
    """Apply, in list order, the overrides (with their schedule indexes) active at `at`."""
    duty = list(on_duty)
    for index, override in overrides:
        if override.start <= at < override.end:
            duty = _unique(_apply(duty, override, override_source(index)))
    return duty


def _apply(duty: list[Duty], override: Override, source: str) -> list[Duty]:
    match override:
        case AddOverride(user=user):
            return [*duty, (user, source)]
        case ReplaceOverride(user=user, replaces=replaced):
            return [(user, source) if name == replaced else (name, why) for name, why in duty]
        case RemoveOverride(user=user):
            return [(name, why) for name, why in duty if name != user]
        case SwapOverride(first=first, second=second):
            partner = {first: second, second: first}
            return [
                (partner[name], source) if name in partner else (name, why) for name, why in duty
            ]


def _unique(duty: list[Duty]) -> list[Duty]:
    """Keep each user once, at their first place (an added user may already be on duty)."""
    seen: set[str] = set()
    out: list[Duty] = []
    for name, why in duty:
        if name not in seen:
            seen.add(name)
            out.append((name, why))
    return out
