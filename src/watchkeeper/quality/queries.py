"""The SQL behind the four layers: counts, sums and unions computed in the database.

Every query reads a bounded number of rows back (groups, not tickets), so a report over a
million tickets holds a few thousand rows at most. The order statistics are in ranks.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, case, exists, func, literal, or_, select

from watchkeeper.quality.metrics import CHANGE_LINK, DURATIONS, HANDS_ON, MISS_LOOK_BACK
from watchkeeper.quality.ranks import DurationSource
from watchkeeper.quality.scope import Scope
from watchkeeper.quality.sql import (
    as_float,
    as_int,
    at_least,
    count_if,
    detected_in,
    in_services,
    pair_key,
    split_pair,
    ticket_conditions,
    unindexed,
    week_index,
)
from watchkeeper.storage.tables import (
    alerts,
    change_events,
    events,
    notifications,
    tickets,
)

T = tickets.c
A = alerts.c
E = events.c
N = notifications.c
C = change_events.c

UNRECORDED = "(unrecorded)"


def duration_source(scope: Scope, extra: Sequence[ColumnElement[bool]] = ()) -> DurationSource:
    """TTD…TTR and hands-on time of the tickets in scope."""
    values: dict[str, ColumnElement[float]] = {
        name: T[end] - T[start] for name, (start, end) in DURATIONS.items()
    }
    values["hands_on_time"] = T[HANDS_ON[1]] - T[HANDS_ON[0]]
    return DurationSource([*ticket_conditions(scope), *extra], values, detected_in(scope))


# --- tickets, grouped ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TicketGroup:
    """Tickets sharing service, week, severity, root-cause category and opening channel."""

    service: str
    week: int
    severity: str
    category: str | None
    channel: str | None
    channel_kind: str
    integration: str | None
    tickets: int
    resolved: int
    false_alarms: int  # resolved and marked false alarm
    automatic_later: int  # with an automatic event on the ticket (first_automatic_at)
    escalations: int


def ticket_groups(conn: Connection, scope: Scope) -> list[TicketGroup]:
    """One scan of the tickets in scope, grouped finely enough for every breakdown. Few
    aggregates on purpose: a narrow row lets PostgreSQL hash the groups instead of sorting
    a million rows by seven text keys."""
    week = week_index(T.detected_at).label("week")
    keys = [
        T.service_id,
        week,
        T.severity,
        T.root_cause_category,
        T.channel_id,
        T.channel_kind,
        T.integration_id,
    ]
    resolved = T.resolved_at.is_not(None)
    stmt = (
        select(
            *keys,
            func.count(),
            count_if(resolved),
            count_if(and_(resolved, T.false_alarm)),
            count_if(T.first_automatic_at.is_not(None)),
            func.coalesce(func.sum(T.escalation_count), 0),
        )
        .where(*ticket_conditions(scope))
        .group_by(*keys)
    )
    return [
        TicketGroup(
            service=r[0],
            week=as_int(r[1]),
            severity=r[2],
            category=r[3],
            channel=r[4],
            channel_kind=r[5],
            integration=r[6],
            tickets=as_int(r[7]),
            resolved=as_int(r[8]),
            false_alarms=as_int(r[9]),
            automatic_later=as_int(r[10]),
            escalations=as_int(r[11]),
        )
        for r in conn.execute(stmt)
    ]


def escalation_spread(conn: Connection, scope: Scope, cap: int = 3) -> dict[int, int]:
    """Tickets by how often they were escalated: 0, 1, … and `cap` for `cap` or more."""
    times = case((T.escalation_count >= cap, cap), else_=T.escalation_count)
    stmt = select(times, func.count()).where(*ticket_conditions(scope)).group_by(times)
    return {as_int(r[0]): as_int(r[1]) for r in conn.execute(stmt)}


@dataclass(frozen=True, slots=True)
class Miss:
    service: str
    channel: str | None
    tickets: int
    latest_ticket: int


def misses(conn: Connection, scope: Scope, look_back: float = MISS_LOOK_BACK) -> list[Miss]:
    """Feedback-opened tickets with no automatic event for their service in the look-back
    before detection, per service and feedback channel.

    The probe is a scalar subquery (the first such event, or NULL) rather than NOT EXISTS:
    PostgreSQL would turn NOT EXISTS into a hash anti-join on the service and compare every
    feedback ticket with every event of its service; a scalar subquery runs per ticket on the
    events' time index, as SQLite runs it too.
    """
    earlier = (
        select(E.id)
        .where(
            E.received_at >= T.detected_at - look_back,
            E.received_at <= T.detected_at,
            E.service_id == T.service_id,
            E.channel_kind == "automatic",
        )
        .limit(1)
        .scalar_subquery()
    )
    stmt = (
        select(T.service_id, T.channel_id, func.count(), func.max(T.id))
        .where(*ticket_conditions(scope), T.channel_kind == "feedback", earlier.is_(None))
        .group_by(T.service_id, T.channel_id)
    )
    return [Miss(r[0], r[1], as_int(r[2]), as_int(r[3])) for r in conn.execute(stmt)]


@dataclass(frozen=True, slots=True)
class Responder:
    who: str
    tickets: int
    seconds: float


def hands_on_by_responder(conn: Connection, scope: Scope) -> list[Responder]:
    """Acknowledged → resolved per person who acknowledged (n, total seconds)."""
    d = T[HANDS_ON[1]] - T[HANDS_ON[0]]
    who = func.coalesce(T.acknowledged_by, UNRECORDED)
    stmt = (
        select(who, func.count(d), func.sum(d))
        .where(*ticket_conditions(scope), d.is_not(None))
        .group_by(who)
    )
    return [Responder(r[0], as_int(r[1]), as_float(r[2])) for r in conn.execute(stmt)]


# --- MTBF -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImpactUnion:
    key: str  # a service id, or "*" for all services together
    tickets: int
    impact_seconds: float  # length of the union of impact intervals, clipped to the window


def impact_unions(
    conn: Connection, scope: Scope, threshold: str, *, per_service: bool = True
) -> list[ImpactUnion]:
    """Per service (or pooled): tickets at or above `threshold` and the length of the union of
    their impact_start → mitigated intervals inside the window (an open one runs to now).

    Ordered by start, each interval adds what reaches past every earlier one:
    max(0, end − max(start, the largest earlier end)); the sum is the union's length.
    """
    stop = min(scope.end, scope.now)
    floor_scope = Scope(
        start=scope.start,
        end=scope.end,
        now=scope.now,
        service_ids=scope.service_ids,
        severity=threshold,
    )
    s = case(
        (T.impact_start < scope.start, literal(scope.start)),
        (T.impact_start > stop, literal(stop)),
        else_=T.impact_start,
    )
    e = case(
        (or_(T.mitigated_at.is_(None), T.mitigated_at > stop), literal(stop)),
        (T.mitigated_at < scope.start, literal(scope.start)),
        else_=T.mitigated_at,
    )
    key = T.service_id if per_service else literal("*")
    spans = (
        select(
            key.label("k"),
            s.label("s"),
            e.label("e"),
            func.max(e).over(partition_by=key, order_by=(s, e, T.id), rows=(None, -1)).label("pm"),
        )
        .where(*ticket_conditions(floor_scope))
        .subquery()
    )
    lo = case((and_(spans.c.pm.is_not(None), spans.c.pm > spans.c.s), spans.c.pm), else_=spans.c.s)
    contribution = case((spans.c.e > lo, spans.c.e - lo), else_=0.0)
    stmt = select(spans.c.k, func.count(), func.sum(contribution)).group_by(spans.c.k)
    return [ImpactUnion(r[0], as_int(r[1]), as_float(r[2])) for r in conn.execute(stmt)]


# --- alerts and events (noise) ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Flow:
    service: str | None
    integration: str | None  # its channel is the integration's (Catalog.integrations)
    count: int


def alert_flows(conn: Connection, scope: Scope) -> list[Flow]:
    """Alerts first seen in the window, per service and integration."""
    key = pair_key(A.service_id, A.integration_id).label("k")
    stmt = (
        select(key, func.count())
        .where(
            A.first_event_at >= scope.start,
            A.first_event_at < scope.end,
            *in_services(A.service_id, scope),
            *at_least(A.severity, scope),
        )
        .group_by(key)
    )
    return [Flow(*split_pair(r[0]), as_int(r[1])) for r in conn.execute(stmt)]


def event_flows(conn: Connection, scope: Scope) -> list[Flow]:
    """Events received in the window (any decision; heartbeat pings are not alerts and are
    left out), per service and integration."""
    key = pair_key(E.service_id, E.integration_id).label("k")
    received = unindexed(E.received_at, _wide(conn, E.received_at, scope))
    stmt = (
        select(key, func.count())
        .where(
            received >= scope.start,
            received < scope.end,
            E.kind != "heartbeat",
            *in_services(E.service_id, scope),
            *at_least(E.severity, scope),
        )
        .group_by(key)
    )
    return [Flow(*split_pair(r[0]), as_int(r[1])) for r in conn.execute(stmt)]


def _wide(conn: Connection, column: ColumnElement[float], scope: Scope) -> bool:
    """Whether the window covers more than half of the time the indexed `column` spans."""
    first, last = conn.execute(select(func.min(column), func.max(column))).one()
    if first is None or last is None or last <= first:
        return False
    covered = min(scope.end, last) - max(scope.start, first)
    return covered > 0.5 * (last - first)


@dataclass(frozen=True, slots=True)
class RuleFalseAlarms:
    integration: str | None
    rule: str
    false_alarms: int  # resolved tickets marked false alarm with an alert of this rule


def false_alarms_by_rule(conn: Connection, scope: Scope, limit: int = 50) -> list[RuleFalseAlarms]:
    """Per alerting rule (the `alertname` label, which most sources set): the false alarms
    that carried an alert of it, busiest first. Only the false-alarm tickets' alerts are read
    (through the alerts' ticket index), so this stays cheap on any history."""
    rule = A.labels["alertname"].as_string()
    n = func.count(func.distinct(T.id))
    stmt = (
        select(A.integration_id, rule, n)
        .select_from(tickets.join(alerts, A.ticket_id == T.id))
        .where(*ticket_conditions(scope), T.resolved_at.is_not(None), T.false_alarm.is_(True))
        .where(rule.is_not(None))
        .group_by(A.integration_id, rule)
        .order_by(n.desc(), A.integration_id, rule)
        .limit(limit)
    )
    return [RuleFalseAlarms(r[0], r[1], as_int(r[2])) for r in conn.execute(stmt)]


# --- interruptions --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Interruptions:
    user: str
    week: int
    hour_class: str | None  # stamped at send; None if the sender did not stamp it
    count: int


def interruptions(conn: Connection, scope: Scope) -> list[Interruptions]:
    """Paging notifications that reached a person in the window, one per ticket × person
    (the first in the window, whose hour class counts), per person, week and hour class."""
    earlier_page = notifications.alias("earlier_page")
    M = earlier_page.c

    def reached(c: Any) -> list[ColumnElement[bool]]:
        return [
            c.paging.is_(True),
            c.status == "sent",
            c.sent_at >= scope.start,
            c.sent_at < scope.end,
        ]

    # the first page of its ticket and person in the window (ties broken by id)
    earlier = exists().where(
        M.ticket_id == N.ticket_id,
        # `|| ''` keeps SQLite on the ticket index: on (user, sent_at) it would read every
        # page of that person in the window for each page
        M.user_id.concat("") == N.user_id,
        *reached(M),
        or_(M.sent_at < N.sent_at, and_(M.sent_at == N.sent_at, M.id < N.id)),
    )
    conditions = [*reached(N), ~earlier]
    source: Any = notifications
    if scope.service_ids is not None or scope.severity is not None:
        source = notifications.join(tickets, T.id == N.ticket_id)
        conditions += [*in_services(T.service_id, scope), *at_least(T.severity, scope)]
    week = week_index(N.sent_at)
    stmt = (
        select(N.user_id, week, N.hour_class, func.count())
        .select_from(source)
        .where(*conditions)
        # week first: SQLite would otherwise walk the (user, sent_at) index row by row
        .group_by(week, N.hour_class, N.user_id)
    )
    return [Interruptions(r[0], as_int(r[1]), r[2], as_int(r[3])) for r in conn.execute(stmt)]


# --- changes (DORA) ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Changes:
    changes: int
    failed: int  # followed by a linked ticket


def _linked_ticket(link: float) -> ColumnElement[bool]:
    return and_(
        T.service_id == C.service_id,
        T.detected_at > C.occurred_at,
        T.detected_at <= C.occurred_at + link,
        T.merged_into.is_(None),
        T.false_alarm.is_(False),
    )


def changes(conn: Connection, scope: Scope, link: float = CHANGE_LINK) -> Changes:
    """Change events in the window, and those followed within `link` seconds by a ticket of
    the same service (at least the scope's severity, not a false alarm)."""
    followed = exists().where(_linked_ticket(link), *at_least(T.severity, scope))
    stmt = select(func.count(), count_if(followed)).where(
        C.occurred_at >= scope.start,
        C.occurred_at < scope.end,
        *in_services(C.service_id, scope),
    )
    row = conn.execute(stmt).one()
    return Changes(as_int(row[0]), as_int(row[1]))


def linked_to_change(link: float = CHANGE_LINK) -> ColumnElement[bool]:
    """A ticket with a change event on its service in the `link` seconds before detection."""
    return exists().where(
        C.service_id == T.service_id,
        C.occurred_at < T.detected_at,
        C.occurred_at >= T.detected_at - link,
    )
