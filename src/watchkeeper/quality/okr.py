"""Objectives and key results: each key result's baseline, current value, target and progress,
measured with the same definitions as the report, and whether the change is significant yet.

The baseline is the configured period (its `to` day included); the current value covers the
time after the baseline up to now, or up to the deadline once it has passed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Final

from sqlalchemy import Connection

from watchkeeper.errors import Problem
from watchkeeper.quality import compare, queries
from watchkeeper.quality.catalog import Catalog
from watchkeeper.quality.catalog import catalog as catalog_of
from watchkeeper.quality.layer_channel import (
    coverage_section,
    discovery,
    false_alarm_section,
    late_section,
    miss_section,
    noise_section,
    watching_channels,
)
from watchkeeper.quality.metrics import (
    DURATIONS,
    HANDS_ON,
    MTBF_THRESHOLD,
    met,
    mtbf_figure,
    per_week,
    progress,
    rate_figure,
    target_value,
)
from watchkeeper.quality.ranks import DurationSource, summarize
from watchkeeper.quality.scope import Scope, day_start, iso, service_ids
from watchkeeper.quality.sql import detected_in, ticket_conditions
from watchkeeper.storage.tables import tickets

T = tickets.c
HIGHER_IS_BETTER: Final = frozenset(
    {
        "automatic_discovery_rate",
        "alerts_to_tickets",
        "events_to_alerts",
        "channel_coverage",
        "mtbf",
    }
)
COUNTS: Final = frozenset({"tickets", "interruptions", "sleep_interruptions"})
NO_INTERVAL: Final = "no interval for a change of this metric; compare the values"


@dataclass
class Measure:
    """One metric over one scope: its value and what a significance test needs."""

    value: float | None
    n: int
    rate: dict[str, Any] | None = None  # numerator/denominator, for Newcombe
    sample: list[float] = field(default_factory=list)  # for the bootstrap
    count: int | None = None  # events, for the Poisson comparison
    note: str | None = None


def _duration(conn: Connection, scope: Scope, metric: str, statistic: str) -> Measure:
    conditions = ticket_conditions(scope)
    if metric == "failed_deployment_recovery_time":
        expr = T.mitigated_at - T.impact_start
        conditions.append(queries.linked_to_change())
    elif metric == "hands_on_time":
        expr = T[HANDS_ON[1]] - T[HANDS_ON[0]]
    else:
        start, end = DURATIONS[metric]
        expr = T[end] - T[start]
    found = summarize(conn, DurationSource(conditions, {metric: expr}, detected_in(scope)))[metric]
    value = getattr(found.summary, statistic)
    return Measure(value, found.summary.n, sample=found.sample, note=found.summary.reason)


def _rate(conn: Connection, catalog: Catalog, scope: Scope, metric: str) -> dict[str, Any]:
    if metric == "change_failure_rate":
        found = queries.changes(conn, scope)
        return rate_figure(found.failed, found.changes)
    groups = queries.ticket_groups(conn, scope)
    if metric == "automatic_discovery_rate":
        return discovery(groups)
    if metric == "late_detection_rate":
        return late_section(groups)
    if metric == "false_alarm_rate":
        return false_alarm_section(groups, [])
    alerts = queries.alert_flows(conn, scope)
    if metric == "miss_rate":
        return miss_section(groups, queries.misses(conn, scope), watching_channels(catalog, alerts))
    if metric == "channel_coverage":
        return coverage_section(scope, catalog, groups, alerts)
    noise = noise_section(groups, alerts, queries.event_flows(conn, scope))["overall"]
    figure: dict[str, Any] = noise[metric]
    return figure


def measure(
    conn: Connection, catalog: Catalog, scope: Scope, metric: str, statistic: str
) -> Measure:
    """The metric's value over the scope, by the report's definitions."""
    if statistic in ("median", "p90"):
        return _duration(conn, scope, metric, statistic)
    if statistic == "rate":
        figure = _rate(conn, catalog, scope, metric)
        return Measure(figure["value"], figure["n"], rate=figure, note=figure.get("note"))
    if metric == "mtbf":
        threshold = scope.severity or MTBF_THRESHOLD
        pooled = queries.impact_unions(conn, scope, threshold, per_service=False)
        window = max(0.0, min(scope.end, scope.now) - scope.start)
        u = pooled[0] if pooled else None
        value = mtbf_figure(window, u.impact_seconds if u else 0.0, u.tickets if u else 0)
        return Measure(value.seconds, value.n_tickets, note=value.reason)
    if metric == "escalations_per_ticket":
        groups = queries.ticket_groups(conn, scope)
        n = sum(g.tickets for g in groups)
        total = sum(g.escalations for g in groups)
        return Measure(total / n if n else None, n, note="mean escalations per ticket")
    if metric == "tickets":
        n = sum(g.tickets for g in queries.ticket_groups(conn, scope))
    else:
        rows = queries.interruptions(conn, scope)
        wanted = [r for r in rows if metric == "interruptions" or r.hour_class == "sleep"]
        n = sum(r.count for r in wanted)
    return Measure(per_week(n, scope.seconds), n, count=n, note="per week")


def _change(
    metric: str, statistic: str, base: Measure, cur: Measure, seconds: tuple[float, float]
) -> dict[str, Any]:
    if base.rate is not None and cur.rate is not None:
        return compare.rate_change(metric, cur.rate, base.rate)
    if statistic in ("median", "p90"):
        q = 0.5 if statistic == "median" else 0.9
        return compare.quantile_change(
            metric, statistic, q, cur.value, base.value, cur.sample, base.sample
        )
    if metric in COUNTS and base.count is not None and cur.count is not None:
        return compare.count_change(metric, cur.count, seconds[1], base.count, seconds[0])
    difference = None if cur.value is None or base.value is None else cur.value - base.value
    return {
        "metric": metric,
        "current": cur.value,
        "previous": base.value,
        "difference": difference,
        "ci95": None,
        "significant": None,
        "note": NO_INTERVAL,
    }


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _relative(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    return float(str(value).strip().rstrip("%"))


def key_result(
    conn: Connection, catalog: Catalog, spec: dict[str, Any], *, now: float
) -> dict[str, Any]:
    scope_spec = spec.get("scope") or {}
    try:
        ids = service_ids(conn, service=scope_spec.get("service"), team=scope_spec.get("team"))
    except Problem as exc:
        return {"id": spec.get("id"), "error": exc.detail}
    metric, statistic = str(spec["metric"]), str(spec["statistic"])
    base_start = day_start(_day(spec["baseline"]["from"]))
    base_end = day_start(_day(spec["baseline"]["to"]) + timedelta(days=1))
    deadline_day = _day(spec["deadline"])
    deadline = day_start(deadline_day + timedelta(days=1))
    base_scope = Scope(
        start=base_start,
        end=base_end,
        now=now,
        service_ids=ids,
        severity=scope_spec.get("severity"),
        service=scope_spec.get("service"),
        team=scope_spec.get("team"),
    )
    base = measure(conn, catalog, base_scope, metric, statistic)
    target = spec.get("target") or {}
    absolute = target.get("absolute")
    relative = _relative(target.get("relative"))
    goal = target_value(base.value, absolute=absolute, relative=relative)
    out: dict[str, Any] = {
        "id": spec.get("id"),
        "metric": metric,
        "statistic": statistic,
        "scope": {k: scope_spec.get(k) for k in ("service", "team", "severity")},
        "direction": "higher is better" if metric in HIGHER_IS_BETTER else "lower is better",
        "baseline": {
            "from": iso(base_start),
            "to": iso(base_end),
            "value": base.value,
            "n": base.n,
            "note": base.note,
        },
        "target": {
            "absolute": absolute,
            "relative_percent": relative,
            "value": goal,
        },
        "deadline": deadline_day.isoformat(),
        "deadline_passed": now >= deadline,
    }
    cur_end = min(now, deadline)
    if cur_end <= base_end:
        out.update(
            current=None,
            progress_percent=None,
            met=None,
            significant=None,
            change=None,
            note="the baseline period has not ended yet",
        )
        return out
    cur = measure(conn, catalog, base_scope.window(base_end, cur_end), metric, statistic)
    change = _change(metric, statistic, base, cur, (base_end - base_start, cur_end - base_end))
    higher = metric in HIGHER_IS_BETTER
    reached = met(base.value, cur.value, goal)
    if base.value is None and goal is not None and cur.value is not None:
        reached = cur.value >= goal if higher else cur.value <= goal
    out.update(
        current={
            "from": iso(base_end),
            "to": iso(cur_end),
            "value": cur.value,
            "n": cur.n,
            "note": cur.note,
        },
        progress_percent=progress(base.value, cur.value, goal),
        met=reached,
        significant=change.get("significant"),
        change=change,
        note=change.get("note"),
    )
    return out


def objectives(conn: Connection, *, now: float) -> dict[str, Any]:
    """Every configured objective with its key results measured."""
    catalog = catalog_of(conn)
    out = []
    for spec in catalog.objects.get("objective", []):
        out.append(
            {
                "id": spec.get("id"),
                "title": spec.get("title"),
                "owner": spec.get("owner"),
                "key_results": [
                    key_result(conn, catalog, kr, now=now) for kr in spec.get("key_results") or []
                ],
            }
        )
    return {
        "generated_at": iso(now),
        "objectives": out,
        "note": (
            "baseline: the configured period, its last day included; current: from the end of"
            " the baseline to now (or to the deadline once passed); same definitions as"
            " /api/v1/quality"
        ),
    }
