"""The statistics behind every quality report: quantiles, their intervals, rates, changes."""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from itertools import islice
from statistics import NormalDist
from typing import Final

import msgspec

CONFIDENCE: Final = 0.95
MEDIAN: Final = 0.5
P90: Final = 0.9

Interval = tuple[float, float]

# Coverage sums are floats; without slack a pair whose exact coverage is the target could be
# refused by rounding in the last bit.
_COVERAGE_SLACK: Final = 1e-12


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence!r}")


def _position(n: int, q: float) -> tuple[int, int, float]:
    """1-based ranks of the two order statistics type 7 interpolates between, and the weight."""
    h = (n - 1) * q
    # Binary floats miss exact positions (90·0.7 is 62.99999999999999); snapping keeps the
    # estimate on the order statistic and spares fetching a second row for a 1e-15 weight.
    if math.isclose(h, round(h), rel_tol=1e-12, abs_tol=1e-12):
        h = round(h)
    lower = math.floor(h)
    weight = h - lower
    return lower + 1, lower + 1 if weight == 0 else lower + 2, weight


def _interpolate(low: float, high: float, weight: float) -> float:
    return low if weight == 0.0 else low + weight * (high - low)


def quantile(sorted_values: Sequence[float], q: float) -> float:
    """The q-quantile of ascending values, Hyndman & Fan type 7 (the R and NumPy default).

    With n values the estimate sits at 1-based position h = 1 + (n − 1)·q, linearly
    interpolated between the order statistics at floor(h) and ceil(h); a median of an even
    count is the mean of the two middle values. The input must already be sorted.
    """
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"q must be within [0, 1], got {q!r}")
    if not sorted_values:
        raise ValueError("quantile of no values")
    low, high, weight = _position(len(sorted_values), q)
    return _interpolate(sorted_values[low - 1], sorted_values[high - 1], weight)


def _binomial_cdf(n: int, q: float) -> tuple[int, list[float]]:
    """P(B ≤ k) for B ~ Binomial(n, q), for k from the returned start up to wherever it is 1.

    Only a window of ±12 standard deviations (plus a margin that covers every k for small n)
    is summed: the mass outside is far below float resolution, and it keeps a report over a
    million tickets at a few thousand terms.
    """
    mean = n * q
    spread = 12.0 * math.sqrt(n * q * (1.0 - q)) + 30.0
    start = max(0, math.floor(mean - spread))
    stop = min(n, math.ceil(mean + spread))
    log_q, log_rest, log_n = math.log(q), math.log1p(-q), math.lgamma(n + 1)
    total = 0.0
    cdf: list[float] = []
    for k in range(start, stop + 1):
        log_pmf = log_n - math.lgamma(k + 1) - math.lgamma(n - k + 1)
        total += math.exp(log_pmf + k * log_q + (n - k) * log_rest)
        cdf.append(total)
    return start, cdf


@lru_cache(maxsize=4096)
def ci_ranks(n: int, q: float, confidence: float = CONFIDENCE) -> tuple[int, int] | None:
    """1-based ranks (l, u) of the distribution-free interval [x_(l), x_(u)] for the q-quantile.

    With B ~ Binomial(n, q), P(x_(l) ≤ ξ_q < x_(u)) = P(l ≤ B < u) for any continuous
    distribution (at least that with ties). The pair is equal-tailed: the largest l with
    P(B < l) ≤ α/2 and the smallest u with P(B ≥ u) ≤ α/2, α = 1 − confidence (the textbook
    interval; symmetric for a median). When one tail cannot get down to α/2 even at the
    extreme rank (a p90 with 29 ≤ n < 35), that rank is taken and the other tail gets the
    rest of α. None when even (1, n), covering 1 − qⁿ − (1 − q)ⁿ, falls short: below n = 6
    for a median and n = 29 for a p90 at 95%. The ranks depend on n alone, never on the
    values, which is what lets SQL fetch just those rows.
    """
    if not 0.0 < q < 1.0:
        raise ValueError(f"q must be strictly between 0 and 1 for an interval, got {q!r}")
    _check_confidence(confidence)
    if n < 2:
        return None
    start, cdf = _binomial_cdf(n, q)

    def below(k: int) -> float:  # P(B ≤ k)
        if k < start:
            return 0.0
        return cdf[k - start] if k - start < len(cdf) else 1.0

    def largest_l(budget: float) -> int:  # largest l with P(B < l) ≤ budget
        return start + bisect.bisect_right(cdf, budget)

    def smallest_u(budget: float) -> int:  # smallest u with P(B ≥ u) ≤ budget
        return start + bisect.bisect_left(cdf, 1.0 - budget) + 1

    alpha = 1.0 - confidence + _COVERAGE_SLACK
    floor_low, floor_high = below(0), 1.0 - below(n - 1)  # tails of the widest pair (1, n)
    if floor_low + floor_high > alpha:
        return None
    if floor_low > alpha / 2:
        lower, upper = 1, smallest_u(alpha - floor_low)
    elif floor_high > alpha / 2:
        lower, upper = largest_l(alpha - floor_high), n
    else:
        lower, upper = largest_l(alpha / 2), smallest_u(alpha / 2)
    # Widening keeps the coverage. The equal-tailed ranks already hold the point estimate for
    # every q in 0.01…0.99 and n < 1,500 we tried; this makes it true by construction.
    est_low, est_high, _ = _position(n, q)
    return max(1, min(lower, est_low)), min(n, max(upper, est_high))


@lru_cache(maxsize=256)
def min_n_for_ci(q: float, confidence: float = CONFIDENCE) -> int:
    """The smallest n for which `ci_ranks` gives an interval (6 for a median, 29 for a p90)."""
    if not 0.0 < q < 1.0:
        raise ValueError(f"q must be strictly between 0 and 1 for an interval, got {q!r}")
    _check_confidence(confidence)
    n = 2
    while 1.0 - q**n - (1.0 - q) ** n < confidence - _COVERAGE_SLACK:
        n += 1
    return n


def quantile_ci(
    sorted_values: Sequence[float], q: float, confidence: float = CONFIDENCE
) -> Interval | None:
    """The distribution-free order-statistic interval for the q-quantile (see `ci_ranks`)."""
    ranks = ci_ranks(len(sorted_values), q, confidence)
    if ranks is None:
        return None
    return sorted_values[ranks[0] - 1], sorted_values[ranks[1] - 1]


class DurationSummary(msgspec.Struct, frozen=True, kw_only=True):
    """Median and p90 of a duration with their 95% intervals; `mean` is only ever shown as one."""

    n: int
    median: float | None
    p90: float | None
    median_ci95: Interval | None
    p90_ci95: Interval | None
    mean: float | None
    too_small: bool
    reason: str | None = None


def _too_small_reason(n: int) -> str | None:
    short = [
        f"the {name} needs n ≥ {min_n_for_ci(q)}"
        for name, q in (("median", MEDIAN), ("p90", P90))
        if n < min_n_for_ci(q)
    ]
    if not short:
        return None
    return f"n = {n} is too small for a 95% interval: " + ", ".join(short)


def _summary(n: int, at: Mapping[int, float], total: float) -> DurationSummary:
    if n == 0:
        return DurationSummary(
            n=0,
            median=None,
            p90=None,
            median_ci95=None,
            p90_ci95=None,
            mean=None,
            too_small=True,
            reason="no data",
        )

    def point(q: float) -> float:
        low, high, weight = _position(n, q)
        return _interpolate(at[low], at[high], weight)

    def interval(q: float) -> Interval | None:
        ranks = ci_ranks(n, q)
        return None if ranks is None else (at[ranks[0]], at[ranks[1]])

    reason = _too_small_reason(n)
    return DurationSummary(
        n=n,
        median=point(MEDIAN),
        p90=point(P90),
        median_ci95=interval(MEDIAN),
        p90_ci95=interval(P90),
        mean=total / n,
        too_small=reason is not None,
        reason=reason,
    )


class _RankView(Mapping[int, float]):
    """1-based rank access to a sorted list, so both summary paths share one formula."""

    def __init__(self, ordered: list[float]) -> None:
        self._ordered = ordered

    def __getitem__(self, rank: int) -> float:
        return self._ordered[rank - 1]

    def __len__(self) -> int:
        return len(self._ordered)

    def __iter__(self) -> Iterator[int]:
        return iter(range(1, len(self._ordered) + 1))


def summarize_durations(values: Iterable[float]) -> DurationSummary:
    """Summarize durations (any order, any unit) held in memory."""
    ordered = sorted(values)
    if any(math.isnan(v) for v in ordered):
        raise ValueError("durations contain NaN")
    return _summary(len(ordered), _RankView(ordered), math.fsum(ordered))


def ranks_needed(
    n: int, qs: Iterable[float] = (MEDIAN, P90), confidence: float = CONFIDENCE
) -> set[int]:
    """1-based ranks whose values give each quantile and its interval for n sorted values.

    A caller with data too large to hold fetches only these rows from an ordered query
    (`ROW_NUMBER() OVER (ORDER BY d)` filtered to the ranks) and passes them to
    `summary_from_ranks`.
    """
    if n < 0:
        raise ValueError(f"n must be ≥ 0, got {n}")
    needed: set[int] = set()
    if n == 0:
        return needed
    for q in qs:
        low, high, _ = _position(n, q)
        needed.update((low, high))
        if 0.0 < q < 1.0 and (ranks := ci_ranks(n, q, confidence)) is not None:
            needed.update(ranks)
    return needed


def summary_from_ranks(
    n: int, values_at_ranks: Mapping[int, float], *, total: float
) -> DurationSummary:
    """The same summary as `summarize_durations`, from the values at `ranks_needed(n)` only.

    `total` is the sum of all n values (SQL `SUM`), for the labelled mean.
    """
    missing = ranks_needed(n) - values_at_ranks.keys()
    if missing:
        raise ValueError(f"values_at_ranks lacks ranks {sorted(missing)} for n = {n}")
    return _summary(n, values_at_ranks, total)


def _z(confidence: float) -> float:
    _check_confidence(confidence)
    return NormalDist().inv_cdf(1.0 - (1.0 - confidence) / 2.0)


def wilson(successes: int, n: int, confidence: float = CONFIDENCE) -> Interval | None:
    """Wilson score interval for a proportion (no continuity correction); None when n = 0."""
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 ≤ successes ≤ n, got successes={successes}, n={n}")
    if n == 0:
        return None
    z = _z(confidence)
    p = successes / n
    shrink = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / shrink
    half = z * math.sqrt(p * (1.0 - p) / n + z * z / (4 * n * n)) / shrink
    # The exact ends at 0/n and n/n would otherwise come out a rounding error away.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


class Rate(msgspec.Struct, frozen=True, kw_only=True):
    """A proportion with its counts and Wilson 95% interval; value and ci95 are None for 0/0."""

    numerator: int
    denominator: int
    value: float | None
    ci95: Interval | None


def rate(numerator: int, denominator: int) -> Rate:
    ci = wilson(numerator, denominator)
    value = None if denominator == 0 else numerator / denominator
    return Rate(numerator=numerator, denominator=denominator, value=value, ci95=ci)


def newcombe_diff(
    x1: int, n1: int, x2: int, n2: int, confidence: float = CONFIDENCE
) -> Interval | None:
    """Interval for p1 − p2 (p1 = x1/n1), Newcombe's hybrid score method 10 (Stat Med 1998).

    Each proportion's Wilson interval is combined square-and-add; None when either n is 0.
    """
    first, second = wilson(x1, n1, confidence), wilson(x2, n2, confidence)
    if first is None or second is None:
        return None
    p1, p2 = x1 / n1, x2 / n2
    diff = p1 - p2
    low = diff - math.hypot(p1 - first[0], second[1] - p2)
    high = diff + math.hypot(first[1] - p1, p2 - second[0])
    return max(-1.0, low), min(1.0, high)


def _open_unit(rng: random.Random) -> float:
    """A uniform draw from (0, 1): the logarithms below must not see 0."""
    while True:
        u = rng.random()
        if u > 0.0:
            return u


def reservoir_sample(values: Iterable[float], k: int, rng: random.Random) -> list[float]:
    """A uniform sample of at most k values from a stream of unknown length (Li's Algorithm L).

    Memory stays at k values, and the random draws grow with k·log(n/k) rather than n.
    """
    if k < 1:
        raise ValueError(f"k must be ≥ 1, got {k}")
    stream = iter(values)
    sample = list(islice(stream, k))
    if len(sample) < k:
        return sample
    # w is the largest of k uniform keys; bounded below 1 so log1p stays finite.
    w = min(math.exp(math.log(_open_unit(rng)) / k), 1.0 - 2.0**-53)
    while True:
        skip = math.floor(math.log(_open_unit(rng)) / math.log1p(-w))
        try:
            item = next(islice(stream, skip, None))
        except StopIteration:
            return sample
        sample[rng.randrange(k)] = item
        w = min(w * math.exp(math.log(_open_unit(rng)) / k), 1.0 - 2.0**-53)


def resampled_median(sorted_sample: Sequence[float], rng: random.Random) -> float:
    """The median of one bootstrap resample (m draws with replacement) of a sorted sample.

    Drawn in O(1) rather than O(m): the k-th smallest of m uniform indices is
    floor(m·U_(k)) with U_(k) ~ Beta(k, m − k + 1), and given U_(k) = u the next one is
    u + (1 − u)·(1 − V^(1/(m − k))). Same distribution as resampling, a few thousand
    times cheaper on 10,000 values.
    """
    m = len(sorted_sample)
    if m == 0:
        raise ValueError("resampled_median of no values")
    k = (m + 1) // 2
    u = rng.betavariate(k, m - k + 1)
    low = sorted_sample[min(m - 1, int(m * u))]
    if m % 2:
        return low
    nxt = u + (1.0 - u) * (1.0 - _open_unit(rng) ** (1.0 / (m - k)))
    return _interpolate(low, sorted_sample[min(m - 1, int(m * nxt))], 0.5)


def bootstrap_median_diff(
    a: Iterable[float],
    b: Iterable[float],
    *,
    rng_seed: int,
    resamples: int = 2000,
    max_sample: int = 10_000,
    confidence: float = CONFIDENCE,
) -> Interval | None:
    """Percentile bootstrap interval for median(b) − median(a); None when either is empty.

    Each period is first cut to a uniform sample of at most `max_sample` values, so a million
    tickets cost one pass and 10,000 floats each. The same seed gives the same interval.
    """
    _check_confidence(confidence)
    if resamples < 1:
        raise ValueError(f"resamples must be ≥ 1, got {resamples}")
    rng = random.Random(rng_seed)
    first = sorted(reservoir_sample(a, max_sample, rng))
    second = sorted(reservoir_sample(b, max_sample, rng))
    if not first or not second:
        return None
    diffs = sorted(
        resampled_median(second, rng) - resampled_median(first, rng) for _ in range(resamples)
    )
    tail = (1.0 - confidence) / 2.0
    return quantile(diffs, tail), quantile(diffs, 1.0 - tail)


def significant(ci: Interval | None) -> bool | None:
    """Whether a change's interval excludes zero; None when there is no interval."""
    if ci is None:
        return None
    return not ci[0] <= 0.0 <= ci[1]
