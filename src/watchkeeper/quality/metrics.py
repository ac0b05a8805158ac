"""The metric definitions of QUALITY.md as pure functions: counts in, figures out.

SQL (queries.py) gathers counts, sums and order statistics; everything that turns them into
a reported figure lives here, so the API, the CLI, the reports and the OKRs agree by
construction. A figure is a JSON-ready dict: a duration carries n, median, p90, their 95%
intervals and a labelled mean; a rate carries numerator, denominator (= n), value and its
Wilson interval; either says in `note` why an interval is missing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

from watchkeeper.quality.intervals import MTBF, NO_FAILURES
from watchkeeper.quality.stats import DurationSummary, Interval, rate, wilson

# name -> (start, end) ticket timestamps: the duration is end − start, counted only on
# tickets that have both (an unacknowledged ticket has no TTA, an open one no TTR).
DURATIONS: Final[dict[str, tuple[str, str]]] = {
    "ttd": ("impact_start", "detected_at"),
    "tta": ("detected_at", "acknowledged_at"),
    "ttl": ("acknowledged_at", "localized_at"),
    "ttm": ("impact_start", "mitigated_at"),
    "ttr": ("detected_at", "resolved_at"),
}
HANDS_ON: Final = ("acknowledged_at", "resolved_at")  # per responder (acknowledged_by)


_MISSING: Final[dict[str, str]] = {
    "impact_start": "no impact start",
    "detected_at": "not detected",
    "acknowledged_at": "not acknowledged",
    "localized_at": "not localized (no root cause set)",
    "mitigated_at": "not mitigated yet",
    "resolved_at": "not resolved yet",
}

MISS_LOOK_BACK: Final = 30 * 60.0  # QUALITY.md: an automatic event this long before counts
CHANGE_LINK: Final = 4 * 3600.0  # a change this long before a ticket's detection is linked
MTBF_THRESHOLD: Final = "high"


def excluded_reason(name: str) -> str:
    start, end = DURATIONS.get(name, HANDS_ON)
    reasons = [_MISSING[c] for c in (start, end) if c not in ("impact_start", "detected_at")]
    return " or ".join(reasons) if reasons else ""


def duration_figure(summary: DurationSummary, *, tickets: int, reason: str = "") -> dict[str, Any]:
    """A duration in seconds: n, median and p90 with 95% order-statistic intervals, and the
    mean (always labelled as one). `tickets` in scope minus n are the excluded ones."""
    notes = []
    if summary.reason:
        notes.append(summary.reason)
    excluded = max(0, tickets - summary.n)
    if excluded and reason:
        notes.append(f"{excluded} of {tickets} tickets excluded: {reason}")
    return {
        "n": summary.n,
        "median": summary.median,
        "p90": summary.p90,
        "median_ci95": _pair(summary.median_ci95),
        "p90_ci95": _pair(summary.p90_ci95),
        "mean": summary.mean,
        "excluded": excluded,
        "note": "; ".join(notes) or None,
    }


def _pair(ci: Interval | None) -> list[float] | None:
    return None if ci is None else [ci[0], ci[1]]


def rate_figure(numerator: int, denominator: int, **extra: Any) -> dict[str, Any]:
    """numerator ÷ denominator with its Wilson 95% interval; null value and interval at 0/0.

    The two counts may come from separate statements; on a live database a ticket can land
    between them, so a numerator above its denominator is capped (and said), not an error.
    """
    raced = numerator > denominator
    numerator = min(numerator, denominator)
    r = rate(numerator, denominator)
    out: dict[str, Any] = {
        "n": denominator,
        "numerator": numerator,
        "denominator": denominator,
        "value": r.value,
        "ci95": _pair(r.ci95),
        "note": "no data" if denominator == 0 else None,
    }
    if raced:
        out["note"] = "counts changed while the report ran; the numerator was capped"
    out.update(extra)
    return out


def reduction_figure(kept: int, total: int) -> dict[str, Any]:
    """1 − kept ÷ total as the share of `total` that did not become a new `kept` item (an
    alert that joined an open ticket, an event that updated an open alert). A window edge can
    leave more kept than total (an alert before the window opening a ticket inside it): that
    share is floored at 0 and said."""
    reduced = max(0, total - kept)
    out = rate_figure(reduced, total, kept=kept, total=total)
    if kept > total > 0:
        out["note"] = f"{kept} opened from {total}: more than received in the window, shown as 0"
    return out


def mtbf_figure(window_seconds: float, impact_seconds: float, n_tickets: int) -> MTBF:
    """(window − union of impact intervals) ÷ tickets; `impact_seconds` is that union, already
    clipped to the window. Null with "no failures in window" when there are no tickets."""
    if n_tickets == 0:
        return MTBF(
            seconds=None,
            n_tickets=0,
            window_seconds=window_seconds,
            impact_seconds=impact_seconds,
            reason=NO_FAILURES,
        )
    up = max(0.0, window_seconds - impact_seconds)
    return MTBF(
        seconds=up / n_tickets,
        n_tickets=n_tickets,
        window_seconds=window_seconds,
        impact_seconds=impact_seconds,
    )


def mtbf_dict(value: MTBF) -> dict[str, Any]:
    return {
        "seconds": value.seconds,
        "n": value.n_tickets,
        "window_seconds": value.window_seconds,
        "impact_seconds": value.impact_seconds,
        "note": value.reason,
    }


def balance(counts: Mapping[str, int]) -> dict[str, Any]:
    """How evenly interruptions fall on the members of one rotation: each one's share, the
    busiest member's load over the mean, and the coefficient of variation (0 is even)."""
    members = len(counts)
    total = sum(counts.values())
    if members == 0:
        return {"members": 0, "total": 0, "mean": None, "max_over_mean": None, "cv": None}
    mean = total / members
    spread = math.sqrt(sum((c - mean) ** 2 for c in counts.values()) / members)
    return {
        "members": members,
        "total": total,
        "mean": mean,
        "max_over_mean": None if mean == 0 else max(counts.values()) / mean,
        "cv": None if mean == 0 else spread / mean,
        "shares": {k: (None if total == 0 else v / total) for k, v in sorted(counts.items())},
    }


def count_ratio_ci(
    count_a: int, seconds_a: float, count_b: int, seconds_b: float
) -> Interval | None:
    """95% interval for the ratio of two event rates (b per second ÷ a per second).

    Given the total k = a + b, b ~ Binomial(k, t_b ÷ (t_a + t_b)) when the rates are equal;
    the Wilson interval for b ÷ k maps onto the rate ratio. None when there are no events.
    """
    k = count_a + count_b
    if k == 0 or seconds_a <= 0 or seconds_b <= 0:
        return None
    ci = wilson(count_b, k)
    if ci is None:
        return None
    scale = seconds_a / seconds_b

    def ratio(p: float) -> float:
        return math.inf if p >= 1.0 else p / (1.0 - p) * scale

    return ratio(ci[0]), ratio(ci[1])


def per_week(count: int, seconds: float) -> float | None:
    return None if seconds <= 0 else count / (seconds / (7 * 86400.0))


# --- key results -----------------------------------------------------------------------------


def target_value(
    baseline: float | None, *, absolute: float | None, relative: float | None
) -> float | None:
    """The value a key result aims at: the absolute one, or the baseline moved by `relative`
    percent (−30 → 70% of the baseline)."""
    if absolute is not None:
        return absolute
    if relative is None or baseline is None:
        return None
    return baseline * (1.0 + relative / 100.0)


def progress(baseline: float | None, current: float | None, target: float | None) -> float | None:
    """Percent of the way from baseline to target (100 = reached; negative = went the other
    way; above 100 = beyond). None without the three values or when target = baseline."""
    if baseline is None or current is None or target is None:
        return None
    if math.isclose(target, baseline):
        return 100.0 if math.isclose(current, target) else None
    return (current - baseline) / (target - baseline) * 100.0


def met(baseline: float | None, current: float | None, target: float | None) -> bool | None:
    """Whether `current` reached the target, in the direction from baseline to target."""
    if current is None or target is None:
        return None
    if baseline is None or target <= baseline:
        return current <= target
    return current >= target
