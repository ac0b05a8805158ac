"""The pure metric definitions behind every report figure, table-driven."""

from __future__ import annotations

import math

import pytest

from watchkeeper.quality.intervals import mtbf
from watchkeeper.quality.metrics import (
    balance,
    count_ratio_ci,
    duration_figure,
    excluded_reason,
    met,
    mtbf_figure,
    progress,
    rate_figure,
    reduction_figure,
    target_value,
)
from watchkeeper.quality.stats import summarize_durations, wilson


@pytest.mark.parametrize(
    ("numerator", "denominator", "value", "note"),
    [
        (3, 4, 0.75, None),
        (0, 0, None, "no data"),
        (0, 5, 0.0, None),
        (6, 5, 1.0, "counts changed while the report ran; the numerator was capped"),
    ],
    ids=["plain", "no-data", "zero", "raced"],
)
def test_rate_figure(
    numerator: int, denominator: int, value: float | None, note: str | None
) -> None:
    figure = rate_figure(numerator, denominator)
    assert figure["value"] == value and figure["note"] == note
    assert figure["n"] == denominator == figure["denominator"]
    ci = wilson(min(numerator, denominator), denominator)
    assert figure["ci95"] == (None if ci is None else [ci[0], ci[1]])


@pytest.mark.parametrize(
    ("kept", "total", "reduced", "note"),
    [
        (3, 9, 6, None),  # 9 alerts became 3 tickets: 2/3 of the alerts joined one
        (0, 0, 0, "no data"),
        (5, 4, 0, "5 opened from 4: more than received in the window, shown as 0"),
    ],
    ids=["reduced", "empty", "window-edge"],
)
def test_reduction(kept: int, total: int, reduced: int, note: str | None) -> None:
    figure = reduction_figure(kept, total)
    assert figure["numerator"] == reduced and figure["denominator"] == total
    assert figure["note"] == note


def test_mtbf_from_a_union_matches_the_in_memory_definition() -> None:
    spans = [(10.0, 40.0), (30.0, 70.0), (200.0, None)]
    window = (0.0, 1000.0)
    expected = mtbf(spans, window, n_tickets=3)
    got = mtbf_figure(1000.0, expected.impact_seconds, 3)
    assert got == expected
    assert got.seconds == pytest.approx((1000 - 60 - 800) / 3)
    none = mtbf_figure(1000.0, 0.0, 0)
    assert none.seconds is None and none.reason == "no failures in window"


def test_duration_figure_names_exclusions_and_small_n() -> None:
    figure = duration_figure(summarize_durations([60, 120, 180]), tickets=5, reason="x")
    assert figure["n"] == 3 and figure["excluded"] == 2 and figure["median"] == 120
    assert figure["median_ci95"] is None and figure["mean"] == 120
    assert figure["note"].startswith("n = 3 is too small for a 95% interval")
    assert figure["note"].endswith("2 of 5 tickets excluded: x")
    assert excluded_reason("tta") == "not acknowledged"
    assert excluded_reason("ttd") == ""
    assert excluded_reason("ttl") == "not acknowledged or not localized (no root cause set)"


def test_balance_of_a_rotation() -> None:
    b = balance({"ana": 6, "ben": 2, "chen": 1})
    assert b["total"] == 9 and b["mean"] == 3 and b["max_over_mean"] == 2
    assert b["cv"] == pytest.approx(math.sqrt((9 + 1 + 4) / 3) / 3)
    assert b["shares"]["ana"] == pytest.approx(6 / 9)
    quiet = balance({"ana": 0, "ben": 0})
    assert quiet["max_over_mean"] is None and quiet["cv"] is None


@pytest.mark.parametrize(
    ("a", "b", "significant"),
    [
        ((10, 7.0), (10, 7.0), False),  # same rate
        ((10, 7.0), (40, 7.0), True),  # four times as many
        ((0, 7.0), (8, 7.0), True),  # none before: no upper bound
    ],
    ids=["same", "quadrupled", "from-zero"],
)
def test_count_ratio_interval(
    a: tuple[int, float], b: tuple[int, float], significant: bool
) -> None:
    ci = count_ratio_ci(a[0], a[1], b[0], b[1])
    assert ci is not None
    assert (not ci[0] <= 1.0 <= ci[1]) is significant
    assert count_ratio_ci(0, 7.0, 0, 7.0) is None


@pytest.mark.parametrize(
    ("baseline", "current", "absolute", "relative", "target", "progress_pct", "reached"),
    [
        (3600.0, 1800.0, None, -30.0, 2520.0, 1800 / 1080 * 100, True),  # TTR −30%
        (3600.0, 3000.0, None, -30.0, 2520.0, 600 / 1080 * 100, False),
        (0.75, 0.9, 0.9, None, 0.9, 100.0, True),  # a rate up to an absolute target
        (0.75, 0.6, 0.9, None, 0.9, -100.0, False),  # went the other way
        (None, 0.5, None, -10.0, None, None, None),  # no baseline: no relative target
    ],
    ids=["ttr-beyond", "ttr-partway", "rate-reached", "rate-backwards", "no-baseline"],
)
def test_key_result_arithmetic(
    baseline: float | None,
    current: float | None,
    absolute: float | None,
    relative: float | None,
    target: float | None,
    progress_pct: float | None,
    reached: bool | None,
) -> None:
    goal = target_value(baseline, absolute=absolute, relative=relative)
    assert goal == (None if target is None else pytest.approx(target))
    got = progress(baseline, current, goal)
    assert got == (None if progress_pct is None else pytest.approx(progress_pct))
    assert met(baseline, current, goal) is reached
