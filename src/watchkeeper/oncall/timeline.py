"""A schedule's final answer: who is on duty at an instant, and the shifts over a window."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise

from watchkeeper.oncall.layers import Piece, layer_pieces, layer_user_at
from watchkeeper.oncall.model import Override, Schedule, Shift
from watchkeeper.oncall.overrides import Duty, apply_overrides
from watchkeeper.oncall.wall_clock import as_utc


def oncall_at(schedule: Schedule, at: datetime) -> list[str]:
    """Everyone on duty at `at`, in order (the layer's user, then added people), no repeats."""
    instant = as_utc(at, "at")
    base: list[Duty] = []
    # Later layers take precedence wherever they have someone on duty.
    for index in reversed(range(len(schedule.layers))):
        user = layer_user_at(schedule.layers[index], schedule.time_zone, instant)
        if user is not None:
            base = [(user, layer_source(index))]
            break
    duty = apply_overrides(base, _overrides_within(schedule, instant, instant), instant)
    return [user for user, _ in duty]


def shifts(schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    """The final shifts over [start, end), clipped to it, sorted by start.

    A user's consecutive pieces that touch are merged into one shift, whichever layers or
    overrides produced them; `Shift.sources` lists those.
    """
    low, high = as_utc(start, "start"), as_utc(end, "end")
    if high < low:
        raise ValueError("end: must not be before start")
    per_layer = [layer_pieces(layer, schedule.time_zone, low, high) for layer in schedule.layers]
    overrides = _overrides_within(schedule, low, high)
    cuts = {low, high}
    for pieces in per_layer:
        cuts.update(moment for piece in pieces for moment in (piece.start, piece.end))
    for _, override in overrides:
        cuts.update(moment for moment in (override.start, override.end) if low < moment < high)
    builder = _ShiftBuilder()
    cursors = [_Cursor(pieces) for pieces in per_layer]
    for segment_start, segment_end in pairwise(sorted(cuts)):
        base: list[Duty] = []
        for index in reversed(range(len(cursors))):
            user = cursors[index].user_at(segment_start)
            if user is not None:
                base = [(user, layer_source(index))]
                break
        for duty in apply_overrides(base, overrides, segment_start):
            builder.add(duty, segment_start, segment_end)
    return builder.shifts()


def layer_source(index: int) -> str:
    return f"layers[{index}]"


def _overrides_within(
    schedule: Schedule, start: datetime, end: datetime
) -> list[tuple[int, Override]]:
    """The overrides (with their indexes) that touch [start, end], or the instant `start`."""
    return [
        (index, override)
        for index, override in enumerate(schedule.overrides)
        if override.start <= end and override.end > start
    ]


class _Cursor:
    """Walks one layer's sorted pieces forward as the segments advance."""

    def __init__(self, pieces: list[Piece]) -> None:
        self._pieces = pieces
        self._next = 0

    def user_at(self, at: datetime) -> str | None:
        while self._next < len(self._pieces) and self._pieces[self._next].end <= at:
            self._next += 1
        if self._next < len(self._pieces) and self._pieces[self._next].start <= at:
            return self._pieces[self._next].user
        return None


@dataclass
class _Open:
    user: str
    start: datetime
    end: datetime
    sources: list[str] = field(default_factory=list)


class _ShiftBuilder:
    """Collects (user, segment) pairs in time order, merging a user's touching segments."""

    def __init__(self) -> None:
        self._all: list[_Open] = []
        self._latest: dict[str, _Open] = {}

    def add(self, duty: Duty, start: datetime, end: datetime) -> None:
        user, source = duty
        latest = self._latest.get(user)
        if latest is None or latest.end != start:
            latest = _Open(user, start, end)
            self._all.append(latest)
            self._latest[user] = latest
        latest.end = end
        if source not in latest.sources:
            latest.sources.append(source)

    def shifts(self) -> list[Shift]:
        return [Shift(o.user, o.start, o.end, tuple(o.sources)) for o in self._all]
