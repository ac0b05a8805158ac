"""Renderings of one report: terminal, CSV and HTML agree on the figures and escape text."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from watchkeeper.quality import format as fmt
from watchkeeper.quality.metrics import duration_figure, rate_figure
from watchkeeper.quality.render_csv import tables, write_csv
from watchkeeper.quality.render_html import render_html
from watchkeeper.quality.render_terminal import print_report, render_objectives
from watchkeeper.quality.stats import summarize_durations

HOSTILE = '<script>alert("x")</script>'


def _report() -> dict[str, Any]:
    """A small report of the shape /api/v1/quality returns."""
    ttr = duration_figure(summarize_durations([600.0 * i for i in range(1, 40)]), tickets=40)
    empty = duration_figure(summarize_durations([]), tickets=0)
    rate = rate_figure(3, 4)
    per_week = {"tickets": 4, "by_severity": {"high": 4}, "by_root_cause_category": {},
                "by_channel": {"prometheus": 4}}  # fmt: skip
    return {
        "window": {"from": "2026-02-23T00:00:00Z", "to": "2026-03-02T00:00:00Z", "seconds": 1},
        "filters": {"service": None, "team": "payments", "severity": "high"},
        "generated_at": "2026-03-02T09:00:00Z",
        "units": "seconds",
        "slo": {"slos": [], "note": "no SLOs are configured for the services in scope"},
        "operational": {
            "interruptions": {
                "definition": "pages",
                "total": {"total": 3, "business": 1, "off": 1, "sleep": 1, "unclassified": 0},
                "per_person": [
                    {
                        "user": "ana",
                        "name": "Ana",
                        "time_zone": "Asia/Tokyo",
                        "team": "t",
                        "total": 3,
                        "business": 1,
                        "off": 1,
                        "sleep": 1,
                        "unclassified": 0,
                        "per_week": 3.0,
                    }
                ],
                "per_week": [
                    {
                        "week": "2026-02-23",
                        "per_person": {
                            "ana": {
                                "total": 3,
                                "business": 1,
                                "off": 1,
                                "sleep": 1,
                                "unclassified": 0,
                            }
                        },
                    }
                ],
                "balance": [
                    {
                        "team": "t",
                        "members": 1,
                        "total": 3,
                        "mean": 3.0,
                        "max_over_mean": 1.0,
                        "cv": 0.0,
                        "shares": {"ana": 1.0},
                    }
                ],
            },
            "hands_on_time": {
                **ttr,
                "per_responder": [
                    {"responder": "ana", "tickets": 39, "total_seconds": 9e5, "mean": 23076.9}
                ],
            },
            "escalations_per_ticket": {
                "n": 4,
                "total": 1,
                "mean": 0.25,
                "distribution": {"0": 3, "1": 1, "2": 0, "3+": 0},
            },
            "tickets_per_shift": {"value": None, "note": "not computed"},
        },
        "channel": {
            "automatic_discovery_rate": {**rate, "per_service": {"checkout": rate}},
            "miss_rate": {
                **rate_figure(1, 4),
                "definition": "misses",
                "per_service": {},
                "misses": [
                    {
                        "service": "checkout",
                        "feedback_channel": "support",
                        "tickets": 1,
                        "latest_ticket": 7,
                        "should_have_caught": [],
                        "note": "no automatic channel",
                    }
                ],
            },
            "late_detection_rate": rate_figure(0, 4),
            "false_alarm_rate": {
                **rate_figure(1, 3),
                "per_integration": {"am": rate_figure(1, 3)},
                "per_rule": [
                    {
                        "integration": "am",
                        "rule": HOSTILE,
                        "false_alarms": 1,
                        "share_of_false_alarms": rate_figure(1, 1),
                    }
                ],
            },
            "noise_reduction": {
                "overall": {
                    "alerts_to_tickets": rate_figure(6, 9),
                    "events_to_alerts": rate_figure(10, 19),
                },
                "per_service": {},
                "per_integration": {},
            },
            "coverage": {
                **rate_figure(1, 2),
                "definition": "coverage",
                "channels": [
                    {"id": "prometheus", "kind": "automatic"},
                    {"id": "manual", "kind": "manual"},
                ],
                "services": [
                    {
                        "service": "checkout",
                        "name": "Checkout",
                        "covered": True,
                        "has_slo": False,
                        "automatic_channels_that_opened_tickets": [],
                        "cells": {
                            "prometheus": {"tickets": 4, "alerts": 9},
                            "manual": {"tickets": 0, "alerts": 0},
                        },
                    },
                    {
                        "service": "cart",
                        "name": "Cart",
                        "covered": False,
                        "has_slo": False,
                        "automatic_channels_that_opened_tickets": [],
                        "cells": {
                            "prometheus": {"tickets": 0, "alerts": 0},
                            "manual": {"tickets": 0, "alerts": 0},
                        },
                    },
                ],
            },
        },
        "quality": {
            "ttd": empty,
            "tta": ttr,
            "ttl": empty,
            "ttm": ttr,
            "ttr": ttr,
            "mtbf": {
                "severity_threshold": "high",
                "definition": "d",
                "window_seconds": 1.0,
                "per_service": {
                    "checkout": {
                        "seconds": 3600.0,
                        "n": 2,
                        "window_seconds": 1.0,
                        "impact_seconds": 60.0,
                        "note": None,
                    }
                },
            },
            "counts": {
                **per_week,
                "weeks": ["2026-02-23"],
                "per_service": {"checkout": {**per_week, "per_week": {"2026-02-23": per_week}}},
            },
            "dora": {"changes": 0, "change_failure_rate": None, "note": "no change events"},
            "distributions": {
                name: {
                    "labels": ["<1m", ">1m"],
                    "upper_edges_seconds": [60.0],
                    "counts": [1, 3],
                    "values": 4,
                    "of": 4,
                    "sampled": False,
                    "note": None,
                }
                for name in ("ttd", "tta", "ttl", "ttm", "ttr")
            },
            "weekly": [
                {
                    "week": "2026-02-23",
                    "tickets": 4,
                    "by_severity": {"high": 4},
                    "automatic_discovery_rate": rate,
                    "false_alarms": 1,
                    "resolved": 3,
                }
            ],
        },
        "comparison": {
            "previous_window": {"from": "2026-02-16T00:00:00Z", "to": "2026-02-23T00:00:00Z"},
            "note": "difference = this window − the previous one",
            "changes": [
                {
                    "metric": "quality.ttr.median",
                    "kind": "duration",
                    "previous": 900.0,
                    "current": 600.0,
                    "difference": -300.0,
                    "ci95": [-500.0, 20.0],
                    "significant": False,
                    "note": "not significant",
                },
                {
                    "metric": "quality.counts.tickets",
                    "kind": "count per week",
                    "previous": 0.0,
                    "current": 4.0,
                    "difference": 4.0,
                    "ci95": [0.5, None],
                    "significant": True,
                    "note": None,
                },
            ],
        },
    }


def test_terminal_shows_every_layer_and_labels_the_mean() -> None:
    console = Console(file=io.StringIO(), width=160, record=True)
    print_report(_report(), console)
    text = console.export_text()
    for heading in ("1 · SLO", "2 · Operational", "3 · Channel", "4 · Quality", "Comparison"):
        assert heading in text
    assert "mean (labelled)" in text and "MTTR" not in text
    assert "TTR (resolve)" in text and "n too small" in text
    assert "not significant" in text and "unbounded" in text
    assert "no automatic channel" in text


def test_csv_tables_carry_raw_numbers(tmp_path: Path) -> None:
    files = write_csv(_report(), tmp_path / "out")
    names = {p.name for p in files}
    assert names >= {"durations.csv", "rates.csv", "coverage.csv", "interruptions.csv"}
    assert names >= {"comparison.csv", "mtbf.csv"}
    rows = list(csv.DictReader((tmp_path / "out" / "durations.csv").open()))
    ttr = next(r for r in rows if r["metric"] == "ttr")
    assert ttr["n"] == "39" and float(ttr["median_s"]) == 12000.0
    head, _ = tables(_report())["rates"]
    assert head == ["metric", "numerator", "denominator", "value", "ci95_low", "ci95_high"]


def test_html_is_self_contained_and_escapes_text() -> None:
    page = render_html(_report())
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert "<script" not in page and "&lt;script&gt;" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page
    assert page.count("<svg") >= 8  # pager load, coverage map, five distributions, trend
    assert "@media print" in page


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "—"),
        (4.2, "4s"),
        (725, "12m 05s"),
        (11220, "3h 07m"),
        (187200, "2d 04h"),
        (-90, "-1m 30s"),
    ],
    ids=["none", "seconds", "minutes", "hours", "days", "negative"],
)
def test_duration_text(seconds: float | None, text: str) -> None:
    assert fmt.duration(seconds) == text


def test_objectives_table() -> None:
    data = {
        "note": "baseline …",
        "objectives": [
            {"id": "o", "title": "Faster", "key_results": [
                {"id": "ttr", "metric": "ttr", "statistic": "median",
                 "baseline": {"value": 3600.0, "n": 40}, "current": {"value": 1800.0, "n": 40},
                 "target": {"value": 2520.0}, "progress_percent": 166.7, "met": True,
                 "significant": True, "note": None},
                {"id": "bad", "error": "unknown service 'x'"},
            ]},
        ],
    }  # fmt: skip
    console = Console(file=io.StringIO(), width=160, record=True)
    console.print(render_objectives(data))
    text = console.export_text()
    assert "1h 00m (n=40)" in text and "30m 00s (n=40)" in text and "167%" in text
    assert "significant" in text and "unknown service 'x'" in text
