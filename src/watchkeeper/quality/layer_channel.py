"""Layer 3 — channel data: which incidents machines found first, which they missed, and noise."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from watchkeeper.quality.catalog import Catalog
from watchkeeper.quality.metrics import MISS_LOOK_BACK, rate_figure, reduction_figure
from watchkeeper.quality.queries import Flow, Miss, RuleFalseAlarms, TicketGroup
from watchkeeper.quality.scope import Scope

MANUAL = "manual"


def _sum(groups: Iterable[TicketGroup], attr: str) -> int:
    return sum(int(getattr(g, attr)) for g in groups)


def _by(groups: Sequence[TicketGroup], key: str) -> dict[str, list[TicketGroup]]:
    out: dict[str, list[TicketGroup]] = defaultdict(list)
    for g in groups:
        out[str(getattr(g, key) or "(none)")].append(g)
    return dict(sorted(out.items()))


def _automatic(groups: Iterable[TicketGroup]) -> int:
    return sum(g.tickets for g in groups if g.channel_kind == "automatic")


def channel_of(catalog: Catalog, integration: str | None) -> str | None:
    spec = catalog.integrations.get(integration or "")
    return None if spec is None else spec.get("channel")


def watching_channels(catalog: Catalog, flows: Iterable[Flow]) -> dict[str, list[str]]:
    """Per service, the automatic channels that watch it: integrations configured with it as
    their service, and channels whose alerts were routed to it in the window."""
    out: dict[str, set[str]] = defaultdict(set)
    for spec in catalog.integrations.values():
        channel = spec.get("channel")
        if spec.get("service") and catalog.channels.get(channel or "") == "automatic":
            out[str(spec["service"])].add(str(channel))
    for f in flows:
        channel = channel_of(catalog, f.integration)
        if f.service and channel and catalog.channels.get(channel) == "automatic":
            out[f.service].add(channel)
    return {s: sorted(c) for s, c in out.items()}


def discovery(groups: Sequence[TicketGroup]) -> dict[str, Any]:
    total = _sum(groups, "tickets")
    out = rate_figure(_automatic(groups), total)
    out["per_service"] = {
        s: rate_figure(_automatic(gs), _sum(gs, "tickets"))
        for s, gs in _by(groups, "service").items()
    }
    return out


def miss_section(
    groups: Sequence[TicketGroup], found: Sequence[Miss], watching: dict[str, list[str]]
) -> dict[str, Any]:
    total = _sum(groups, "tickets")
    out = rate_figure(sum(m.tickets for m in found), total)
    out["look_back_seconds"] = MISS_LOOK_BACK
    out["definition"] = (
        "tickets opened by a feedback channel with no automatic event for the same service in"
        " the look-back before detection, ÷ all tickets"
    )
    rows = []
    for m in sorted(found, key=lambda m: (-m.tickets, m.service)):
        should = watching.get(m.service, [])
        rows.append(
            {
                "service": m.service,
                "feedback_channel": m.channel,
                "tickets": m.tickets,
                "latest_ticket": m.latest_ticket,
                "should_have_caught": should,
                "note": None if should else "no automatic channel watches this service",
            }
        )
    out["misses"] = rows
    per_service: dict[str, int] = defaultdict(int)
    for m in found:
        per_service[m.service] += m.tickets
    out["per_service"] = {
        s: rate_figure(per_service.get(s, 0), _sum(gs, "tickets"))
        for s, gs in _by(groups, "service").items()
    }
    return out


def late_section(groups: Sequence[TicketGroup]) -> dict[str, Any]:
    feedback = [g for g in groups if g.channel_kind == "feedback"]
    late = _sum(feedback, "automatic_later")
    out = rate_figure(late, _sum(groups, "tickets"))
    out["definition"] = (
        "tickets opened by a feedback channel on which an automatic event arrived later"
        " (first_automatic_at is set), ÷ all tickets"
    )
    out["of_feedback_tickets"] = rate_figure(late, _sum(feedback, "tickets"))
    return out


def false_alarm_section(
    groups: Sequence[TicketGroup], rules: Sequence[RuleFalseAlarms]
) -> dict[str, Any]:
    out = rate_figure(_sum(groups, "false_alarms"), _sum(groups, "resolved"))
    out["definition"] = "tickets marked false alarm ÷ tickets resolved"
    out["per_integration"] = {
        i: rate_figure(_sum(gs, "false_alarms"), _sum(gs, "resolved"))
        for i, gs in _by(groups, "integration").items()
    }
    false_alarms = out["numerator"]
    out["per_rule"] = [
        {
            "integration": r.integration,
            "rule": r.rule,
            "false_alarms": r.false_alarms,
            "share_of_false_alarms": rate_figure(r.false_alarms, false_alarms),
        }
        for r in rules
    ]
    out["per_rule_note"] = (
        "a rule is the alertname label of a false alarm's alerts; per rule the count of false"
        " alarms and their share of all false alarms (a ticket with alerts of two rules counts"
        " for both)"
    )
    return out


def noise_section(
    groups: Sequence[TicketGroup], alert_rows: Sequence[Flow], event_rows: Sequence[Flow]
) -> dict[str, Any]:
    opened = [g for g in groups if g.channel_kind != MANUAL]

    def pair(tickets: int, alerts: int, evts: int) -> dict[str, Any]:
        return {
            "alerts_to_tickets": reduction_figure(tickets, alerts),
            "events_to_alerts": reduction_figure(alerts, evts),
        }

    def by(rows: Iterable[Flow], key: str) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for r in rows:
            out[str(getattr(r, key) or "(none)")] += r.count
        return out

    per: dict[str, dict[str, Any]] = {}
    for key in ("service", "integration"):
        t = {k: _sum(gs, "tickets") for k, gs in _by(opened, key).items()}
        a, e = by(alert_rows, key), by(event_rows, key)
        per[key] = {k: pair(t.get(k, 0), a.get(k, 0), e.get(k, 0)) for k in sorted({*t, *a, *e})}
    return {
        "overall": pair(
            _sum(opened, "tickets"),
            sum(r.count for r in alert_rows),
            sum(r.count for r in event_rows),
        ),
        "per_service": per["service"],
        "per_integration": per["integration"],
        "definition": (
            "alerts_to_tickets = 1 − tickets opened by alerts ÷ alerts first seen in the window;"
            " events_to_alerts = 1 − alerts ÷ events received (heartbeat pings left out)"
        ),
    }


def coverage_section(
    scope: Scope, catalog: Catalog, groups: Sequence[TicketGroup], alert_rows: Sequence[Flow]
) -> dict[str, Any]:
    in_scope = sorted(s for s in catalog.services if scope.includes(s))
    with_slo = {str(spec.get("service")) for spec in catalog.objects.get("slo", [])}
    tickets: dict[tuple[str, str], int] = defaultdict(int)
    opened_by: dict[str, set[str]] = defaultdict(set)
    for g in groups:
        tickets[(g.service, g.channel or MANUAL)] += g.tickets
        if g.channel_kind == "automatic" and g.tickets > 0:
            opened_by[g.service].add(g.channel or "(none)")
    alerts: dict[tuple[str, str], int] = defaultdict(int)
    for f in alert_rows:
        if f.service:
            alerts[(f.service, channel_of(catalog, f.integration) or "(none)")] += f.count
    seen = {*catalog.channels, *(c for _, c in tickets), *(c for _, c in alerts)}
    channel_ids = [*sorted(seen - {MANUAL}), MANUAL]
    rows = []
    covered = 0
    for service in in_scope:
        opening = sorted(opened_by.get(service, ()))
        is_covered = bool(opening) or service in with_slo
        covered += is_covered
        rows.append(
            {
                "service": service,
                "name": catalog.services[service]["name"],
                "covered": is_covered,
                "automatic_channels_that_opened_tickets": opening,
                "has_slo": service in with_slo,
                "cells": {
                    c: {
                        "tickets": tickets.get((service, c), 0),
                        "alerts": alerts.get((service, c), 0),
                    }
                    for c in channel_ids
                },
            }
        )
    out = rate_figure(covered, len(in_scope))
    out["definition"] = (
        "services with an automatic channel that opened a ticket in the window, or with an"
        " SLO, ÷ all services in scope"
    )
    out["channels"] = [
        {"id": c, "kind": catalog.channels.get(c, MANUAL if c == MANUAL else "unknown")}
        for c in channel_ids
    ]
    out["services"] = rows
    return out


def channel_layer(
    scope: Scope,
    catalog: Catalog,
    groups: Sequence[TicketGroup],
    found: Sequence[Miss],
    alert_rows: Sequence[Flow],
    event_rows: Sequence[Flow],
    rules: Sequence[RuleFalseAlarms],
) -> dict[str, Any]:
    watching = watching_channels(catalog, alert_rows)
    return {
        "automatic_discovery_rate": discovery(groups),
        "miss_rate": miss_section(groups, found, watching),
        "late_detection_rate": late_section(groups),
        "false_alarm_rate": false_alarm_section(groups, rules),
        "noise_reduction": noise_section(groups, alert_rows, event_rows),
        "coverage": coverage_section(scope, catalog, groups, alert_rows),
    }
