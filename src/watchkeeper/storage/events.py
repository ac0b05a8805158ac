"""Event rows (append-only) and change events."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from watchkeeper.storage.tables import alerts, change_events, events


def seen(conn: Connection, integration_id: str, idempotency_key: str) -> bool:
    row = conn.execute(
        select(events.c.id)
        .where(
            events.c.integration_id == integration_id,
            events.c.idempotency_key == idempotency_key,
        )
        .limit(1)
    ).first()
    return row is not None


def insert_change(conn: Connection, values: dict[str, Any]) -> int:
    return int(
        conn.execute(
            change_events.insert().values(**values).returning(change_events.c.id)
        ).scalar_one()
    )


def search(
    conn: Connection,
    *,
    dedup_key: str | None = None,
    integration: str | None = None,
    service: str | None = None,
    decision: str | None = None,
    alert_id: int | None = None,
    ticket_id: int | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[Any]:
    stmt = select(events).order_by(events.c.id.desc()).limit(limit)
    for column, value in (
        (events.c.dedup_key, dedup_key),
        (events.c.integration_id, integration),
        (events.c.service_id, service),
        (events.c.decision, decision),
        (events.c.alert_id, alert_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if ticket_id is not None:
        # the events of the ticket's alerts (through the alert indexes: events have no index
        # by ticket), including those from before an alert joined it (muted, merged)
        stmt = stmt.where(
            events.c.alert_id.in_(select(alerts.c.id).where(alerts.c.ticket_id == ticket_id))
        )
    if before_id is not None:
        stmt = stmt.where(events.c.id < before_id)
    return list(conn.execute(stmt).all())


def changes_for_service(
    conn: Connection, service: str | None, since: float, limit: int = 50
) -> list[Any]:
    stmt = (
        select(change_events)
        .where(change_events.c.occurred_at >= since)
        .order_by(change_events.c.occurred_at.desc())
        .limit(limit)
    )
    if service is not None:
        stmt = stmt.where(change_events.c.service_id == service)
    return list(conn.execute(stmt).all())
