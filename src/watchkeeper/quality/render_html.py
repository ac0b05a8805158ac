"""The report as one self-contained HTML page: inline CSS and SVG, no scripts or external
assets, so it opens offline and prints well."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any, Final

from watchkeeper.quality import charts
from watchkeeper.quality import format as fmt

DURATION_NAMES: Final = ("ttd", "tta", "ttl", "ttm", "ttr")

CSS: Final = """
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #0f172a;
       margin: 0 auto; max-width: 1040px; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; border-bottom: 2px solid #0f172a; padding-bottom: 2px; margin-top: 32px; }
h3 { font-size: 15px; margin: 20px 0 6px; }
.meta, .note { color: #475569; font-size: 12px; }
.note { font-style: italic; margin: 4px 0 10px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; font-size: 12.5px; }
th, td { border-bottom: 1px solid #e2e8f0; padding: 4px 8px; text-align: left;
         vertical-align: top; }
th { background: #f8fafc; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.bad { color: #b91c1c; font-weight: 600; }
.good { color: #047857; }
.dim { color: #64748b; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 8px; }
svg.chart { max-width: 100%; height: auto; display: block; margin: 6px 0; }
section { break-inside: avoid-page; }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  h2 { break-before: page; }
  h2.first { break-before: avoid; }
  table, svg.chart, .grid > * { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
  @page { size: A4; margin: 14mm; }
}
"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value))


def _table(head: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[int] = ()) -> str:
    out = ["<table><thead><tr>", *(f"<th>{_e(h)}</th>" for h in head), "</tr></thead><tbody>"]
    for row in rows:
        out.append("<tr>")
        for i, cell in enumerate(row):
            cls = ' class="num"' if i in numeric else ""
            text = cell if isinstance(cell, _Raw) else _e(cell)
            out.append(f"<td{cls}>{text}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


class _Raw(str):
    """Already-escaped HTML for a table cell."""


def _note(text: str | None) -> str:
    return f'<p class="note">{_e(text)}</p>' if text else ""


def _slo(report: dict[str, Any]) -> str:
    layer = report["slo"]
    rows = [
        [s["id"], s["service"], f"{s['objective_percent']:g}%", fmt.duration(s["window_seconds"]),
         fmt.DASH, fmt.DASH]
        for s in layer["slos"]
    ]  # fmt: skip
    table = _table(["SLO", "service", "objective", "window", "SLI ratio", "budget left"], rows)
    return f'<h2 class="first">1 · SLO data</h2>{table if rows else ""}{_note(layer["note"])}'


def _operational(report: dict[str, Any]) -> str:
    layer = report["operational"]
    inter = layer["interruptions"]
    people = inter["per_person"][:20]
    chart = charts.stacked_rows(
        [p["user"] for p in people],
        {c: [p[c] for p in people] for c in charts.HOUR_COLOURS},
        charts.HOUR_COLOURS,
        "Pager load per person (interruptions by the person's local time)",
    )
    rows = [
        [p["user"], p["time_zone"], p["total"], p["business"], p["off"],
         _Raw(f'<span class="bad">{p["sleep"]}</span>' if p["sleep"] else "0"),
         "" if p["per_week"] is None else f"{p['per_week']:.1f}"]
        for p in people
    ]  # fmt: skip
    balance = [
        [b.get("schedule") or b.get("team"), b["members"], b["total"],
         "" if b["max_over_mean"] is None else f"{b['max_over_mean']:.2f}",
         "" if b["cv"] is None else f"{b['cv']:.2f}"]
        for b in inter["balance"]
    ]  # fmt: skip
    hands = layer["hands_on_time"]
    responders = [
        [r["responder"], r["tickets"], fmt.duration(r["total_seconds"]), fmt.duration(r["mean"])]
        for r in hands["per_responder"][:20]
    ]
    esc = layer["escalations_per_ticket"]
    mean = fmt.DASH if esc["mean"] is None else f"{esc['mean']:.2f}"
    return (
        "<h2>2 · Operational data</h2>"
        f"<section>{chart}"
        + _table(
            ["person", "time zone", "total", "business", "off hours", "sleep", "per week"],
            rows,
            (2, 3, 4, 5, 6),
        )
        + _note(inter["definition"])
        + "<h3>Balance across rotations</h3>"
        + _table(["rotation", "members", "total", "busiest ÷ mean", "CV"], balance, (1, 2, 3, 4))
        + "<h3>Hands-on time</h3>"
        + _table(["responder", "tickets", "total", "mean (labelled)"], responders, (1, 2, 3))
        + _note(
            f"hands-on median {fmt.duration(hands['median'])}"
            f" {fmt.interval(hands['median_ci95'])}, p90 {fmt.duration(hands['p90'])}"
            f" {fmt.interval(hands['p90_ci95'])}, n = {hands['n']}"
        )
        + f"<p>Escalations per ticket (mean): {mean}, n = {esc['n']};"
        f" distribution {_e(esc['distribution'])}</p>"
        + _note(f"Tickets per shift: {layer['tickets_per_shift']['note']}")
        + "</section>"
    )


def _channel(report: dict[str, Any]) -> str:
    layer = report["channel"]
    noise = layer["noise_reduction"]["overall"]
    rates = [
        ["automatic-discovery rate", fmt.rate(layer["automatic_discovery_rate"])],
        ["miss rate", fmt.rate(layer["miss_rate"])],
        ["late-detection rate", fmt.rate(layer["late_detection_rate"])],
        ["false-alarm rate", fmt.rate(layer["false_alarm_rate"])],
        ["channel coverage", fmt.rate(layer["coverage"])],
        ["noise reduction: alerts → tickets", fmt.rate(noise["alerts_to_tickets"])],
        ["noise reduction: events → alerts", fmt.rate(noise["events_to_alerts"])],
    ]
    misses = [
        [m["service"], m["feedback_channel"], m["tickets"], f"#{m['latest_ticket']}",
         ", ".join(m["should_have_caught"]) or _Raw(f'<span class="bad">{_e(m["note"])}</span>')]
        for m in layer["miss_rate"]["misses"][:30]
    ]  # fmt: skip
    per_noise = layer["noise_reduction"]["per_integration"]
    integrations = [
        [name, fmt.rate(fig), fmt.rate(per_noise.get(name, {}).get("alerts_to_tickets"))]
        for name, fig in layer["false_alarm_rate"]["per_integration"].items()
    ]
    rules = [
        [r["integration"], r["rule"], r["false_alarms"], fmt.rate(r["share_of_false_alarms"])]
        for r in layer["false_alarm_rate"]["per_rule"][:20]
    ]
    cov = layer["coverage"]
    columns = [c["id"] for c in cov["channels"]]
    services = cov["services"]
    grid = charts.heat_grid(
        [s["service"] for s in services],
        columns,
        [[s["cells"][c]["tickets"] for c in columns] for s in services],
        "Coverage map: tickets opened per service × channel (red: not covered)",
        [not s["covered"] for s in services],
    )
    miss_html = (
        "<h3>Misses: found by users first</h3>"
        + _table(["service", "found by", "tickets", "latest", "should have caught"], misses, (2,))
        if misses
        else ""
    )
    rule_html = (
        "<h3>False alarms per rule</h3>"
        + _table(["integration", "rule", "false alarms", "share of false alarms"], rules, (2,))
        if rules
        else ""
    )
    return (
        "<h2>3 · Channel data</h2><section>"
        + _table(["metric", "value [95% CI] (n/N)"], rates)
        + _note(layer["miss_rate"]["definition"])
        + miss_html
        + "<h3>Per integration</h3>"
        + _table(["integration", "false-alarm rate", "alerts → tickets"], integrations)
        + rule_html
        + f"<h3>Coverage</h3>{grid}{_note(cov['definition'])}</section>"
    )


def _markers(distribution: dict[str, Any], figure: dict[str, Any]) -> dict[str, int]:
    edges = distribution["upper_edges_seconds"]
    out = {}
    for key in ("median", "p90"):
        if figure[key] is not None:
            out[key] = bisect.bisect_right(edges, figure[key])
    return out


def _quality(report: dict[str, Any]) -> str:
    layer = report["quality"]
    rows = []
    for name in DURATION_NAMES:
        d = layer[name]
        rows.append(
            [fmt.TITLES[name], d["n"], fmt.duration(d["median"]), fmt.interval(d["median_ci95"]),
             fmt.duration(d["p90"]), fmt.interval(d["p90_ci95"]), fmt.duration(d["mean"]),
             _Raw(f'<span class="dim">{_e(d["note"])}</span>')]
        )  # fmt: skip
    hists = "".join(
        charts.histogram(
            layer["distributions"][name]["labels"],
            layer["distributions"][name]["counts"],
            f"{fmt.TITLES[name]}: distribution",
            _markers(layer["distributions"][name], layer[name]),
        )
        for name in DURATION_NAMES
    )
    sampled = next(
        (
            layer["distributions"][n]["note"]
            for n in DURATION_NAMES
            if layer["distributions"][n]["note"]
        ),
        None,
    )
    weekly = layer["weekly"]
    weeks = [w["week"] for w in weekly]
    trend = charts.weekly_bars(
        weeks,
        {s: [w["by_severity"].get(s, 0) for w in weekly] for s in charts.SEVERITY_COLOURS},
        charts.SEVERITY_COLOURS,
        [w["automatic_discovery_rate"]["value"] for w in weekly],
        "automatic-discovery rate",
        "Tickets per week by severity, and the automatic-discovery rate",
    )
    mtbf = layer["mtbf"]
    mtbf_rows = [
        [s, m["n"], fmt.duration(m["seconds"]) if m["seconds"] is not None else m["note"],
         fmt.duration(m["impact_seconds"])]
        for s, m in mtbf["per_service"].items()
    ]  # fmt: skip
    counts = layer["counts"]
    count_rows = [
        [label, ", ".join(f"{k} {v}" for k, v in counts[key].items())]
        for key, label in (
            ("by_severity", "severity"),
            ("by_root_cause_category", "root-cause category"),
            ("by_channel", "channel"),
        )
    ]
    dora = layer["dora"]
    dora_text = (
        dora["note"]
        if dora["change_failure_rate"] is None
        else f"change failure rate {fmt.rate(dora['change_failure_rate'])}; link: {dora['link']}"
    )
    return (
        "<h2>4 · Quality data</h2><section>"
        + _table(
            ["metric", "n", "median", "95% CI", "p90", "95% CI", "mean (labelled)", "note"],
            rows,
            (1, 2, 3, 4, 5, 6),
        )
        + f'<div class="grid">{hists}</div>{_note(sampled)}'
        + f"<h3>Trend</h3>{trend}"
        + f"<h3>MTBF (severity ≥ {_e(mtbf['severity_threshold'])})</h3>"
        + _table(["service", "tickets", "MTBF", "impact (union)"], mtbf_rows, (1, 2, 3))
        + _note(mtbf["definition"])
        + f"<h3>Counts ({counts['tickets']} tickets)</h3>"
        + _table(["dimension", "tickets"], count_rows)
        + f"<h3>DORA</h3><p>{_e(dora_text)}</p></section>"
    )


def _comparison(report: dict[str, Any]) -> str:
    comp = report.get("comparison")
    if not comp:
        return ""
    rows = []
    for entry in comp["changes"]:
        previous, current, diff, ci, verdict = fmt.change(entry)
        cls = "good" if entry.get("significant") else "dim"
        rows.append(
            [
                entry["metric"],
                previous,
                current,
                diff,
                ci,
                _Raw(f'<span class="{cls}">{_e(verdict)}</span>'),
            ]
        )
    prev = comp["previous_window"]
    return (
        f'<h2>Change from the previous window</h2><p class="meta">{_e(prev["from"])} →'
        f" {_e(prev['to'])}</p>"
        + _table(["metric", "previous", "current", "difference", "95% CI", "verdict"], rows)
        + _note(comp["note"])
    )


def render_html(report: dict[str, Any]) -> str:
    w, f = report["window"], report["filters"]
    scope = (
        ", ".join(f"{k} {v}" for k, v in (("service", f["service"]), ("team", f["team"])) if v)
        or "all services"
    )
    if f.get("severity"):
        scope += f", severity ≥ {f['severity']}"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Watchkeeper quality report {_e(w['from'][:10])} – {_e(w['to'][:10])}</title>"
        f"<style>{CSS}</style></head><body>"
        f'<h1>Quality report</h1><p class="meta">{_e(w["from"])} → {_e(w["to"])} · {_e(scope)}'
        f" · generated {_e(report['generated_at'])} · {_e(report['units'])}</p>"
        + _slo(report)
        + _operational(report)
        + _channel(report)
        + _quality(report)
        + _comparison(report)
        + "</body></html>"
    )
