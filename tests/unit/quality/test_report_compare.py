"""Period comparison: Newcombe for rates, a bounded bootstrap for medians and p90s, Poisson
for counts; a change whose interval covers zero is "not significant"."""

from __future__ import annotations

import random
from statistics import quantiles

import pytest

from watchkeeper.quality.compare import (
    bootstrap_quantile_diff,
    count_change,
    quantile_change,
    rate_change,
    resampled_quantile,
)
from watchkeeper.quality.metrics import rate_figure
from watchkeeper.quality.stats import quantile

WEEK = 7 * 86400.0


def test_resampled_quantile_matches_brute_force_resampling() -> None:
    rng = random.Random(1)
    sample = sorted(rng.lognormvariate(5, 1) for _ in range(200))
    fast = [resampled_quantile(sample, 0.9, rng) for _ in range(4000)]
    slow = [
        quantile(sorted(rng.choice(sample) for _ in range(len(sample))), 0.9) for _ in range(4000)
    ]
    # the same distribution: quartiles of the two agree within a few percent
    for got, want in zip(quantiles(fast, n=4), quantiles(slow, n=4), strict=True):
        assert got == pytest.approx(want, rel=0.05)


def test_bootstrap_of_a_p90_shift() -> None:
    rng = random.Random(2)
    before = [rng.expovariate(1 / 600) for _ in range(3000)]
    after = [v * 0.5 for v in before]
    ci = bootstrap_quantile_diff(before, after, 0.9)
    assert ci is not None and ci[1] < 0
    same = bootstrap_quantile_diff(before, before[::-1], 0.9)
    assert same is not None and same[0] <= 0 <= same[1]
    assert bootstrap_quantile_diff([], after, 0.9) is None


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2", "significant"),
    [(30, 40, 36, 40, False), (300, 400, 360, 400, True), (0, 0, 3, 4, None)],
    ids=["small", "large", "empty"],
)
def test_rate_change(x1: int, n1: int, x2: int, n2: int, significant: bool | None) -> None:
    change = rate_change("r", rate_figure(x2, n2), rate_figure(x1, n1))
    assert change["significant"] is significant
    if significant is False:
        assert change["note"] == "not significant"
    if significant is None:
        assert change["difference"] is None and change["ci95"] is None


def test_quantile_change_needs_enough_values() -> None:
    change = quantile_change("ttr", "p90", 0.9, 100.0, 200.0, [1.0] * 28, [2.0] * 500)
    assert change["ci95"] is None and change["significant"] is None
    assert change["note"] == "n too small: each period needs n ≥ 29 for a p90 change"
    rng = random.Random(3)
    before = [rng.uniform(100, 200) for _ in range(500)]
    after = [v - 50 for v in before]
    change = quantile_change("ttr", "median", 0.5, 100.0, 150.0, after, before)
    assert change["significant"] is True and change["note"] is None
    assert change["difference"] == -50.0


def test_count_change_from_nothing_has_no_upper_bound() -> None:
    change = count_change("tickets", 8, WEEK, 0, WEEK)
    assert change["ci95"][1] is None and change["ci95"][0] > 0
    assert change["significant"] is True
    assert change["current"] == 8 and change["previous"] == 0
    flat = count_change("tickets", 10, WEEK, 11, WEEK)
    assert flat["significant"] is False and flat["note"] == "not significant"
