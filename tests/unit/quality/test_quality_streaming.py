"""Summaries built from a few SQL-fetched ranks agree exactly with in-memory ones."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from watchkeeper.quality.stats import ranks_needed, summarize_durations, summary_from_ranks


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (0, set()),
        (1, {1}),
        # median ranks 3, 4 and CI (1, 6); p90 h = 5.5 → ranks 5, 6; no p90 CI yet
        (6, {1, 3, 4, 5, 6}),
        # median 50, 51 and CI (40, 61); p90 h = 90.1 → 90, 91 and CI (84, 96)
        (100, {40, 50, 51, 61, 84, 90, 91, 96}),
    ],
    ids=["n0", "n1", "n6", "n100"],
)
def test_ranks_needed(n: int, expected: set[int]) -> None:
    assert ranks_needed(n) == expected


def test_ranks_needed_skips_the_second_row_on_an_exact_position() -> None:
    # p30 of 11: h = 1 + 10·0.3 = 4; CI: P(B = 0) = 0.7^11 = 1.98% ≤ 2.5% < P(B ≤ 1) = 11.3%
    # gives l = 1, P(B ≥ 7) = 2.16% ≤ 2.5% < P(B ≥ 6) = 7.82% gives u = 7.
    assert ranks_needed(11, (0.3,)) == {1, 4, 7}


def _from_ranks(values: list[float]) -> object:
    ordered = sorted(values)
    fetched = {rank: ordered[rank - 1] for rank in ranks_needed(len(ordered))}
    return summary_from_ranks(len(ordered), fetched, total=math.fsum(ordered))


@given(st.lists(st.floats(0, 1e7), max_size=400))
def test_agrees_with_in_memory_summary(values: list[float]) -> None:
    assert _from_ranks(values) == summarize_durations(values)


@pytest.mark.parametrize("n", [29, 1_000, 54_321], ids=["n29", "n1000", "n54321"])
def test_agrees_on_seeded_random_data(n: int) -> None:
    rng = random.Random(n)
    values = [rng.lognormvariate(5, 1.5) for _ in range(n)]
    assert _from_ranks(values) == summarize_durations(values)


def test_a_million_tickets_need_only_a_handful_of_rows() -> None:
    assert len(ranks_needed(1_000_000)) <= 8


def test_missing_rank_is_named() -> None:
    with pytest.raises(ValueError, match=r"lacks ranks \[1, 6\]"):
        summary_from_ranks(6, {3: 3.0, 4: 4.0, 5: 5.0}, total=21.0)
