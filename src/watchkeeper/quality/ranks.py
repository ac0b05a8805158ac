"""Exact medians and p90s of ticket durations, with their intervals, without sorting a million rows.

`stats.ranks_needed(n)` names the handful of order statistics a summary needs. Sorting every
duration to find them costs one full sort per metric; instead a uniform sample (kept anyway
for the bootstrap of `--compare-to`) tells roughly where each needed rank lies, SQL counts the
values below that neighbourhood and returns only the values inside it, already in order, and
the ranks follow by addition. The sample only guides the search: every value reported is the
exact order statistic, and when a neighbourhood misses a rank (a rare unlucky sample) that
metric falls back to a full ordered scan (`ROW_NUMBER() OVER (ORDER BY d)`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select

from watchkeeper.quality.sql import as_float, as_int, count_if, sample_condition
from watchkeeper.quality.stats import (
    MEDIAN,
    P90,
    DurationSummary,
    ranks_needed,
    summarize_durations,
    summary_from_ranks,
)
from watchkeeper.storage.tables import tickets

SAMPLE_SIZE: Final = 10_000
# Neighbourhood half-width in sample positions: this many binomial standard deviations of the
# sample count below a rank, plus a few positions so tiny samples still get slack.
_SIGMAS: Final = 4.0
_SLACK: Final = 3
# Above this share of the rows a neighbourhood is no cheaper than the full ordered scan.
_WINDOW_SHARE: Final = 0.5


@dataclass(frozen=True)
class DurationSource:
    """Durations of the tickets that match `conditions`: name → SQL value (NULL: not counted)."""

    conditions: list[ColumnElement[bool]]
    values: Mapping[str, ColumnElement[float]]


@dataclass(frozen=True)
class Summarized:
    """One duration's summary, the uniform sample it was guided by, and how it was computed."""

    summary: DurationSummary
    sample: list[float]  # ascending; every value when `fraction` is 1
    fraction: float  # share of the source's tickets the sample kept
    rows: int  # tickets in the source (with or without this duration)
    method: str  # "all values" | "sample-guided ranks" | "ordered scan"


@dataclass
class _Window:
    ranks: set[int]
    low: float | None  # None: from the smallest value
    high: float | None  # None: to the largest value
    below: int = 0


def summarize(
    conn: Connection, source: DurationSource, *, sample_size: int = SAMPLE_SIZE, seed: int = 0
) -> dict[str, Summarized]:
    """Each duration's summary (n, median, p90, their 95% intervals, labelled mean)."""
    names = list(source.values)
    totals = _totals(conn, source)
    rows = totals["*"][0]
    fraction = 1.0 if rows <= sample_size else sample_size / rows
    samples = _sample(conn, source, fraction, seed)
    out: dict[str, Summarized] = {}
    pending: dict[str, list[_Window]] = {}
    for name in names:
        n, total = totals[name]
        sample = samples[name]
        if fraction >= 1.0:
            out[name] = Summarized(summarize_durations(sample), sample, 1.0, rows, "all values")
            continue
        windows = _windows(n, sample)
        if windows is None:
            ranks = ranks_needed(n)
            summary = summary_from_ranks(n, _ordered(conn, source, name, ranks), total=total)
            out[name] = Summarized(summary, sample, fraction, rows, "ordered scan")
        else:
            pending[name] = windows
    if pending:
        _count_below(conn, source, pending)
        found = _fetch_windows(conn, source, pending)
        for name, windows in pending.items():
            n, total = totals[name]
            at = _assign(windows, found[name])
            method = "sample-guided ranks"
            if at is None:
                at = _ordered(conn, source, name, ranks_needed(n))
                method = "ordered scan"
            summary = summary_from_ranks(n, at, total=total)
            out[name] = Summarized(summary, samples[name], fraction, rows, method)
    return {name: out[name] for name in names}


def _totals(conn: Connection, source: DurationSource) -> dict[str, tuple[int, float]]:
    columns: list[Any] = [func.count()]
    for value in source.values.values():
        columns += [func.count(value), func.sum(value)]
    row = conn.execute(select(*columns).select_from(tickets).where(*source.conditions)).one()
    out = {"*": (as_int(row[0]), 0.0)}
    for i, name in enumerate(source.values):
        out[name] = (as_int(row[1 + 2 * i]), as_float(row[2 + 2 * i]))
    return out


def _sample(
    conn: Connection, source: DurationSource, fraction: float, seed: int
) -> dict[str, list[float]]:
    names = list(source.values)
    stmt = (
        select(*source.values.values())
        .select_from(tickets)
        .where(*source.conditions, sample_condition(tickets.c.id, fraction, seed))
    )
    out: dict[str, list[float]] = {name: [] for name in names}
    for row in conn.execute(stmt):
        for name, value in zip(names, row, strict=True):
            if value is not None:
                out[name].append(float(value))
    for values in out.values():
        values.sort()
    return out


def _windows(n: int, sample: list[float]) -> list[_Window] | None:
    """Value ranges around the ranks each quantile needs; None when the full scan is cheaper."""
    size = len(sample)
    if n == 0:
        return []
    if size == 0:
        return None
    windows: list[_Window] = []
    covered = 0.0
    for q in (MEDIAN, P90):
        ranks = ranks_needed(n, (q,))
        lo, hi = min(ranks), max(ranks)
        p = (lo + hi) / (2 * n)
        margin = _SIGMAS * math.sqrt(size * p * (1.0 - p)) + _SLACK
        first = math.floor((lo - 1) / n * size - margin)
        last = math.ceil(hi / n * size + margin)
        low = sample[first] if first >= 0 else None
        high = sample[last] if last < size else None
        covered += (min(last, size) - max(first, 0)) / size
        windows.append(_Window(ranks=ranks, low=low, high=high))
    return None if covered > _WINDOW_SHARE else windows


def _inside(value: ColumnElement[float], window: _Window) -> ColumnElement[bool]:
    parts: list[ColumnElement[bool]] = [value.is_not(None)]
    if window.low is not None:
        parts.append(value >= window.low)
    if window.high is not None:
        parts.append(value <= window.high)
    return and_(*parts)


def _count_below(
    conn: Connection, source: DurationSource, pending: Mapping[str, list[_Window]]
) -> None:
    """One scan counts, for every window of every duration, the values below it."""
    columns: list[Any] = []
    slots: list[_Window] = []
    for name, windows in pending.items():
        value = source.values[name]
        for window in windows:
            if window.low is not None:
                columns.append(count_if(value < window.low))
                slots.append(window)
    if not columns:
        return
    row = conn.execute(select(*columns).select_from(tickets).where(*source.conditions)).one()
    for window, below in zip(slots, row, strict=True):
        window.below = as_int(below)


def _fetch_windows(
    conn: Connection, source: DurationSource, pending: Mapping[str, list[_Window]]
) -> dict[str, list[float]]:
    """One scan returns every duration's values inside its windows, each list ascending."""
    names = list(pending)
    inside = [_inside(source.values[name], w) for name in names for w in pending[name]]
    stmt = (
        select(*(source.values[name] for name in names))
        .select_from(tickets)
        .where(*source.conditions, or_(*inside))
    )
    bounds = [
        [
            (-math.inf if w.low is None else w.low, math.inf if w.high is None else w.high)
            for w in pending[name]
        ]
        for name in names
    ]
    lists: list[list[float]] = [[] for _ in names]
    # streamed: only the values inside a window are kept
    for row in conn.execute(stmt):
        for value, limits, out in zip(row, bounds, lists, strict=True):
            if value is not None:
                for lo, hi in limits:
                    if lo <= value <= hi:
                        out.append(value)
                        break
    for values in lists:
        values.sort()
    return dict(zip(names, lists, strict=True))


def _holds(window: _Window, value: float) -> bool:
    return (window.low is None or value >= window.low) and (
        window.high is None or value <= window.high
    )


def _assign(windows: list[_Window], values: list[float]) -> dict[int, float] | None:
    """The values at the needed ranks, or None when a window missed one of its ranks."""
    at: dict[int, float] = {}
    for window in windows:
        inside = [v for v in values if _holds(window, v)]
        for rank in window.ranks:
            position = rank - window.below
            if not 1 <= position <= len(inside):
                return None
            at[rank] = inside[position - 1]
    return at


def _ordered(
    conn: Connection, source: DurationSource, name: str, ranks: Iterable[int]
) -> dict[int, float]:
    """The values at `ranks` from one ordered scan of every value."""
    wanted = sorted(ranks)
    if not wanted:
        return {}
    value = source.values[name]
    numbered = (
        select(
            value.label("d"),
            func.row_number().over(order_by=value).label("rn"),
        )
        .select_from(tickets)
        .where(*source.conditions, value.is_not(None))
        .subquery()
    )
    stmt = select(numbered.c.rn, numbered.c.d).where(numbered.c.rn.in_(wanted))
    return {int(rank): float(d) for rank, d in conn.execute(stmt)}
