"""Layer 2 — operational data: who carries the pager, when, and how much hands-on work."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any, Final

from watchkeeper.quality.catalog import Catalog
from watchkeeper.quality.metrics import balance, duration_figure, excluded_reason
from watchkeeper.quality.queries import Interruptions, Responder, TicketGroup
from watchkeeper.quality.ranks import Summarized
from watchkeeper.quality.scope import WEEK, Scope, week_label

CLASSES: Final = ("business", "off", "sleep")
UNCLASSIFIED: Final = "unclassified"
INTERRUPTION_DEFINITION: Final = (
    "paging notifications that reached a person (status sent) in the window, one per ticket"
    " and person (the first page in the window; its hour class, stamped at send in the"
    " person's time zone, is the one counted)"
)
NO_SHIFTS: Final = (
    "not computed: shifts are not stored as rows, and rebuilding them from schedules over"
    " history is not cheap; interruptions per person per week stand in"
)


def _class(hour_class: str | None) -> str:
    return hour_class if hour_class in CLASSES else UNCLASSIFIED


def _tally() -> dict[str, int]:
    return {"total": 0, **dict.fromkeys(CLASSES, 0), UNCLASSIFIED: 0}


def interruptions_section(
    scope: Scope, catalog: Catalog, rows: Iterable[Interruptions]
) -> dict[str, Any]:
    total = _tally()
    people: dict[str, dict[str, int]] = defaultdict(_tally)
    weeks: dict[int, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(_tally))
    for r in rows:
        cls = _class(r.hour_class)
        for tally in (total, people[r.user], weeks[r.week][r.user]):
            tally["total"] += r.count
            tally[cls] += r.count
    span_weeks = scope.seconds / WEEK
    per_person = []
    for user, tally in sorted(people.items(), key=lambda kv: (-kv[1]["total"], kv[0])):
        info = catalog.users.get(user, {})
        per_person.append(
            {
                "user": user,
                "name": info.get("name"),
                "time_zone": info.get("time_zone"),
                "team": info.get("team"),
                **tally,
                "per_week": tally["total"] / span_weeks if span_weeks > 0 else None,
            }
        )
    per_week = [
        {"week": week_label(week), "per_person": {u: dict(t) for u, t in sorted(by.items())}}
        for week, by in sorted(weeks.items())
    ]
    counts = {user: tally["total"] for user, tally in people.items()}
    return {
        "definition": INTERRUPTION_DEFINITION,
        "total": total,
        "per_person": per_person,
        "per_week": per_week,
        "balance": _balances(catalog, counts),
    }


def _balances(catalog: Catalog, counts: dict[str, int]) -> list[dict[str, Any]]:
    """Balance per rotation (the people of a schedule's layers), else per team."""
    groups: list[tuple[str, str, list[str]]] = []
    for spec in catalog.objects.get("schedule", []):
        members: list[str] = []
        for layer in spec.get("layers") or []:
            for user in layer.get("users") or []:
                if user not in members:
                    members.append(user)
        groups.append(("schedule", str(spec.get("id")), members))
    if not groups:
        groups = [("team", team, members) for team, members in sorted(catalog.teams.items())]
    out = []
    for kind, ident, members in groups:
        if members:
            out.append({kind: ident, **balance({m: counts.get(m, 0) for m in members})})
    return out


def hands_on_section(summary: Summarized, responders: Iterable[Responder]) -> dict[str, Any]:
    rows = sorted(responders, key=lambda r: (-r.seconds, r.who))
    return {
        "definition": "acknowledged → resolved, per person who acknowledged",
        **duration_figure(
            summary.summary, tickets=summary.rows, reason=excluded_reason("hands_on_time")
        ),
        "per_responder": [
            {
                "responder": r.who,
                "tickets": r.tickets,
                "total_seconds": r.seconds,
                "mean": r.seconds / r.tickets if r.tickets else None,
            }
            for r in rows
        ],
    }


def escalations_section(groups: Iterable[TicketGroup], spread: dict[int, int]) -> dict[str, Any]:
    tickets = escalations = 0
    for g in groups:
        tickets += g.tickets
        escalations += g.escalations
    return {
        "n": tickets,
        "total": escalations,
        "mean": escalations / tickets if tickets else None,
        "distribution": {"0": spread.get(0, 0), "1": spread.get(1, 0), "2": spread.get(2, 0),
                         "3+": spread.get(3, 0)},
        "note": "escalations counted on the ticket (escalation_count); mean labelled as one",
    }  # fmt: skip


def operational_layer(
    scope: Scope,
    catalog: Catalog,
    interruptions: Iterable[Interruptions],
    hands_on: Summarized,
    responders: Iterable[Responder],
    groups: Iterable[TicketGroup],
    spread: dict[int, int],
) -> dict[str, Any]:
    return {
        "interruptions": interruptions_section(scope, catalog, interruptions),
        "hands_on_time": hands_on_section(hands_on, responders),
        "escalations_per_ticket": escalations_section(groups, spread),
        "tickets_per_shift": {"value": None, "note": NO_SHIFTS},
    }
