"""Quantiles, order-statistic intervals, Wilson and Newcombe against hand and published values."""

from __future__ import annotations

import math
from fractions import Fraction

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from watchkeeper.quality.stats import (
    DurationSummary,
    Rate,
    ci_ranks,
    min_n_for_ci,
    newcombe_diff,
    quantile,
    quantile_ci,
    rate,
    significant,
    summarize_durations,
    wilson,
)

ONE_TO = {n: [float(v) for v in range(1, n + 1)] for n in (4, 6, 10, 29, 30, 100)}


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([7.0], 0.9, 7.0),
        ([1.0, 2.0, 3.0], 0.0, 1.0),
        ([1.0, 2.0, 3.0], 1.0, 3.0),
        (ONE_TO[4], 0.25, 1.75),  # h = 1 + 3·0.25 = 1.75
        (ONE_TO[10], 0.5, 5.5),  # mean of the two middle values
        (ONE_TO[10], 0.9, 9.1),  # h = 1 + 9·0.9 = 9.1
        (ONE_TO[29], 0.5, 15.0),
        (ONE_TO[29], 0.9, 26.2),  # h = 1 + 28·0.9 = 26.2
        (ONE_TO[100], 0.9, 90.1),  # h = 1 + 99·0.9 = 90.1
        ([0.0, 10.0, 10.0, 30.0], 0.5, 10.0),
    ],
    ids=["single", "q0-min", "q1-max", "p25-n4", "median-n10", "p90-n10", "median-n29",
         "p90-n29", "p90-n100", "ties"],
)  # fmt: skip
def test_quantile_is_type_7(values: list[float], q: float, expected: float) -> None:
    assert quantile(values, q) == pytest.approx(expected, abs=1e-12)


def test_quantile_lands_exactly_on_an_order_statistic() -> None:
    # h = 1 + 90·0.7 = 64, though 90·0.7 is 62.99999999999999 in binary floating point.
    assert quantile([float(v) for v in range(91)], 0.7) == 63.0


@pytest.mark.parametrize(
    ("values", "q"), [([], 0.5), ([1.0], -0.1), ([1.0], 1.5)], ids=["empty", "q<0", "q>1"]
)
def test_quantile_rejects(values: list[float], q: float) -> None:
    with pytest.raises(ValueError):
        quantile(values, q)


# Hand computations with B ~ Binomial(n, q), coverage P(l ≤ B < u), tails each ≤ 2.5% when
# the extremes allow it:
#   n=6, median: P(B=0) = 1/64 per tail → (1, 6), 96.9%; (2, 5) has tails 7/64.
#   n=10, median: P(B ≤ 1) = 11/1024 = 1.07% per tail → (2, 9), 97.9%.
#   n=29, median: P(B ≤ 8) = 1.21%, P(B ≤ 9) = 3.07% → (9, 21), 97.6%.
#   n=30, median: P(B ≤ 9) = 2.14% per tail → (10, 21), 95.7% (the published table value).
#   n=100, median: P(B ≤ 39) = 1.76%, P(B ≤ 40) = 2.84% → (40, 61), 96.5%.
#   n=29, p90: P(B = 29) = 0.9^29 = 4.71% > 2.5%, so u = 29 and the lower tail may use
#   5% − 4.71%: P(B ≤ 20) = 0.155% fits, P(B ≤ 21) does not → (21, 29), 95.1%.
#   n=100, p90: P(B ≤ 83) = 2.06%, P(B ≥ 96) = 2.37% → (84, 96), 95.6%.
@pytest.mark.parametrize(
    ("n", "q", "expected"),
    [
        (0, 0.5, None),
        (1, 0.5, None),
        (5, 0.5, None),  # best is (1, 5): 1 − 2/32 = 93.75%
        (6, 0.5, (1, 6)),
        (10, 0.5, (2, 9)),
        (29, 0.5, (9, 21)),
        (30, 0.5, (10, 21)),
        (100, 0.5, (40, 61)),
        (28, 0.9, None),  # best is (1, 28): 1 − 0.9^28 − 0.1^28 = 94.77%
        (29, 0.9, (21, 29)),
        (100, 0.9, (84, 96)),
    ],
    ids=["n0", "n1", "median-n5", "median-n6", "median-n10", "median-n29", "median-n30",
         "median-n100", "p90-n28", "p90-n29", "p90-n100"],
)  # fmt: skip
def test_ci_ranks_match_hand_computation(
    n: int, q: float, expected: tuple[int, int] | None
) -> None:
    assert ci_ranks(n, q) == expected


@pytest.mark.parametrize(
    ("q", "expected"), [(0.5, 6), (0.9, 29), (0.1, 29)], ids=["median", "p90", "p10"]
)
def test_min_n_matches_quality_md(q: float, expected: int) -> None:
    assert min_n_for_ci(q) == expected
    assert ci_ranks(expected - 1, q) is None
    assert ci_ranks(expected, q) is not None


def _binomial_below(n: int, q: Fraction, k: int) -> Fraction:
    """Exact P(B ≤ k), independent of the float code under test."""
    return sum(
        (Fraction(math.comb(n, i)) * q**i * (1 - q) ** (n - i) for i in range(k + 1)),
        Fraction(0),
    )


@pytest.mark.parametrize(
    "q",
    [Fraction(1, 4), Fraction(1, 2), Fraction(3, 4), Fraction(9, 10), Fraction(19, 20)],
    ids=["p25", "median", "p75", "p90", "p95"],
)
def test_ci_ranks_have_exact_coverage_and_are_none_only_when_impossible(q: Fraction) -> None:
    for n in range(1, 81):
        ranks = ci_ranks(n, float(q))
        widest = 1 - _binomial_below(n, q, 0) - (1 - _binomial_below(n, q, n - 1))
        if ranks is None:
            assert n < 2 or widest < Fraction(95, 100), n
            continue
        low, high = ranks
        low_tail = _binomial_below(n, q, low - 1)
        high_tail = 1 - _binomial_below(n, q, high - 1)
        assert 1 <= low < high <= n
        assert 1 - low_tail - high_tail >= Fraction(95, 100), (n, ranks)
        if _binomial_below(n, q, 0) <= Fraction(1, 40) and 1 - _binomial_below(
            n, q, n - 1
        ) <= Fraction(1, 40):
            # Equal-tailed and as tight as that allows: one rank inwards breaks a tail.
            assert low_tail <= Fraction(1, 40) < _binomial_below(n, q, low), (n, ranks)
            assert high_tail <= Fraction(1, 40) < 1 - _binomial_below(n, q, high - 2), (n, ranks)


def test_ci_ranks_stay_cheap_for_a_million_values() -> None:
    assert ci_ranks(1_000_000, 0.5) == (499_020, 500_981)
    low, high = ci_ranks(1_000_000, 0.9) or (0, 0)
    assert low < 900_000 < high and high - low < 1_300


def test_quantile_ci_reads_the_order_statistics() -> None:
    values = [float(v) for v in range(10, 101, 10)]
    assert quantile_ci(values, 0.5) == (20.0, 90.0)
    assert quantile_ci(values, 0.9) is None


@given(
    st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=300),
    st.sampled_from([0.05, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99]),
)
def test_interval_contains_point_estimate(values: list[float], q: float) -> None:
    ordered = sorted(values)
    ci = quantile_ci(ordered, q)
    if ci is not None:
        assert ci[0] <= quantile(ordered, q) <= ci[1]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], DurationSummary(n=0, median=None, p90=None, median_ci95=None, p90_ci95=None,
                             mean=None, too_small=True, reason="no data")),
        ([42.0], DurationSummary(n=1, median=42.0, p90=42.0, median_ci95=None, p90_ci95=None,
                                 mean=42.0, too_small=True,
                                 reason="n = 1 is too small for a 95% interval: "
                                 "the median needs n ≥ 6, the p90 needs n ≥ 29")),
        ([6.0, 1.0, 5.0, 2.0, 4.0, 3.0],
         DurationSummary(n=6, median=3.5, p90=5.5, median_ci95=(1.0, 6.0), p90_ci95=None,
                         mean=3.5, too_small=True,
                         reason="n = 6 is too small for a 95% interval: the p90 needs n ≥ 29")),
        (ONE_TO[29], DurationSummary(n=29, median=15.0, p90=26.2, median_ci95=(9.0, 21.0),
                                     p90_ci95=(21.0, 29.0), mean=15.0, too_small=False)),
    ],
    ids=["empty", "one", "n6-unsorted", "n29"],
)  # fmt: skip
def test_summarize_durations(values: list[float], expected: DurationSummary) -> None:
    got = summarize_durations(values)
    assert got.p90 == pytest.approx(expected.p90)
    # p90 is compared with a tolerance above (26.2 is not exact in binary); the rest exactly.
    assert got == msgspec.structs.replace(expected, p90=got.p90)


def test_summarize_durations_rejects_nan() -> None:
    with pytest.raises(ValueError, match="NaN"):
        summarize_durations([1.0, math.nan])


# Published values: Newcombe (1998) "Two-sided confidence intervals for the single proportion",
# Stat Med 17:857, method 3, and the usual textbook 8/10, 0/10, 10/10.
@pytest.mark.parametrize(
    ("successes", "n", "expected"),
    [
        (8, 10, (0.4902, 0.9433)),
        (0, 10, (0.0, 0.2775)),
        (10, 10, (0.7225, 1.0)),
        (5, 10, (0.2366, 0.7634)),
        (81, 263, (0.2553, 0.3662)),
        (0, 0, None),
    ],
    ids=["8/10", "0/10", "10/10", "5/10", "81/263", "0/0"],
)
def test_wilson_published_values(
    successes: int, n: int, expected: tuple[float, float] | None
) -> None:
    got = wilson(successes, n)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected, abs=5e-5)


def test_wilson_ends_are_exact_at_zero_and_all() -> None:
    assert (wilson(0, 7) or (1.0, 0.0))[0] == 0.0
    assert (wilson(7, 7) or (0.0, 0.0))[1] == 1.0


@pytest.mark.parametrize(
    ("successes", "n"), [(-1, 10), (11, 10), (0, -1)], ids=["negative", "over", "negative-n"]
)
def test_wilson_rejects_impossible_counts(successes: int, n: int) -> None:
    with pytest.raises(ValueError):
        wilson(successes, n)


@given(st.integers(0, 5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_is_a_proper_interval(counts: tuple[int, int]) -> None:
    successes, n = counts
    ci = wilson(successes, n)
    if n == 0:
        assert ci is None
        return
    assert ci is not None
    assert 0.0 <= ci[0] <= successes / n <= ci[1] <= 1.0


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (8, 10, Rate(numerator=8, denominator=10, value=0.8, ci95=wilson(8, 10))),
        (0, 0, Rate(numerator=0, denominator=0, value=None, ci95=None)),
    ],
    ids=["8/10", "0/0"],
)
def test_rate(numerator: int, denominator: int, expected: Rate) -> None:
    assert rate(numerator, denominator) == expected


# Newcombe (1998) "Interval estimation for the difference between independent proportions:
# comparison of eleven methods", Stat Med 17:873, Table II, method 10.
@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2", "expected"),
    [
        (56, 70, 48, 80, (0.0524, 0.3339)),
        (9, 10, 3, 10, (0.1705, 0.8090)),
        (6, 7, 2, 7, (0.0582, 0.8062)),
        (5, 56, 0, 29, (-0.0381, 0.1926)),
        (0, 10, 0, 20, (-0.1611, 0.2775)),
        (0, 10, 0, 10, (-0.2775, 0.2775)),
        (10, 10, 0, 20, (0.6791, 1.0)),
        (10, 10, 0, 10, (0.6075, 1.0)),
    ],
    ids=["a", "b", "c", "d", "e", "f", "g", "h"],
)
def test_newcombe_matches_table_ii(
    x1: int, n1: int, x2: int, n2: int, expected: tuple[float, float]
) -> None:
    assert newcombe_diff(x1, n1, x2, n2) == pytest.approx(expected, abs=5e-5)


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2"), [(0, 0, 1, 2), (1, 2, 0, 0)], ids=["first-empty", "second-empty"]
)
def test_newcombe_needs_both_periods(x1: int, n1: int, x2: int, n2: int) -> None:
    assert newcombe_diff(x1, n1, x2, n2) is None


_counts = st.integers(1, 2000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n)))


@given(_counts, _counts)
def test_newcombe_contains_the_difference(first: tuple[int, int], second: tuple[int, int]) -> None:
    ci = newcombe_diff(*first, *second)
    assert ci is not None
    diff = first[0] / first[1] - second[0] / second[1]
    assert -1.0 <= ci[0] <= diff + 1e-12 and diff - 1e-12 <= ci[1] <= 1.0


@pytest.mark.parametrize(
    ("ci", "expected"),
    [
        (None, None),
        ((0.1, 0.3), True),
        ((-0.3, -0.1), True),
        ((-0.1, 0.2), False),
        ((0.0, 0.2), False),
        ((-0.2, 0.0), False),
    ],
    ids=["no-interval", "above", "below", "straddles", "touches-low", "touches-high"],
)
def test_significant(ci: tuple[float, float] | None, expected: bool | None) -> None:
    assert significant(ci) is expected
