"""Restriction windows: when, within a range of time, a restricted layer has its user on duty."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from watchkeeper.oncall.model import Restriction
from watchkeeper.oncall.wall_clock import local_instant

Interval = tuple[datetime, datetime]

_DAY = timedelta(days=1)
_TICK = timedelta(microseconds=1)


def restriction_windows(
    restrictions: Sequence[Restriction], zone: ZoneInfo, start: datetime, end: datetime
) -> list[Interval]:
    """The union of the restrictions' windows, clipped to [start, end), sorted and disjoint."""
    # A window that crosses midnight belongs to the day it starts on, so the day before `start`
    # can still reach into the range.
    first_day = start.astimezone(zone).date() - _DAY
    last_day = end.astimezone(zone).date()
    found: list[Interval] = []
    day = first_day
    while day <= last_day:
        for restriction in restrictions:
            if day.weekday() not in restriction.days:
                continue
            closing_day = day + _DAY if restriction.end <= restriction.start else day
            opens = local_instant(day, restriction.start, zone)
            closes = local_instant(closing_day, restriction.end, zone)
            if opens < end and closes > start and opens < closes:
                found.append((max(opens, start), min(closes, end)))
        day += _DAY
    return _union(found)


def within_restrictions(restrictions: Sequence[Restriction], zone: ZoneInfo, at: datetime) -> bool:
    return bool(restriction_windows(restrictions, zone, at, at + _TICK))


def _union(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
