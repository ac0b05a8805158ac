"""Bounded sampling and the bootstrap interval for a change of median."""

from __future__ import annotations

import itertools
import random
import statistics
from collections import Counter
from collections.abc import Iterator

import pytest

from watchkeeper.quality.stats import (
    bootstrap_median_diff,
    quantile,
    resampled_median,
    reservoir_sample,
    significant,
)


def test_reservoir_keeps_everything_when_short() -> None:
    assert reservoir_sample(iter([3.0, 1.0, 2.0]), 5, random.Random(0)) == [3.0, 1.0, 2.0]


def test_reservoir_is_bounded_and_reads_a_stream_once() -> None:
    def stream() -> Iterator[float]:
        yield from (float(v) for v in range(100_000))

    sample = reservoir_sample(stream(), 1_000, random.Random(1))
    assert len(sample) == 1_000 and len(set(sample)) == 1_000
    assert reservoir_sample(stream(), 1_000, random.Random(1)) == sample


def test_reservoir_is_uniform() -> None:
    # Each of 20 items should be kept with probability 5/20; 4,000 draws give a standard
    # error of 0.007 on each frequency.
    kept: Counter[float] = Counter()
    draws = 4_000
    for seed in range(draws):
        kept.update(reservoir_sample(range(20), 5, random.Random(seed)))
    assert all(abs(kept[float(v)] / draws - 0.25) < 0.035 for v in range(20))


def _exact_resample_medians(sample: list[float]) -> dict[float, float]:
    """The bootstrap median's distribution by enumerating every resample."""
    m = len(sample)
    counts = Counter(statistics.median(r) for r in itertools.product(sample, repeat=m))
    return {value: count / m**m for value, count in counts.items()}


@pytest.mark.parametrize(
    "sample",
    [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 10.0], [1.0, 2.0, 4.0, 8.0, 16.0]],
    ids=["odd-3", "even-4", "odd-5"],
)
def test_resampled_median_has_the_bootstrap_distribution(sample: list[float]) -> None:
    exact = _exact_resample_medians(sample)
    rng = random.Random(7)
    draws = 40_000
    seen = Counter(resampled_median(sample, rng) for _ in range(draws))
    assert set(seen) <= set(exact)
    # standard error ≤ 0.0025 per cell
    assert all(abs(seen[v] / draws - p) < 0.012 for v, p in exact.items())


def _naive_bootstrap(a: list[float], b: list[float], seed: int) -> tuple[float, float]:
    rng = random.Random(seed)
    diffs = sorted(
        statistics.median(rng.choices(b, k=len(b))) - statistics.median(rng.choices(a, k=len(a)))
        for _ in range(2000)
    )
    return quantile(diffs, 0.025), quantile(diffs, 0.975)


def test_agrees_with_naive_resampling() -> None:
    rng = random.Random(3)
    a = [rng.expovariate(1 / 600) for _ in range(301)]
    b = [rng.expovariate(1 / 480) for _ in range(300)]
    ours = bootstrap_median_diff(a, b, rng_seed=11)
    naive = _naive_bootstrap(a, b, seed=12)
    assert ours is not None
    assert ours == pytest.approx(naive, abs=25.0)  # Monte Carlo noise on ~400 s wide


def test_is_deterministic_given_the_seed() -> None:
    rng = random.Random(5)
    a = [rng.gauss(100, 10) for _ in range(20_000)]
    b = [rng.gauss(100, 10) for _ in range(20_000)]
    first = bootstrap_median_diff(a, b, rng_seed=42)
    assert first == bootstrap_median_diff(a, b, rng_seed=42)
    assert first != bootstrap_median_diff(a, b, rng_seed=43)


@pytest.mark.parametrize(
    ("shift", "expected"),
    [(0.0, False), (30.0, True), (-30.0, True)],
    ids=["no-change", "slower", "faster"],
)
def test_significance_of_a_shift(shift: float, expected: bool) -> None:
    rng = random.Random(9)
    a = [rng.gauss(600, 60) for _ in range(500)]
    b = [rng.gauss(600 + shift, 60) for _ in range(500)]
    ci = bootstrap_median_diff(a, b, rng_seed=1)
    assert ci is not None and ci[0] <= ci[1]
    assert significant(ci) is expected
    if shift:
        assert ci[0] < shift < ci[1]


def test_million_tickets_are_cut_to_the_bound() -> None:
    # A constant period makes the interval the other period's spread alone; sampling must
    # still look at at most max_sample values without materializing the input.
    a = (5.0 for _ in range(1_000_000))
    b = (float(i % 100) for i in range(1_000_000))
    ci = bootstrap_median_diff(a, b, rng_seed=3, max_sample=2_000, resamples=500)
    assert ci is not None
    assert 40.0 <= ci[0] <= 44.5 <= ci[1] <= 50.0


@pytest.mark.parametrize(
    ("a", "b"), [([], [1.0]), ([1.0], [])], ids=["empty-before", "empty-after"]
)
def test_needs_both_periods(a: list[float], b: list[float]) -> None:
    assert bootstrap_median_diff(a, b, rng_seed=0) is None
