"""Exact medians and p90s of ticket durations, with their intervals, without sorting a million rows.

`stats.ranks_needed(n)` names the handful of order statistics a summary needs. Sorting every
duration to find them costs one full sort per metric; instead a uniform sample (kept anyway
for the bootstrap of `--compare-to`) tells roughly where each needed rank lies, SQL counts the
values below that neighbourhood and returns only the values inside it, and the ranks follow
by addition. The sample only guides the search: every value reported is the exact order
statistic, and when a neighbourhood misses a rank (a rare unlucky sample) that metric falls
back to a full ordered scan (`ROW_NUMBER() OVER (ORDER BY d)`).

Three scans of the tickets in all, whatever the number of durations: the sample; one
aggregate (counts, sums, and the count below each neighbourhood); the values inside the
neighbourhoods. A scope small enough to be sampled whole needs only the first.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import ColumnElement, Connection, and_, case, func, or_, select

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
_SIGMAS: Final = 3.5
_SLACK: Final = 3
# Above this share of the rows a neighbourhood is no cheaper than the full ordered scan.
_WINDOW_SHARE: Final = 0.5


@dataclass(frozen=True)
class DurationSource:
    """Durations of the tickets that match `conditions`: name → SQL value (NULL: not counted).
    `window` is the part of the conditions the time index can count alone (it sizes the
    sample; the other conditions can only make it smaller)."""

    conditions: Sequence[ColumnElement[bool]]
    values: Mapping[str, ColumnElement[float]]
    window: Sequence[ColumnElement[bool]] = ()


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
    quantile: float
    low: float | None  # None: from the smallest value
    high: float | None  # None: to the largest value
    below: int = 0  # values under `low`, counted in SQL


def summarize(
    conn: Connection, source: DurationSource, *, sample_size: int = SAMPLE_SIZE, seed: int = 0
) -> dict[str, Summarized]:
    """Each duration's summary (n, median, p90, their 95% intervals, labelled mean)."""
    names = list(source.values)
    fraction, samples, kept = _guide(conn, source, sample_size, seed)
    if fraction >= 1.0:
        return {
            name: Summarized(summarize_durations(samples[name]), samples[name], 1.0, kept,
                             "all values")
            for name in names
        }  # fmt: skip
    pending = {}
    for name in names:
        windows = _windows(len(samples[name]) / fraction, samples[name])
        if windows is not None:
            pending[name] = windows
    totals = _totals(conn, source, pending)
    found = _fetch_windows(conn, source, pending) if pending else {}
    out: dict[str, Summarized] = {}
    for name in names:
        n, total = totals[name]
        at = _assign(n, pending[name], found[name]) if name in pending else None
        method = "sample-guided ranks"
        if at is None:
            at = _ordered(conn, source, name, ranks_needed(n))
            method = "ordered scan"
        summary = summary_from_ranks(n, at, total=total)
        out[name] = Summarized(summary, samples[name], fraction, totals["*"][0], method)
    return out


def _guide(
    conn: Connection, source: DurationSource, sample_size: int, seed: int
) -> tuple[float, dict[str, list[float]], int]:
    """The uniform sample, the fraction of rows it keeps, and how many rows it kept. Sized
    from the time index's count; drawn again, with the fraction corrected, when the other
    conditions left it under a quarter of the size wanted."""
    rough = as_int(
        conn.execute(select(func.count()).select_from(tickets).where(*source.window)).scalar_one()
    )
    fraction = 1.0 if rough <= sample_size else sample_size / rough
    samples, kept = _sample(conn, source, fraction, seed)
    if fraction < 1.0 and kept < sample_size / 4:
        fraction = min(1.0, fraction * sample_size / max(1, kept))
        samples, kept = _sample(conn, source, fraction, seed)
    return fraction, samples, kept


def _sample(
    conn: Connection, source: DurationSource, fraction: float, seed: int
) -> tuple[dict[str, list[float]], int]:
    names = list(source.values)
    stmt = (
        select(*source.values.values())
        .select_from(tickets)
        .where(*source.conditions, sample_condition(tickets.c.id, fraction, seed))
    )
    out: dict[str, list[float]] = {name: [] for name in names}
    kept = 0
    for row in conn.execute(stmt):
        kept += 1
        for name, value in zip(names, row, strict=True):
            if value is not None:
                out[name].append(float(value))
    for values in out.values():
        values.sort()
    return out, kept


def _windows(estimate: float, sample: list[float]) -> list[_Window] | None:
    """Value ranges around the median's and the p90's ranks and intervals. The exact n is
    not known yet: the ranks are placed as shares of the estimated n (the sample's size over
    its fraction). None when a full scan would be cheaper."""
    size = len(sample)
    n = round(estimate)
    if size == 0 or n == 0:
        return None
    windows: list[_Window] = []
    covered = 0.0
    for q in (MEDIAN, P90):
        ranks = ranks_needed(n, (q,))
        lo, hi = (min(ranks) - 1) / n, max(ranks) / n
        p = (lo + hi) / 2
        margin = _SIGMAS * math.sqrt(size * p * (1.0 - p)) + _SLACK
        first = math.floor(lo * size - margin)
        last = math.ceil(hi * size + margin)
        low = sample[first] if first >= 0 else None
        high = sample[last] if last < size else None
        covered += (min(last, size) - max(first, 0)) / size
        windows.append(_Window(quantile=q, low=low, high=high))
    return None if covered > _WINDOW_SHARE else windows


def _inside(value: ColumnElement[float], window: _Window) -> ColumnElement[bool]:
    parts: list[ColumnElement[bool]] = [value.is_not(None)]
    if window.low is not None:
        parts.append(value >= window.low)
    if window.high is not None:
        parts.append(value <= window.high)
    return and_(*parts)


def _totals(
    conn: Connection, source: DurationSource, pending: Mapping[str, list[_Window]]
) -> dict[str, tuple[int, float]]:
    """Rows, each duration's count and sum, and (into the windows) the number of values below
    each neighbourhood: one scan."""
    columns: list[Any] = [func.count()]
    for value in source.values.values():
        columns += [func.count(value), func.sum(value)]
    slots: list[_Window] = []
    for name, windows in pending.items():
        for window in windows:
            if window.low is not None:
                columns.append(count_if(source.values[name] < window.low))
                slots.append(window)
    row = conn.execute(select(*columns).select_from(tickets).where(*source.conditions)).one()
    out = {"*": (as_int(row[0]), 0.0)}
    for i, name in enumerate(source.values):
        out[name] = (as_int(row[1 + 2 * i]), as_float(row[2 + 2 * i]))
    for window, below in zip(slots, row[1 + 2 * len(source.values) :], strict=True):
        window.below = as_int(below)
    return out


def _fetch_windows(
    conn: Connection, source: DurationSource, pending: Mapping[str, list[_Window]]
) -> dict[str, list[float]]:
    """One scan returns every duration's values inside its neighbourhoods, each ascending;
    a value outside its own neighbourhoods comes back as NULL."""
    names = list(pending)
    kept = [
        case((or_(*(_inside(source.values[name], w) for w in pending[name])), source.values[name]))
        for name in names
    ]
    anywhere = or_(*(_inside(source.values[name], w) for name in names for w in pending[name]))
    stmt = select(*kept).select_from(tickets).where(*source.conditions, anywhere)
    lists: list[list[float]] = [[] for _ in names]
    # streamed (a server-side cursor on PostgreSQL): only values inside a window are kept,
    # and the database produces rows while they are sifted
    for row in conn.execute(stmt.execution_options(yield_per=10_000)):
        for value, out in zip(row, lists, strict=True):
            if value is not None:
                out.append(value)
    for values in lists:
        values.sort()
    return dict(zip(names, lists, strict=True))


def _holds(window: _Window, value: float) -> bool:
    return (window.low is None or value >= window.low) and (
        window.high is None or value <= window.high
    )


def _assign(n: int, windows: list[_Window], values: list[float]) -> dict[int, float] | None:
    """The values at the ranks n values need, or None when a window missed one of them."""
    at: dict[int, float] = {}
    for window in windows:
        inside = [v for v in values if _holds(window, v)]
        for rank in ranks_needed(n, (window.quantile,)):
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
