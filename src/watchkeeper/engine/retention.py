"""Raw events are pruned by age (alerts, tickets and timelines are kept)."""

from __future__ import annotations

from sqlalchemy import Connection, delete, select

from watchkeeper.pipeline.snapshot import Snapshot
from watchkeeper.storage.tables import events

CHUNK = 5000  # rows per transaction: pruning never holds the write lock for long


class EventRetention:
    name = "event_retention"

    def __init__(self, days: float) -> None:
        self.seconds = days * 86400.0

    def has_due(self, conn: Connection, now: float) -> bool:
        if self.seconds <= 0:
            return False
        row = conn.execute(
            select(events.c.id).where(events.c.received_at < now - self.seconds).limit(1)
        ).first()
        return row is not None

    def update_all(self, conn: Connection, snap: Snapshot, now: float) -> int:
        if self.seconds <= 0:
            return 0
        cutoff = now - self.seconds
        ids = [
            row[0]
            for row in conn.execute(
                select(events.c.id).where(events.c.received_at < cutoff).limit(CHUNK)
            )
        ]
        if ids:
            conn.execute(delete(events).where(events.c.id.in_(ids)))
        return len(ids)
