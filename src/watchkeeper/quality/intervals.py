"""Time covered by impact intervals inside a report window, and MTBF built on it."""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

# Instants are seconds on one axis (POSIX timestamps); an end of None is still open.
Span = tuple[float, float | None]
Window = tuple[float, float]

NO_FAILURES = "no failures in window"


def _check_window(window: Window) -> Window:
    start, end = window
    if end < start:
        raise ValueError(f"window ends before it starts: {window!r}")
    return start, end


def union_length(intervals: Iterable[Span], window: Window) -> float:
    """Seconds of `window` covered by at least one interval; overlaps count once.

    Intervals are clipped to the window, an open one runs to the window's end, and one that
    ends before it starts covers nothing.
    """
    start, end = _check_window(window)
    clipped = sorted((max(s, start), min(end if e is None else e, end)) for s, e in intervals)
    total = 0.0
    run_start: float | None = None
    run_end = start
    for s, e in clipped:
        if e <= s:
            continue
        if run_start is None or s > run_end:
            if run_start is not None:
                total += run_end - run_start
            run_start, run_end = s, e
        else:
            run_end = max(run_end, e)
    if run_start is not None:
        total += run_end - run_start
    return total


class MTBF(msgspec.Struct, frozen=True, kw_only=True):
    """Mean time between failures in seconds, with what it was computed from."""

    seconds: float | None
    n_tickets: int
    window_seconds: float
    impact_seconds: float
    reason: str | None = None


def mtbf(impacts: Iterable[Span], window: Window, *, n_tickets: int) -> MTBF:
    """(window − union of impact intervals) ÷ tickets; None with a reason when there are none.

    `impacts` are the impact_start → mitigated spans of the same `n_tickets` tickets (already
    filtered by service and severity threshold).
    """
    if n_tickets < 0:
        raise ValueError(f"n_tickets must be ≥ 0, got {n_tickets}")
    start, end = _check_window(window)
    impact = union_length(impacts, window)
    length = end - start
    if n_tickets == 0:
        return MTBF(
            seconds=None,
            n_tickets=0,
            window_seconds=length,
            impact_seconds=impact,
            reason=NO_FAILURES,
        )
    # The union is clipped to the window, so this only guards float rounding.
    up = max(0.0, length - impact)
    return MTBF(
        seconds=up / n_tickets, n_tickets=n_tickets, window_seconds=length, impact_seconds=impact
    )
