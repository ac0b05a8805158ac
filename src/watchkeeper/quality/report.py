"""The quality report: the four layers for one scope, and optionally the change against the
window just before. The API, the CLI renderers and the OKRs all start here."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Connection, Engine

from watchkeeper.quality import compare, queries
from watchkeeper.quality.catalog import Catalog
from watchkeeper.quality.catalog import catalog as catalog_of
from watchkeeper.quality.layer_channel import channel_layer
from watchkeeper.quality.layer_operational import operational_layer
from watchkeeper.quality.layer_quality import dora_section, quality_layer
from watchkeeper.quality.layer_slo import slo_layer
from watchkeeper.quality.metrics import DURATIONS, MTBF_THRESHOLD
from watchkeeper.quality.ranks import DurationSource, Summarized, summarize
from watchkeeper.quality.scope import Scope, iso
from watchkeeper.quality.sql import detected_in, ticket_conditions
from watchkeeper.storage.tables import tickets


@dataclass(frozen=True)
class Computed:
    """A report for one scope, and what a comparison needs beyond the JSON (the samples)."""

    scope: Scope
    body: dict[str, Any]
    summaries: dict[str, Summarized]


@dataclass(frozen=True)
class _Flows:
    """What the alerts, events and notifications tables (and the per-service unions) say:
    independent of the other queries, so it can be read on a second connection."""

    alerts: list[queries.Flow]
    events: list[queries.Flow]
    interruptions: list[queries.Interruptions]
    unions: list[queries.ImpactUnion]
    responders: list[queries.Responder]
    rules: list[queries.RuleFalseAlarms]


def _flows(conn: Connection, scope: Scope, threshold: str) -> _Flows:
    return _Flows(
        alerts=queries.alert_flows(conn, scope),
        events=queries.event_flows(conn, scope),
        interruptions=queries.interruptions(conn, scope),
        unions=queries.impact_unions(conn, scope, threshold),
        responders=queries.hands_on_by_responder(conn, scope),
        rules=queries.false_alarms_by_rule(conn, scope),
    )


def _flows_aside(pool: Engine, scope: Scope, threshold: str) -> _Flows:
    with pool.connect() as conn:
        return _flows(conn, scope, threshold)


def compute(
    conn: Connection,
    scope: Scope,
    catalog: Catalog | None = None,
    *,
    pool: Engine | None = None,
) -> Computed:
    """The four layers for one scope. With `pool`, the alert, event and notification queries
    run on a second connection from it while the ticket queries run on `conn`: the report
    uses both cores. (Each connection reads its own snapshot; the only figures that mix the
    two, the noise reductions, already allow for counts that cross a window's edge.)"""
    catalog = catalog or catalog_of(conn)
    threshold = scope.severity or MTBF_THRESHOLD
    with ThreadPoolExecutor(max_workers=1) as aside:
        pending = aside.submit(_flows_aside, pool, scope, threshold) if pool else None
        groups = queries.ticket_groups(conn, scope)
        summaries = summarize(conn, queries.duration_source(scope))
        spread = queries.escalation_spread(conn, scope)
        found = queries.misses(conn, scope)
        changes = queries.changes(conn, scope)
        recovery = None
        if changes.changes:
            source = DurationSource(
                [*ticket_conditions(scope), queries.linked_to_change()],
                {"recovery": tickets.c.mitigated_at - tickets.c.impact_start},
                detected_in(scope),
            )
            recovery = summarize(conn, source)["recovery"]
        flows = pending.result() if pending else _flows(conn, scope, threshold)
    body = {
        "window": {"from": iso(scope.start), "to": iso(scope.end), "seconds": scope.seconds},
        "filters": {
            "service": scope.service,
            "team": scope.team,
            "services": None if scope.service_ids is None else list(scope.service_ids),
            "severity": scope.severity,
            "severity_means": "at least this severity" if scope.severity else None,
        },
        "generated_at": iso(scope.now),
        "units": "durations in seconds; rates between 0 and 1; ci95 is a 95% interval",
        "slo": slo_layer(scope, catalog),
        "operational": operational_layer(
            scope,
            catalog,
            flows.interruptions,
            summaries["hands_on_time"],
            flows.responders,
            groups,
            spread,
        ),
        "channel": channel_layer(
            scope, catalog, groups, found, flows.alerts, flows.events, flows.rules
        ),
        "quality": quality_layer(
            scope,
            catalog,
            summaries,
            groups,
            threshold,
            flows.unions,
            dora_section(changes, recovery),
        ),
        "comparison": None,
    }
    return Computed(scope, body, summaries)


RATES: Final = (
    ("channel", "automatic_discovery_rate"),
    ("channel", "miss_rate"),
    ("channel", "late_detection_rate"),
    ("channel", "false_alarm_rate"),
    ("channel", "coverage"),
)


def comparison(current: Computed, previous: Computed) -> dict[str, Any]:
    """Each headline metric's change from the previous window, with its interval."""
    changes: list[dict[str, Any]] = []
    for layer, name in RATES:
        changes.append(
            compare.rate_change(
                f"{layer}.{name}", current.body[layer][name], previous.body[layer][name]
            )
        )
    cur_noise = current.body["channel"]["noise_reduction"]["overall"]
    prev_noise = previous.body["channel"]["noise_reduction"]["overall"]
    for name in ("alerts_to_tickets", "events_to_alerts"):
        changes.append(
            compare.rate_change(
                f"channel.noise_reduction.{name}", cur_noise[name], prev_noise[name]
            )
        )
    for name in (*DURATIONS, "hands_on_time"):
        cur, prev = current.summaries[name], previous.summaries[name]
        for statistic, q in (("median", 0.5), ("p90", 0.9)):
            layer = "operational" if name == "hands_on_time" else "quality"
            changes.append(
                compare.quantile_change(
                    f"{layer}.{name}",
                    statistic,
                    q,
                    getattr(cur.summary, statistic),
                    getattr(prev.summary, statistic),
                    cur.sample,
                    prev.sample,
                )
            )
    changes.append(
        compare.count_change(
            "quality.counts.tickets",
            current.body["quality"]["counts"]["tickets"],
            current.scope.seconds,
            previous.body["quality"]["counts"]["tickets"],
            previous.scope.seconds,
        )
    )
    cur_int = current.body["operational"]["interruptions"]["total"]
    prev_int = previous.body["operational"]["interruptions"]["total"]
    for key in ("total", "sleep"):
        changes.append(
            compare.count_change(
                f"operational.interruptions.{key}",
                cur_int[key],
                current.scope.seconds,
                prev_int[key],
                previous.scope.seconds,
            )
        )
    return {
        "to": "previous",
        "previous_window": {
            "from": iso(previous.scope.start),
            "to": iso(previous.scope.end),
            "seconds": previous.scope.seconds,
        },
        "changes": changes,
        "note": (
            "difference = this window − the previous one; a change whose interval covers zero"
            " is marked not significant"
        ),
    }


def build_report(
    conn: Connection,
    scope: Scope,
    *,
    compare_to: str | None = None,
    pool: Engine | None = None,
) -> dict[str, Any]:
    """The report as JSON-ready data: sections slo, operational, channel, quality. With
    `pool` (an engine on the same database) it reads on two connections at once."""
    catalog = catalog_of(conn)
    current = compute(conn, scope, catalog, pool=pool)
    body = current.body
    if compare_to == "previous":
        previous = compute(conn, scope.previous(), catalog, pool=pool)
        body["comparison"] = comparison(current, previous)
    return body
