"""The report as rich tables in a terminal, one group of tables per layer."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group, RenderableType
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from watchkeeper.quality import format as fmt

DURATION_NAMES = ("ttd", "tta", "ttl", "ttm", "ttr")
TOP = 15


def _note(text: str | None) -> RenderableType:
    return Text(text or "", style="dim italic")


def header(report: dict[str, Any]) -> RenderableType:
    w, f = report["window"], report["filters"]
    scope = ", ".join(f"{k} {v}" for k, v in (("service", f["service"]), ("team", f["team"])) if v)
    if f.get("severity"):
        scope += (", " if scope else "") + f"severity ≥ {f['severity']}"
    return Text.assemble(
        ("Quality report ", "bold"),
        f"{w['from']} → {w['to']}",
        f"  ({scope or 'all services'})",
    )


def slo_tables(report: dict[str, Any]) -> list[RenderableType]:
    layer = report["slo"]
    table = Table("SLO", "service", "objective", "window", "SLI ratio", "budget left", title="SLOs")
    for s in layer["slos"]:
        table.add_row(
            s["id"],
            s["service"],
            f"{s['objective_percent']:g}%",
            fmt.duration(s["window_seconds"]),
            fmt.DASH,
            fmt.DASH,
        )
    return [table, _note(layer["note"])] if layer["slos"] else [_note(layer["note"])]


def operational_tables(report: dict[str, Any]) -> list[RenderableType]:
    layer = report["operational"]
    inter = layer["interruptions"]
    people = Table(
        "person", "time zone", "total", "business", "off hours", "sleep", "per week",
        title="Interruptions (pages per ticket and person)",
    )  # fmt: skip
    for p in inter["per_person"][:TOP]:
        per_week = p["per_week"]
        people.add_row(
            p["user"],
            p["time_zone"] or fmt.DASH,
            str(p["total"]),
            str(p["business"]),
            str(p["off"]),
            Text(str(p["sleep"]), style="bold red" if p["sleep"] else ""),
            fmt.DASH if per_week is None else f"{per_week:.1f}",
        )
    balance = Table("rotation", "members", "total", "busiest ÷ mean", "CV", title="Balance")
    for b in inter["balance"]:
        name = b.get("schedule") or b.get("team") or fmt.DASH
        ratio, cv = b["max_over_mean"], b["cv"]
        balance.add_row(
            str(name),
            str(b["members"]),
            str(b["total"]),
            fmt.DASH if ratio is None else f"{ratio:.2f}",
            fmt.DASH if cv is None else f"{cv:.2f}",
        )
    hands = layer["hands_on_time"]
    hands_table = Table(
        "responder", "tickets", "total hands-on", "mean (labelled)", title="Hands-on time"
    )
    for r in hands["per_responder"][:TOP]:
        hands_table.add_row(
            r["responder"], str(r["tickets"]), fmt.duration(r["total_seconds"]),
            fmt.duration(r["mean"]),
        )  # fmt: skip
    esc = layer["escalations_per_ticket"]
    mean = fmt.DASH if esc["mean"] is None else f"{esc['mean']:.2f}"
    esc_text = (
        f"escalations per ticket (mean): {mean} over n = {esc['n']};"
        f" distribution {esc['distribution']}"
    )
    return [
        people,
        _note(inter["definition"]),
        balance,
        hands_table,
        _note(
            f"hands-on median {fmt.duration(hands['median'])} {fmt.interval(hands['median_ci95'])},"
            f" p90 {fmt.duration(hands['p90'])}, n = {hands['n']}"
        ),
        Text(esc_text),
        _note(f"tickets per shift: {layer['tickets_per_shift']['note']}"),
    ]


def channel_tables(report: dict[str, Any]) -> list[RenderableType]:
    layer = report["channel"]
    rates = Table("metric", "value [95% CI] (n/N)", title="Channels")
    for key, label in (
        ("automatic_discovery_rate", "automatic-discovery rate"),
        ("miss_rate", "miss rate"),
        ("late_detection_rate", "late-detection rate"),
        ("false_alarm_rate", "false-alarm rate"),
        ("coverage", "channel coverage"),
    ):
        rates.add_row(label, fmt.rate(layer[key]))
    noise = layer["noise_reduction"]["overall"]
    rates.add_row("noise: alerts → tickets", fmt.rate(noise["alerts_to_tickets"]))
    rates.add_row("noise: events → alerts", fmt.rate(noise["events_to_alerts"]))
    misses = Table("service", "found by", "tickets", "latest", "should have caught", title="Misses")
    for m in layer["miss_rate"]["misses"][:TOP]:
        misses.add_row(
            m["service"],
            m["feedback_channel"] or fmt.DASH,
            str(m["tickets"]),
            f"#{m['latest_ticket']}",
            ", ".join(m["should_have_caught"]) or Text(m["note"] or "", style="red"),
        )
    noisy = Table("integration", "false alarms", "alerts → tickets", title="Per integration")
    per_noise = layer["noise_reduction"]["per_integration"]
    for name, figure in layer["false_alarm_rate"]["per_integration"].items():
        n = per_noise.get(name, {}).get("alerts_to_tickets")
        noisy.add_row(name, fmt.rate(figure), fmt.rate(n))
    rules = Table("integration", "rule", "false alarms", "share", title="False alarms per rule")
    for r in layer["false_alarm_rate"]["per_rule"][:TOP]:
        rules.add_row(
            r["integration"] or fmt.DASH,
            r["rule"],
            str(r["false_alarms"]),
            fmt.percent(r["share_of_false_alarms"]["value"]),
        )
    cov = layer["coverage"]
    channels = [c["id"] for c in cov["channels"]]
    matrix = Table("service", "covered", *channels, title="Coverage (tickets opened per channel)")
    for s in cov["services"]:
        cells = [str(s["cells"][c]["tickets"] or "·") for c in channels]
        mark = Text("yes", style="green") if s["covered"] else Text("NO", style="bold red")
        matrix.add_row(s["service"], mark, *cells)
    out: list[RenderableType] = [rates, _note(layer["miss_rate"]["definition"])]
    if layer["miss_rate"]["misses"]:
        out.append(misses)
    out += [noisy]
    if layer["false_alarm_rate"]["per_rule"]:
        out.append(rules)
    out.append(matrix)
    return out


def quality_tables(report: dict[str, Any]) -> list[RenderableType]:
    layer = report["quality"]
    durations = Table(
        "metric", "n", "median", "95% CI", "p90", "95% CI", "mean (labelled)",
        title="Times (durations)",
    )  # fmt: skip
    notes = []
    for name in DURATION_NAMES:
        d = layer[name]
        durations.add_row(
            fmt.TITLES[name],
            str(d["n"]),
            fmt.duration(d["median"]),
            fmt.interval(d["median_ci95"]),
            fmt.duration(d["p90"]),
            fmt.interval(d["p90_ci95"]),
            fmt.duration(d["mean"]),
        )
        if d["note"]:
            notes.append(_note(f"{fmt.TITLES[name]}: {d['note']}"))
    mtbf = layer["mtbf"]
    mtbf_table = Table(
        "service", "tickets", "MTBF", "impact (union)",
        title=f"MTBF (severity ≥ {mtbf['severity_threshold']})",
    )  # fmt: skip
    for service, m in mtbf["per_service"].items():
        mtbf_table.add_row(
            service,
            str(m["n"]),
            fmt.duration(m["seconds"]) if m["seconds"] is not None else _note(m["note"]),
            fmt.duration(m["impact_seconds"]),
        )
    counts = layer["counts"]
    by = Table("dimension", "counts", title=f"Tickets: {counts['tickets']}")
    for key, label in (
        ("by_severity", "severity"),
        ("by_root_cause_category", "root-cause category"),
        ("by_channel", "channel"),
    ):
        by.add_row(label, ", ".join(f"{k} {v}" for k, v in counts[key].items()) or fmt.DASH)
    weekly = Table("week", "tickets", "automatic-discovery rate", "false alarms", title="Weekly")
    for w in layer["weekly"]:
        weekly.add_row(
            w["week"],
            str(w["tickets"]),
            fmt.rate(w["automatic_discovery_rate"]),
            str(w["false_alarms"]),
        )
    dora = layer["dora"]
    if dora["change_failure_rate"] is None:
        dora_text = f"DORA: {dora['note']}"
    else:
        dora_text = (
            f"DORA: change failure rate {fmt.rate(dora['change_failure_rate'])};"
            f" link: {dora['link']}"
        )
    return [durations, *notes, mtbf_table, by, weekly, _note(dora_text)]


def comparison_table(report: dict[str, Any]) -> list[RenderableType]:
    comp = report.get("comparison")
    if not comp:
        return []
    prev = comp["previous_window"]
    table = Table(
        "metric", "previous", "current", "difference", "95% CI of the difference", "verdict",
        title=f"Change from the previous window ({prev['from']} → {prev['to']})",
    )  # fmt: skip
    for entry in comp["changes"]:
        previous, current, diff, ci, verdict = fmt.change(entry)
        style = "bold" if entry.get("significant") else "dim"
        label = entry["metric"].split(".", 1)[-1]
        table.add_row(label, previous, current, diff, ci, Text(verdict, style=style))
    return [table, _note(comp["note"])]


def render(report: dict[str, Any]) -> RenderableType:
    parts: list[RenderableType] = [header(report)]
    for title, tables in (
        ("1 · SLO", slo_tables(report)),
        ("2 · Operational", operational_tables(report)),
        ("3 · Channel", channel_tables(report)),
        ("4 · Quality", quality_tables(report)),
    ):
        parts.append(Rule(title))
        parts.extend(tables)
    compared = comparison_table(report)
    if compared:
        parts.append(Rule("Comparison"))
        parts.extend(compared)
    return Group(*parts)


def print_report(report: dict[str, Any], console: Console | None = None) -> None:
    (console or Console()).print(render(report))


def render_objectives(data: dict[str, Any]) -> RenderableType:
    parts: list[RenderableType] = []
    for obj in data["objectives"]:
        table = Table(
            "key result", "metric", "baseline", "current", "target", "progress", "met",
            "change", title=f"{obj['title']} ({obj['id']})",
        )  # fmt: skip
        for kr in obj["key_results"]:
            if "error" in kr:
                table.add_row(str(kr["id"]), Text(kr["error"], style="red"), "", "", "", "", "", "")
                continue
            metric, stat = kr["metric"], kr["statistic"]
            base, cur = kr["baseline"], kr["current"]
            progress = kr["progress_percent"]
            verdict = "significant" if kr["significant"] else (kr.get("note") or "not significant")
            table.add_row(
                str(kr["id"]),
                f"{metric} {stat}",
                f"{fmt.metric_value(metric, stat, base['value'])} (n={base['n']})",
                fmt.DASH
                if cur is None
                else f"{fmt.metric_value(metric, stat, cur['value'])} (n={cur['n']})",
                fmt.metric_value(metric, stat, kr["target"]["value"]),
                fmt.DASH if progress is None else f"{progress:.0f}%",
                {True: "yes", False: "no", None: fmt.DASH}[kr["met"]],
                verdict,
            )
        parts.append(table)
    parts.append(_note(data["note"]))
    return Group(*parts)
