"""The engine's first modules: alert expiry, mute review, quiet-period resolve, heartbeats.

Each `update_all` claims due rows, acts and records the result in one transaction; running it
twice, or in two engines at once, does the work once.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import Connection

from watchkeeper.domain.event import NormalizedEvent
from watchkeeper.pipeline.flow import HEARTBEAT_TIMER, EventSink, Pipeline
from watchkeeper.pipeline.snapshot import Snapshot
from watchkeeper.pipeline.ticket import AUTO_RESOLVE_TIMER
from watchkeeper.storage import alerts as alerts_q
from watchkeeper.storage import timers as timers_q


class Module(Protocol):
    name: str

    def update_all(self, conn: Connection, snap: Snapshot, now: float) -> int: ...


class AlertExpiry:
    """Alertmanager API v2 alerts whose endsAt passed, and alerts past their alert_timeout."""

    name = "alert_expiry"

    def has_due(self, conn: Connection, now: float) -> bool:
        return alerts_q.any_expired(conn, now)

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    def update_all(self, conn: Connection, snap: Snapshot, now: float) -> int:
        rows = alerts_q.claim_expired(conn, now)
        for alert in rows:
            self.pipeline.expire(conn, snap, alert, now)
        return len(rows)


class MuteReview:
    """Muted alerts whose silence or window ended (or whose rules changed) converge now."""

    name = "mute_review"

    def has_due(self, conn: Connection, now: float) -> bool:
        return alerts_q.any_mute_ended(conn, now)

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    def update_all(self, conn: Connection, snap: Snapshot, now: float) -> int:
        rows = alerts_q.claim_mute_ended(conn, now)
        for alert in rows:
            self.pipeline.mute_ended(conn, snap, alert, now)
        return len(rows)


class QuietResolve:
    """Tickets whose alerts all resolved a quiet period ago (auto_resolve: after_quiet)."""

    name = "quiet_resolve"
    timer_kinds = (AUTO_RESOLVE_TIMER,)

    def __init__(self, pipeline: Pipeline, owner: str) -> None:
        self.pipeline = pipeline
        self.owner = owner

    def update_all(self, conn: Connection, snap: Snapshot, now: float) -> int:
        rows = timers_q.claim_due(conn, kind=AUTO_RESOLVE_TIMER, now=now, owner=self.owner)
        for timer in rows:
            self.pipeline.lifecycle.quiet_period_over(conn, ticket_id=int(timer.ref), now=now)
            timers_q.delete(conn, timer.id)
        return len(rows)


class Heartbeats:
    """A heartbeat integration whose pings stopped raises its alert (resolved by the next ping)."""

    name = "heartbeats"
    timer_kinds = (HEARTBEAT_TIMER,)

    def __init__(self, pipeline: Pipeline, owner: str) -> None:
        self.pipeline = pipeline
        self.owner = owner

    def update_all(self, conn: Connection, snap: Snapshot, now: float) -> int:
        rows = timers_q.claim_due(conn, kind=HEARTBEAT_TIMER, now=now, owner=self.owner)
        sink = EventSink()
        for timer in rows:
            timers_q.delete(conn, timer.id)
            integration = snap.integrations_by_id.get(timer.ref)
            if integration is None or not integration.interval:
                continue
            missed = NormalizedEvent(
                action="trigger",
                summary=f"No heartbeat from {integration.name} for {_human(integration.interval)}",
                severity="high",
                dedup_key="heartbeat",
                labels={"alertname": "HeartbeatMissed", "integration": integration.id},
                source="watchkeeper",
            )
            self.pipeline.process(conn, snap, integration, missed, now, sink)
        sink.flush(conn, self.pipeline.lifecycle, now)
        return len(rows)


def _human(seconds: float) -> str:
    if seconds % 3600 == 0:
        return f"{int(seconds // 3600)}h"
    if seconds % 60 == 0:
        return f"{int(seconds // 60)}m"
    return f"{int(seconds)}s"
