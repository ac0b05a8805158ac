"""Changes between two periods, each with the interval of the difference (QUALITY.md).

Rates: Newcombe's interval for a difference of proportions. Medians and p90s: a percentile
bootstrap on each period's uniform sample (at most 10,000 values, fetched by ranks.py), so it
stays cheap on a million tickets. Counts per week: the interval of the ratio of two Poisson
rates. A change whose interval covers zero (a ratio's, one) is marked not significant.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any, Final

from watchkeeper.quality.metrics import count_ratio_ci
from watchkeeper.quality.stats import (
    MEDIAN,
    Interval,
    bootstrap_median_diff,
    min_n_for_ci,
    newcombe_diff,
    quantile,
    reservoir_sample,
    significant,
)

RESAMPLES: Final = 2000
MAX_SAMPLE: Final = 10_000
SEED: Final = 20260302
NOT_SIGNIFICANT: Final = "not significant"


def resampled_quantile(sorted_sample: Sequence[float], q: float, rng: random.Random) -> float:
    """The type-7 q-quantile of one bootstrap resample of a sorted sample, drawn in O(1).

    As `stats.resampled_median` does for the median: the k-th smallest of m uniform indices is
    floor(m·U_(k)) with U_(k) ~ Beta(k, m − k + 1), and the next one follows from it.
    """
    m = len(sorted_sample)
    if m == 0:
        raise ValueError("resampled_quantile of no values")
    h = (m - 1) * q
    k = int(h) + 1  # 1-based rank of the lower order statistic
    weight = h - (k - 1)
    u = rng.betavariate(k, m - k + 1)
    low = sorted_sample[min(m - 1, int(m * u))]
    if weight == 0.0 or k >= m:
        return low
    nxt = u + (1.0 - u) * (1.0 - (1.0 - rng.random()) ** (1.0 / (m - k)))
    high = sorted_sample[min(m - 1, int(m * nxt))]
    return low + weight * (high - low)


def bootstrap_quantile_diff(
    a: Sequence[float],
    b: Sequence[float],
    q: float,
    *,
    rng_seed: int = SEED,
    resamples: int = RESAMPLES,
) -> Interval | None:
    """Percentile bootstrap interval for quantile_q(b) − quantile_q(a); None if either is empty."""
    if q == MEDIAN:
        return bootstrap_median_diff(a, b, rng_seed=rng_seed, resamples=resamples)
    rng = random.Random(rng_seed)
    first = sorted(reservoir_sample(a, MAX_SAMPLE, rng)) if a else []
    second = sorted(reservoir_sample(b, MAX_SAMPLE, rng)) if b else []
    if not first or not second:
        return None
    diffs = sorted(
        resampled_quantile(second, q, rng) - resampled_quantile(first, q, rng)
        for _ in range(resamples)
    )
    return quantile(diffs, 0.025), quantile(diffs, 0.975)


def _verdict(ci: Interval | None, *, reason: str | None = None) -> dict[str, Any]:
    sig = significant(ci)
    note: str | None
    if sig is None:
        note = reason or "no interval: too little data in one of the periods"
    else:
        note = None if sig else NOT_SIGNIFICANT
    return {"ci95": None if ci is None else [ci[0], ci[1]], "significant": sig, "note": note}


def rate_change(metric: str, current: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    """current − previous of two rate figures, Newcombe interval."""
    ci = newcombe_diff(
        current["numerator"],
        current["denominator"],
        previous["numerator"],
        previous["denominator"],
    )
    difference = (
        None
        if current["value"] is None or previous["value"] is None
        else current["value"] - previous["value"]
    )
    return {
        "metric": metric,
        "kind": "rate",
        "current": current["value"],
        "previous": previous["value"],
        "difference": difference,
        "method": "Newcombe (Wilson score) interval of the difference",
        **_verdict(ci),
    }


def quantile_change(
    metric: str,
    statistic: str,
    q: float,
    current: float | None,
    previous: float | None,
    current_sample: Sequence[float],
    previous_sample: Sequence[float],
) -> dict[str, Any]:
    """current − previous of a median or p90, percentile bootstrap on bounded samples.

    Below the n a 95% interval of the quantile itself needs (6 for a median, 29 for a p90) in
    either period, a resample holds too few distinct values to mean anything: no interval.
    """
    need = min_n_for_ci(q)
    small = min(len(current_sample), len(previous_sample)) < need
    ci = None if small else bootstrap_quantile_diff(previous_sample, current_sample, q)
    reason = (
        f"n too small: each period needs n ≥ {need} for a {statistic} change" if small else None
    )
    difference = None if current is None or previous is None else current - previous
    return {
        "metric": f"{metric}.{statistic}",
        "kind": "duration",
        "current": current,
        "previous": previous,
        "difference": difference,
        "method": (
            f"percentile bootstrap ({RESAMPLES} resamples) on uniform samples of"
            f" {len(current_sample)} and {len(previous_sample)} values"
        ),
        **_verdict(ci, reason=reason),
    }


def count_change(
    metric: str, current: int, current_seconds: float, previous: int, previous_seconds: float
) -> dict[str, Any]:
    """Change of an event count per unit of time, as a relative change with the interval of
    the ratio of two Poisson rates (minus one)."""
    ci = count_ratio_ci(previous, previous_seconds, current, current_seconds)
    week = 7 * 86400.0
    cur = current / current_seconds * week if current_seconds > 0 else None
    prev = previous / previous_seconds * week if previous_seconds > 0 else None
    difference = None if cur is None or prev is None else cur - prev
    verdict = _verdict(None if ci is None else (ci[0] - 1.0, ci[1] - 1.0))
    if ci is not None and math.isinf(ci[1]):
        # nothing in the previous window: the ratio has no upper bound (JSON has no infinity)
        verdict["ci95"] = [ci[0] - 1.0, None]
    return {
        "metric": metric,
        "kind": "count per week",
        "current": cur,
        "previous": prev,
        "difference": difference,
        "method": "interval of the ratio of two Poisson rates, as a relative change",
        **verdict,
    }
