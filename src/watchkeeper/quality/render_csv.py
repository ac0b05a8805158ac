"""The report as CSV files for spreadsheets: one file per table, raw numbers (seconds, 0–1)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

DURATION_NAMES = ("ttd", "tta", "ttl", "ttm", "ttr", "hands_on_time")


def _ci(ci: list[float] | None, i: int) -> float | str:
    return "" if ci is None else ci[i]


def _rate_row(figure: dict[str, Any]) -> list[Any]:
    return [
        figure["numerator"],
        figure["denominator"],
        "" if figure["value"] is None else figure["value"],
        _ci(figure["ci95"], 0),
        _ci(figure["ci95"], 1),
    ]


RATE_HEAD = ["numerator", "denominator", "value", "ci95_low", "ci95_high"]


def _write(directory: Path, name: str, head: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
    path = directory / f"{name}.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(head)
        writer.writerows(rows)
    return path


def tables(report: dict[str, Any]) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """Every table of the report as (header, rows), by file name."""
    q, ch, op = report["quality"], report["channel"], report["operational"]
    out: dict[str, tuple[list[str], list[list[Any]]]] = {}
    durations = []
    for name in DURATION_NAMES:
        d = op["hands_on_time"] if name == "hands_on_time" else q[name]
        durations.append(
            [
                name, d["n"], d["median"], _ci(d["median_ci95"], 0), _ci(d["median_ci95"], 1),
                d["p90"], _ci(d["p90_ci95"], 0), _ci(d["p90_ci95"], 1), d["mean"],
                d["note"] or "",
            ]
        )  # fmt: skip
    out["durations"] = (
        ["metric", "n", "median_s", "median_ci95_low", "median_ci95_high", "p90_s",
         "p90_ci95_low", "p90_ci95_high", "mean_s", "note"],
        durations,
    )  # fmt: skip
    rates = [
        [key, *_rate_row(ch[key])]
        for key in (
            "automatic_discovery_rate",
            "miss_rate",
            "late_detection_rate",
            "false_alarm_rate",
            "coverage",
        )
    ]
    for key, figure in ch["noise_reduction"]["overall"].items():
        rates.append([f"noise_reduction.{key}", *_rate_row(figure)])
    out["rates"] = (["metric", *RATE_HEAD], rates)
    out["rates_per_service"] = (
        ["service", "metric", *RATE_HEAD],
        [
            [service, key, *_rate_row(figure)]
            for key in ("automatic_discovery_rate", "miss_rate")
            for service, figure in ch[key]["per_service"].items()
        ],
    )
    out["misses"] = (
        ["service", "feedback_channel", "tickets", "latest_ticket", "should_have_caught"],
        [
            [m["service"], m["feedback_channel"], m["tickets"], m["latest_ticket"],
             " ".join(m["should_have_caught"])]
            for m in ch["miss_rate"]["misses"]
        ],
    )  # fmt: skip
    out["false_alarms_per_integration"] = (
        ["integration", *RATE_HEAD],
        [[k, *_rate_row(v)] for k, v in ch["false_alarm_rate"]["per_integration"].items()],
    )
    out["false_alarms_per_rule"] = (
        ["integration", "rule", "false_alarms", "share_of_false_alarms"],
        [
            [r["integration"], r["rule"], r["false_alarms"], r["share_of_false_alarms"]["value"]]
            for r in ch["false_alarm_rate"]["per_rule"]
        ],
    )
    out["noise_reduction"] = (
        ["by", "key", "metric", *RATE_HEAD],
        [
            [by, key, metric, *_rate_row(figure)]
            for by in ("per_service", "per_integration")
            for key, pair in ch["noise_reduction"][by].items()
            for metric, figure in pair.items()
        ],
    )
    channels = [c["id"] for c in ch["coverage"]["channels"]]
    out["coverage"] = (
        ["service", "covered", "has_slo", *(f"{c}_tickets" for c in channels)],
        [
            [
                s["service"],
                s["covered"],
                s["has_slo"],
                *(s["cells"][c]["tickets"] for c in channels),
            ]
            for s in ch["coverage"]["services"]
        ],
    )
    inter = op["interruptions"]
    out["interruptions"] = (
        ["user", "time_zone", "total", "business", "off", "sleep", "unclassified", "per_week"],
        [
            [p["user"], p["time_zone"], p["total"], p["business"], p["off"], p["sleep"],
             p["unclassified"], p["per_week"]]
            for p in inter["per_person"]
        ],
    )  # fmt: skip
    out["interruptions_weekly"] = (
        ["week", "user", "total", "business", "off", "sleep", "unclassified"],
        [
            [w["week"], user, t["total"], t["business"], t["off"], t["sleep"], t["unclassified"]]
            for w in inter["per_week"]
            for user, t in w["per_person"].items()
        ],
    )
    out["hands_on_per_responder"] = (
        ["responder", "tickets", "total_s", "mean_s"],
        [
            [r["responder"], r["tickets"], r["total_seconds"], r["mean"]]
            for r in op["hands_on_time"]["per_responder"]
        ],
    )
    out["mtbf"] = (
        ["service", "tickets", "mtbf_s", "impact_s", "window_s", "note"],
        [
            [s, m["n"], m["seconds"], m["impact_seconds"], m["window_seconds"], m["note"] or ""]
            for s, m in q["mtbf"]["per_service"].items()
        ],
    )
    out["counts_weekly"] = (
        ["service", "week", "dimension", "value", "tickets"],
        [
            [service, week, dim, value, n]
            for service, data in q["counts"]["per_service"].items()
            for week, tally in data["per_week"].items()
            for dim in ("by_severity", "by_root_cause_category", "by_channel")
            for value, n in tally[dim].items()
        ],
    )
    out["slo"] = (
        ["id", "service", "objective_percent", "window_s", "sli_ratio", "note"],
        [
            [s["id"], s["service"], s["objective_percent"], s["window_seconds"], "", s["note"]]
            for s in report["slo"]["slos"]
        ],
    )
    comp = report.get("comparison")
    if comp:
        out["comparison"] = (
            ["metric", "kind", "previous", "current", "difference", "ci95_low", "ci95_high",
             "significant", "note"],
            [
                [c["metric"], c.get("kind", ""), c["previous"], c["current"], c["difference"],
                 _ci(c["ci95"], 0), _ci(c["ci95"], 1), c["significant"], c["note"] or ""]
                for c in comp["changes"]
            ],
        )  # fmt: skip
    return out


def write_csv(report: dict[str, Any], directory: Path) -> list[Path]:
    """Write every table into `directory` (created if missing); returns the files."""
    directory.mkdir(parents=True, exist_ok=True)
    return [_write(directory, name, head, rows) for name, (head, rows) in tables(report).items()]
