"""Union of impact intervals within a window, and MTBF from it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from watchkeeper.quality.intervals import MTBF, NO_FAILURES, Span, mtbf, union_length

WINDOW = (0.0, 100.0)


@pytest.mark.parametrize(
    ("intervals", "expected"),
    [
        ([], 0.0),
        ([(10.0, 20.0)], 10.0),
        ([(0.0, 10.0), (5.0, 15.0)], 15.0),
        ([(0.0, 10.0), (2.0, 3.0)], 10.0),
        ([(2.0, 3.0), (0.0, 10.0)], 10.0),
        ([(0.0, 1.0), (2.0, 3.0)], 2.0),
        ([(0.0, 5.0), (5.0, 10.0)], 10.0),
        ([(-50.0, 10.0)], 10.0),
        ([(90.0, 150.0)], 10.0),
        ([(-10.0, 200.0), (20.0, 30.0)], 100.0),
        ([(50.0, None)], 50.0),
        ([(50.0, None), (60.0, 70.0)], 50.0),
        ([(150.0, None)], 0.0),
        ([(-20.0, -10.0), (120.0, 130.0)], 0.0),
        ([(30.0, 20.0)], 0.0),
        ([(10.0, 10.0)], 0.0),
    ],
    ids=["none", "inside", "overlap", "nested", "nested-first-shorter", "disjoint", "touching",
         "clipped-start", "clipped-end", "covers-window", "open", "open-swallows", "open-after",
         "outside", "inverted", "empty"],
)  # fmt: skip
def test_union_length(intervals: list[Span], expected: float) -> None:
    assert union_length(intervals, WINDOW) == expected


def test_window_must_not_run_backwards() -> None:
    with pytest.raises(ValueError, match="window ends before it starts"):
        union_length([], (10.0, 0.0))


_cells = st.integers(-20, 120)


@given(st.lists(st.tuples(_cells, st.one_of(st.none(), _cells)), max_size=30))
def test_union_counts_each_covered_second_once(raw: list[tuple[int, int | None]]) -> None:
    covered = {
        cell
        for start, end in raw
        for cell in range(max(start, 0), min(100 if end is None else end, 100))
    }
    intervals: list[Span] = [(float(s), None if e is None else float(e)) for s, e in raw]
    assert union_length(intervals, WINDOW) == len(covered)


@pytest.mark.parametrize(
    ("impacts", "n_tickets", "expected"),
    [
        ([], 0, MTBF(seconds=None, n_tickets=0, window_seconds=100.0, impact_seconds=0.0,
                     reason=NO_FAILURES)),
        ([(10.0, 20.0)], 1, MTBF(seconds=90.0, n_tickets=1, window_seconds=100.0,
                                 impact_seconds=10.0)),
        ([(10.0, 20.0), (60.0, 70.0)], 2, MTBF(seconds=40.0, n_tickets=2, window_seconds=100.0,
                                               impact_seconds=20.0)),
        ([(0.0, 30.0), (10.0, 40.0)], 2, MTBF(seconds=30.0, n_tickets=2, window_seconds=100.0,
                                              impact_seconds=40.0)),
        ([(80.0, None)], 1, MTBF(seconds=80.0, n_tickets=1, window_seconds=100.0,
                                 impact_seconds=20.0)),
        ([(-10.0, None), (5.0, 6.0)], 2, MTBF(seconds=0.0, n_tickets=2, window_seconds=100.0,
                                              impact_seconds=100.0)),
    ],
    ids=["no-failures", "one", "two-apart", "overlapping-counted-once", "still-open",
         "down-all-window"],
)  # fmt: skip
def test_mtbf(impacts: list[Span], n_tickets: int, expected: MTBF) -> None:
    assert mtbf(impacts, WINDOW, n_tickets=n_tickets) == expected


def test_mtbf_rejects_negative_count() -> None:
    with pytest.raises(ValueError, match="n_tickets"):
        mtbf([], WINDOW, n_tickets=-1)
