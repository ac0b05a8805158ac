"""Layer 4 — quality data: TTD…TTR, MTBF, counts, DORA, and the weekly trend."""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from watchkeeper.quality.catalog import Catalog
from watchkeeper.quality.metrics import (
    CHANGE_LINK,
    DURATIONS,
    duration_figure,
    excluded_reason,
    mtbf_dict,
    mtbf_figure,
    rate_figure,
)
from watchkeeper.quality.queries import Changes, ImpactUnion, TicketGroup
from watchkeeper.quality.ranks import Summarized
from watchkeeper.quality.scope import WEEK, WEEK_ORIGIN, Scope, week_label

# Distribution buckets (upper edges in seconds): 1m 5m 15m 30m 1h 2h 4h 8h 1d, then beyond.
EDGES: Final = (60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0, 28800.0, 86400.0)
# each bucket by where it starts, short enough to sit under a narrow bar
LABELS: Final = ("<1m", "1m+", "5m+", "15m+", "30m+", "1h+", "2h+", "4h+", "8h+", "1d+")
NO_CHANGES: Final = "no change events recorded in the window"


def durations_section(summaries: Mapping[str, Summarized]) -> dict[str, Any]:
    return {
        name: duration_figure(
            summaries[name].summary, tickets=summaries[name].rows, reason=excluded_reason(name)
        )
        for name in DURATIONS
    }


def distribution(summarized: Summarized) -> dict[str, Any]:
    """Bucket counts of the uniform sample (every value when the window is small)."""
    counts = [0] * (len(EDGES) + 1)
    for value in summarized.sample:
        counts[bisect.bisect_right(EDGES, value)] += 1
    sampled = summarized.fraction < 1.0
    return {
        "labels": list(LABELS),
        "upper_edges_seconds": list(EDGES),
        "counts": counts,
        "values": len(summarized.sample),
        "of": summarized.summary.n,
        "sampled": sampled,
        "note": (
            f"shape from a uniform sample of {len(summarized.sample)} of {summarized.summary.n}"
            " values; the figures above are exact"
            if sampled
            else None
        ),
    }


def weeks_of(scope: Scope) -> list[int]:
    first = int((scope.start - WEEK_ORIGIN) // WEEK)
    last = int((max(scope.start, scope.end - 1e-6) - WEEK_ORIGIN) // WEEK)
    return list(range(first, last + 1))


def _tally(groups: Iterable[TicketGroup]) -> dict[str, Any]:
    severity: dict[str, int] = defaultdict(int)
    category: dict[str, int] = defaultdict(int)
    channel: dict[str, int] = defaultdict(int)
    total = 0
    for g in groups:
        total += g.tickets
        severity[g.severity] += g.tickets
        category[g.category or "(none)"] += g.tickets
        channel[g.channel or "manual"] += g.tickets
    return {
        "tickets": total,
        "by_severity": dict(sorted(severity.items())),
        "by_root_cause_category": dict(sorted(category.items())),
        "by_channel": dict(sorted(channel.items())),
    }


def counts_section(scope: Scope, groups: Sequence[TicketGroup]) -> dict[str, Any]:
    weeks = weeks_of(scope)
    per_service: dict[str, dict[int, list[TicketGroup]]] = defaultdict(lambda: defaultdict(list))
    for g in groups:
        per_service[g.service][g.week].append(g)
    return {
        **_tally(groups),
        "weeks": [week_label(w) for w in weeks],
        "per_service": {
            service: {
                **_tally(g for gs in by_week.values() for g in gs),
                "per_week": {
                    week_label(w): _tally(by_week.get(w, ())) for w in weeks if w in by_week
                },
            }
            for service, by_week in sorted(per_service.items())
        },
    }


def weekly_section(scope: Scope, groups: Sequence[TicketGroup]) -> list[dict[str, Any]]:
    by_week: dict[int, list[TicketGroup]] = defaultdict(list)
    for g in groups:
        by_week[g.week].append(g)
    out = []
    for w in weeks_of(scope):
        gs = by_week.get(w, [])
        tally = _tally(gs)
        automatic = sum(g.tickets for g in gs if g.channel_kind == "automatic")
        out.append(
            {
                "week": week_label(w),
                "tickets": tally["tickets"],
                "by_severity": tally["by_severity"],
                "automatic_discovery_rate": rate_figure(automatic, tally["tickets"]),
                "false_alarms": sum(g.false_alarms for g in gs),
                "resolved": sum(g.resolved for g in gs),
            }
        )
    return out


def mtbf_section(
    scope: Scope,
    catalog: Catalog,
    threshold: str,
    per_service: Iterable[ImpactUnion],
) -> dict[str, Any]:
    window = max(0.0, min(scope.end, scope.now) - scope.start)
    unions = {u.key: u for u in per_service}
    services = sorted({*(s for s in catalog.services if scope.includes(s)), *unions})

    def figure(u: ImpactUnion | None) -> dict[str, Any]:
        if u is None:
            return mtbf_dict(mtbf_figure(window, 0.0, 0))
        return mtbf_dict(mtbf_figure(window, u.impact_seconds, u.tickets))

    return {
        "severity_threshold": threshold,
        "definition": (
            "(window − length of the union of impact_start → mitigated intervals) ÷ tickets,"
            f" for tickets of severity {threshold} or above; an impact still open runs to now"
        ),
        "window_seconds": window,
        "per_service": {s: figure(unions.get(s)) for s in services},
    }


def dora_section(found: Changes, recovery: Summarized | None) -> dict[str, Any]:
    link = (
        f"a change event on the ticket's service within {CHANGE_LINK / 3600:g} h before the"
        " ticket was detected (false alarms and merged tickets are not failures)"
    )
    if found.changes == 0:
        return {
            "changes": 0,
            "change_failure_rate": None,
            "failed_deployment_recovery_time": None,
            "link": link,
            "link_seconds": CHANGE_LINK,
            "note": NO_CHANGES,
        }
    return {
        "changes": found.changes,
        "change_failure_rate": rate_figure(found.failed, found.changes),
        "failed_deployment_recovery_time": (
            None
            if recovery is None
            else {
                "definition": "mitigated − impact_start of the tickets linked to a change",
                **duration_figure(
                    recovery.summary, tickets=recovery.rows, reason="not mitigated yet"
                ),
            }
        ),
        "link": link,
        "link_seconds": CHANGE_LINK,
        "note": "every change event counts as a deployment",
    }


def quality_layer(
    scope: Scope,
    catalog: Catalog,
    summaries: Mapping[str, Summarized],
    groups: Sequence[TicketGroup],
    threshold: str,
    unions: Iterable[ImpactUnion],
    dora: dict[str, Any],
) -> dict[str, Any]:
    return {
        **durations_section(summaries),
        "mtbf": mtbf_section(scope, catalog, threshold, unions),
        "counts": counts_section(scope, groups),
        "dora": dora,
        "distributions": {name: distribution(summaries[name]) for name in DURATIONS},
        "weekly": weekly_section(scope, groups),
    }
