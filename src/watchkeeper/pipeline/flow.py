"""The path of one event, stage by stage: dedup → route → mute → converge → ticket.

`Pipeline.process` runs inside the writer's transaction; every event row records what was
done with it and why (invariant 4), so "why wasn't I paged?" always has an answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec
from sqlalchemy import Connection, Row

from watchkeeper.domain.event import ChangeEvent, NormalizedEvent
from watchkeeper.domain.severity import RANK
from watchkeeper.pipeline import mute as mute_stage
from watchkeeper.pipeline.dedup import dedup_key, template_context
from watchkeeper.pipeline.route import Routed, match_context, route
from watchkeeper.pipeline.snapshot import Integration, Service, Snapshot
from watchkeeper.pipeline.ticket import Lifecycle
from watchkeeper.storage import alerts as alerts_q
from watchkeeper.storage import events as events_q
from watchkeeper.storage import hot
from watchkeeper.storage import timers as timers_q

HEARTBEAT_TIMER = "heartbeat"


@dataclass(slots=True)
class Outcome:
    decision: str
    dedup_key: str
    reason: str | None = None
    alert_id: int | None = None
    ticket_id: int | None = None
    service_id: str | None = None


@dataclass(slots=True)
class EventSink:
    """What one batch gathers: event rows and repeat counters, written together at its end;
    the open alerts of its keys, read together at its start."""

    rows: list[tuple[Any, ...]] = field(default_factory=list)  # hot.EVENT_COLUMNS
    idempotency: set[tuple[str, str]] = field(default_factory=set)
    open: dict[tuple[str, str], dict[str, Any]] | None = None  # None: look each key up
    touched: dict[int, dict[str, Any]] = field(default_factory=dict)
    # touched alerts whose severity or expiry changed too (the rest only count a repeat)
    changed: set[int] = field(default_factory=set)
    # tickets found or opened in this batch, by (service, group key), and what joined them
    groups: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    joined: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    assigned: dict[int, int] = field(default_factory=dict)  # alert id -> ticket id
    absent: set[tuple[str, str]] = field(default_factory=set)  # prefetched, not open
    # the engine has work: a ticket opened, or an alert joined one that is past triggered
    wake: bool = False

    def find_open(self, conn: Connection, scope: str, key: str) -> dict[str, Any] | None:
        if self.open is not None and (scope, key) in self.open:
            return self.open[(scope, key)]
        if (scope, key) in self.absent:
            return None  # the batch's prefetch found no open alert with this key
        row = alerts_q.find_open(conn, scope, key)
        alert = dict(row._mapping) if row is not None else None
        if self.open is not None and alert is not None:
            self.open[(scope, key)] = alert
        return alert

    def opened(self, alert: dict[str, Any]) -> None:
        self.absent.discard((alert["scope"], alert["dedup_key"]))
        if self.open is not None:
            self.open[(alert["scope"], alert["dedup_key"])] = alert

    def closed(self, alert: dict[str, Any]) -> None:
        if self.open is not None:
            self.open.pop((alert["scope"], alert["dedup_key"]), None)
            self.absent.add((alert["scope"], alert["dedup_key"]))
        self.touched.pop(alert["id"], None)
        self.changed.discard(alert["id"])

    def settle(self, conn: Connection, lifecycle: Lifecycle, now: float) -> None:
        """Write what converged so far (alerts' tickets, joins): before any step that counts a
        ticket's alerts, and at the end of the batch."""
        hot.assign_tickets(conn, self.assigned)
        self.assigned.clear()
        if lifecycle.join_many(conn, self.joined, now=now):
            self.wake = True
        self.joined.clear()
        self.groups.clear()

    def flush(self, conn: Connection, lifecycle: Lifecycle, now: float) -> None:
        self.settle(conn, lifecycle, now)
        hot.touch_alerts(conn, self.touched, self.changed)
        hot.insert_events(conn, self.rows)
        self.touched.clear()
        self.changed.clear()
        self.rows.clear()


def _ts(value: Any) -> float | None:
    return value.timestamp() if value is not None else None


def _jsonable(value: Any) -> Any:
    return msgspec.to_builtins(value) if value is not None else None


class Pipeline:
    def __init__(self, lifecycle: Lifecycle) -> None:
        self.lifecycle = lifecycle

    # --- events ---------------------------------------------------------------------------

    def process(
        self,
        conn: Connection,
        snap: Snapshot,
        integration: Integration,
        event: NormalizedEvent,
        now: float,
        sink: EventSink,
    ) -> Outcome:
        key = dedup_key(event, integration)
        return self.process_keyed(conn, snap, integration, event, key, now, sink)

    def process_keyed(
        self,
        conn: Connection,
        snap: Snapshot,
        integration: Integration,
        event: NormalizedEvent,
        key: str,
        now: float,
        sink: EventSink,
    ) -> Outcome:
        outcome = self._decide(conn, snap, integration, event, key, now, sink)
        sink.rows.append(event_row(integration, event, key, outcome, now))
        return outcome

    def _decide(
        self,
        conn: Connection,
        snap: Snapshot,
        integration: Integration,
        event: NormalizedEvent,
        key: str,
        now: float,
        sink: EventSink,
    ) -> Outcome:
        if event.idempotency_key is not None:
            ident = (integration.id, event.idempotency_key)
            if ident in sink.idempotency or events_q.seen(conn, *ident):
                return Outcome("duplicate", key, "this event id was received before")
            sink.idempotency.add(ident)
        if event.kind == "heartbeat":
            return self._heartbeat(conn, snap, integration, key, now, sink)
        alert = sink.find_open(conn, integration.id, key)
        if event.action == "resolve":
            if alert is None:
                return Outcome("ignored", key, "no open alert with this key")
            by = f"integration:{integration.id}"
            self._resolve_alert(conn, snap, alert, now, by=by, sink=sink)
            return _about(alert, "resolved", key, None)
        if event.action == "acknowledge":
            if alert is None:
                return Outcome("ignored", key, "no open alert with this key")
            if alert["ticket_id"] is None:
                return _about(alert, "ignored", key, "the alert has no ticket")
            self.lifecycle.acknowledge(
                conn, ticket_id=alert["ticket_id"], actor=f"integration:{integration.id}", now=now
            )
            return _about(alert, "acknowledged", key, None)
        if alert is not None:
            return self._repeat(conn, snap, integration, event, alert, key, now, sink)
        return self._new_alert(conn, snap, integration, event, key, now, sink)

    def _repeat(
        self,
        conn: Connection,
        snap: Snapshot,
        integration: Integration,
        event: NormalizedEvent,
        alert: dict[str, Any],
        key: str,
        now: float,
        sink: EventSink,
    ) -> Outcome:
        """A trigger for an open alert: count it (written at the end of the batch)."""
        previous = alert["severity"]
        expires = _expiry(integration, snap.services.get(alert["service_id"] or ""), event, now)
        ends = _ts(event.ends_at)
        if (event.severity, expires, ends) != (previous, alert["expires_at"], alert["ends_at"]):
            sink.changed.add(alert["id"])
        alert["event_count"] += 1
        alert["last_event_at"] = now
        alert["severity"] = event.severity
        alert["expires_at"] = expires
        alert["ends_at"] = ends
        sink.touched[alert["id"]] = alert
        if alert["muted_reason"] is not None:
            ctx = match_context(event, integration, alert["service_id"])
            decision = mute_stage.decide(snap.muters, ctx, now)
            if decision is None:
                # the mute has ended while the alert still fires: it converges now
                self._converge(conn, snap, _full(conn, alert), event, now, sink)
                return _about(alert, "unmuted", key, "the mute no longer applies")
            return _about(alert, "muted", key, decision.reason)
        if alert["ticket_id"] is not None and RANK[event.severity] > RANK[previous]:
            self.lifecycle.raise_severity(
                conn, ticket_id=alert["ticket_id"], severity=event.severity, now=now
            )
        return _about(alert, "deduplicated", key, "an open alert has this key")

    def _new_alert(
        self,
        conn: Connection,
        snap: Snapshot,
        integration: Integration,
        event: NormalizedEvent,
        key: str,
        now: float,
        sink: EventSink,
    ) -> Outcome:
        routed = route(snap, integration, event)
        decision = mute_stage.decide(snap.muters, routed.ctx, now)
        if decision is not None and decision.action == "drop":
            return Outcome("dropped", key, decision.reason, service_id=routed.service_id)
        service = snap.services.get(routed.service_id or "")
        values = _alert_values(integration, event, key, routed, service, now)
        if decision is not None:
            values.update(muted_reason=decision.reason, muted_until=decision.until)
        alert_id = hot.insert_alert(conn, values)
        if alert_id is None:  # another writer opened this key a moment ago
            row = alerts_q.find_open(conn, integration.id, key)
            if row is None:
                return Outcome("ignored", key, "the alert was resolved concurrently")
            existing = dict(row._mapping)
            sink.opened(existing)
            return self._repeat(conn, snap, integration, event, existing, key, now, sink)
        values["id"] = alert_id
        values["ticket_id"] = None
        values["muted_reason"] = values.get("muted_reason")
        sink.opened(values)
        if decision is not None:
            return Outcome("muted", key, decision.reason, alert_id, None, routed.service_id)
        if service is None:
            return Outcome("unrouted", key, routed.reason, alert_id)
        ticket_id = self._converge(conn, snap, values, event, now, sink)
        return Outcome("converged", key, routed.reason, alert_id, ticket_id, routed.service_id)

    def _converge(
        self,
        conn: Connection,
        snap: Snapshot,
        alert: dict[str, Any],
        event: NormalizedEvent,
        now: float,
        sink: EventSink | None = None,
    ) -> int | None:
        """Find or open the ticket of the alert's (service, group key) and join it. Within a
        batch, the ticket is looked up once and its joins are written together (`settle`)."""
        service = snap.services.get(alert.get("service_id") or "")
        if service is None:
            return None
        integration = snap.integrations_by_id.get(alert.get("integration_id") or "")
        template = (integration.group_by if integration else None) or service.group_by
        group_key = service.id
        if template is not None and integration is not None:
            group_key = (
                template.render(template_context(event, integration, service.id)) or service.id
            )
        policy = snap.policies.get(service.escalation_policy or "")
        if sink is None:
            ticket_id, _opened = self.lifecycle.open_or_join(
                conn,
                service_id=service.id,
                group_key=group_key,
                max_group_age=service.max_group_age,
                alert=alert,
                policy=policy,
                now=now,
            )
            alerts_q.update(
                conn, alert["id"], ticket_id=ticket_id, muted_reason=None, muted_until=None
            )
        else:
            ticket = sink.groups.get((service.id, group_key))
            opened = False
            if ticket is None:
                ticket, opened = self.lifecycle.find_or_open(
                    conn,
                    service_id=service.id,
                    group_key=group_key,
                    max_group_age=service.max_group_age,
                    alert=alert,
                    policy=policy,
                    now=now,
                )
                sink.groups[(service.id, group_key)] = ticket
            ticket_id = int(ticket["id"])
            if opened:
                sink.wake = True
            else:
                sink.joined.setdefault(ticket_id, []).append(alert)
            if alert.get("muted_reason") is not None:
                alerts_q.update(conn, alert["id"], muted_reason=None, muted_until=None)
            sink.assigned[alert["id"]] = ticket_id
        alert.update(ticket_id=ticket_id, muted_reason=None, muted_until=None)
        return ticket_id

    def _resolve_alert(
        self,
        conn: Connection,
        snap: Snapshot,
        alert: dict[str, Any],
        now: float,
        *,
        by: str,
        sink: EventSink | None = None,
    ) -> None:
        if sink is not None:
            if alert["id"] in sink.touched:  # its counters first, then the resolution
                hot.touch_alerts(conn, {alert["id"]: alert}, {alert["id"]})
            sink.closed(alert)
            # what converged earlier in the batch counts before the ticket's alerts are counted
            sink.settle(conn, self.lifecycle, now)
        alerts_q.update(
            conn, alert["id"], status="resolved", resolved_at=now, resolved_by=by, expires_at=None
        )
        alert.update(status="resolved", resolved_at=now)
        if alert["ticket_id"] is None:
            return
        service = snap.services.get(alert["service_id"] or "")
        self.lifecycle.alert_resolved(
            conn,
            ticket_id=alert["ticket_id"],
            auto_resolve=service.auto_resolve if service else "immediately",
            quiet=service.quiet if service else 0.0,
            now=now,
        )

    def _heartbeat(
        self,
        conn: Connection,
        snap: Snapshot,
        integration: Integration,
        key: str,
        now: float,
        sink: EventSink,
    ) -> Outcome:
        if integration.interval:
            timers_q.schedule(
                conn, kind=HEARTBEAT_TIMER, ref=integration.id, due_at=now + integration.interval
            )
        alert = sink.find_open(conn, integration.id, key)
        if alert is not None:
            self._resolve_alert(
                conn, snap, alert, now, by=f"integration:{integration.id}", sink=sink
            )
            return _about(alert, "resolved", key, "pings resumed")
        return Outcome("heartbeat", key, None)

    # --- timers the engine fires ---------------------------------------------------------------

    def expire(self, conn: Connection, snap: Snapshot, alert: Row[Any], now: float) -> None:
        """An alert's endsAt passed without a re-send, or its source never resolves."""
        why = "endsAt passed without a re-send" if alert.ends_at else "alert_timeout passed"
        self._resolve_alert(conn, snap, dict(alert._mapping), now, by=f"timeout: {why}")

    def mute_ended(self, conn: Connection, snap: Snapshot, alert: Row[Any], now: float) -> None:
        """Re-check a muted alert whose mute may have ended; converge it if nothing mutes it."""
        integration = snap.integrations_by_id.get(alert.integration_id or "")
        if integration is None:
            alerts_q.update(conn, alert.id, muted_until=None)
            return
        event = _event_from_alert(alert)
        decision = mute_stage.decide(
            snap.muters, match_context(event, integration, alert.service_id), now
        )
        if decision is not None:
            alerts_q.update(
                conn, alert.id, muted_reason=decision.reason, muted_until=decision.until
            )
            return
        self._converge(conn, snap, dict(alert._mapping), event, now)

    # --- change events ---------------------------------------------------------------------

    def process_change(
        self,
        conn: Connection,
        snap: Snapshot,
        integration: Integration,
        change: ChangeEvent,
        now: float,
    ) -> None:
        service = change.service if change.service in snap.services else integration.service_id
        events_q.insert_change(
            conn,
            {
                "received_at": now,
                "occurred_at": _ts(change.occurred_at) or now,
                "integration_id": integration.id,
                "service_id": service,
                "summary": change.summary,
                "source": change.source,
                "details": _jsonable(change.details) or {},
                "links": _jsonable(list(change.links)) or [],
            },
        )


def _full(conn: Connection, alert: dict[str, Any]) -> dict[str, Any]:
    """A prefetched (slim) alert with every column, for the slow paths that need them."""
    if "channel_kind" in alert:
        return alert
    row = alerts_q.get(conn, alert["id"])
    if row is not None:
        alert.update({k: v for k, v in row._mapping.items() if k not in alert})
    return alert


def _about(alert: dict[str, Any], decision: str, key: str, reason: str | None) -> Outcome:
    return Outcome(decision, key, reason, alert["id"], alert["ticket_id"], alert["service_id"])


def _expiry(
    integration: Integration, service: Service | None, event: NormalizedEvent, now: float
) -> float | None:
    candidates = []
    if event.ends_at is not None:
        candidates.append(event.ends_at.timestamp())
    timeout = integration.alert_timeout or (service.alert_timeout if service else None)
    if timeout:
        candidates.append(now + timeout)
    return min(candidates) if candidates else None


def _alert_values(
    integration: Integration,
    event: NormalizedEvent,
    key: str,
    routed: Routed,
    service: Service | None,
    now: float,
) -> dict[str, Any]:
    title = event.summary
    if integration.title is not None:
        title = (
            integration.title.render(template_context(event, integration, routed.service_id))
            or title
        )
    starts = _ts(event.occurred_at)
    return {
        "scope": integration.id,
        "dedup_key": key,
        "status": "firing",
        "integration_id": integration.id,
        "channel_id": integration.channel_id,
        "channel_kind": integration.channel_kind,
        "service_id": routed.service_id,
        "severity": event.severity,
        "summary": event.summary,
        "title": title,
        "source": event.source,
        "labels": dict(event.labels),
        "annotations": dict(event.annotations),
        "details": event.details,
        "links": list(event.links),
        "route_reason": routed.reason,
        "event_count": 1,
        "starts_at": min(starts, now) if starts is not None else now,
        "first_event_at": now,
        "last_event_at": now,
        "ends_at": _ts(event.ends_at),
        "expires_at": _expiry(integration, service, event, now),
    }


def event_row(
    integration: Integration, event: NormalizedEvent, key: str, outcome: Outcome, now: float
) -> tuple[Any, ...]:
    """The event's row, in `hot.EVENT_COLUMNS` order, JSON encoded (one per event received)."""
    return (
        now,
        integration.id,
        integration.channel_id,
        integration.channel_kind,
        event.action,
        event.kind,
        key,
        event.idempotency_key,
        outcome.service_id,
        outcome.alert_id,
        outcome.ticket_id,
        event.severity,
        event.summary,
        _ts(event.occurred_at),
        hot.encode(event.labels),
        hot.encode(event.raw),
        outcome.decision,
        outcome.reason,
    )


def _event_from_alert(alert: Row[Any]) -> NormalizedEvent:
    labels: Mapping[str, str] = alert.labels or {}
    return NormalizedEvent(
        action="trigger",
        summary=alert.summary,
        severity=alert.severity,
        dedup_key=alert.dedup_key,
        labels=dict(labels),
        annotations=dict(alert.annotations or {}),
        source=alert.source,
        service=alert.service_id,
    )
