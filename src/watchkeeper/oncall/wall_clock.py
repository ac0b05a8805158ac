"""Local wall times to instants in an IANA zone, with one rule for DST gaps and repeats."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def local_instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The UTC instant at which `zone` shows `wall` on `day`.

    A wall time that happens twice (autumn) gives its first occurrence (fold=0); one that does not
    happen at all (spring gap) gives the first instant after the gap, so 02:30 on the day New York
    springs forward is 03:00 EDT. This keeps hand-offs in order and leaves no gap or overlap.
    """
    first = datetime.combine(day, wall.replace(tzinfo=None, fold=0), tzinfo=zone)
    second = first.replace(fold=1)
    first_offset, second_offset = first.utcoffset(), second.utcoffset()
    assert first_offset is not None and second_offset is not None  # a ZoneInfo always answers
    if first_offset >= second_offset:
        # Same offsets: an ordinary wall time. fold=0 ahead of fold=1: a repeated wall time,
        # and fold=0 is its earlier occurrence.
        return first.astimezone(UTC)
    # In a gap PEP 495 reads fold=0 with the offset from before the transition and fold=1 with
    # the one after, so the transition lies between the two readings.
    return _transition(
        after=first.astimezone(UTC), before=second.astimezone(UTC), old=first_offset, zone=zone
    )


def _transition(*, before: datetime, after: datetime, old: timedelta, zone: ZoneInfo) -> datetime:
    """The first instant in (before, after] whose offset is no longer `old` (bisection)."""
    # Zone transitions fall on whole seconds, so bisecting whole seconds is exact.
    low, high = int(before.timestamp()), math.ceil(after.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == old:
            low = middle
        else:
            high = middle
    return datetime.fromtimestamp(high, UTC)


def as_utc(instant: datetime, field: str) -> datetime:
    """`instant` in UTC; naive datetimes are refused because their meaning is a guess."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{field}: needs a timezone-aware datetime, got {instant.isoformat()}")
    return instant.astimezone(UTC)
