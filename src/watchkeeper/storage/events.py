"""Event rows (append-only) and change events."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, select, tuple_

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
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if before_id is not None:
        stmt = stmt.where(events.c.id < before_id)
    # An alert's events all carry its scope (their integration) and dedup key: found through
    # that index (events have none by alert or ticket, which every write would pay for).
    if alert_id is not None:
        stmt = stmt.where(_of_alerts(alerts.c.id == alert_id))
    if ticket_id is not None:
        # the ticket's alerts' events, including those from before an alert joined it
        stmt = stmt.where(_of_alerts(alerts.c.ticket_id == ticket_id))
    return list(conn.execute(stmt).all())


def _of_alerts(which: ColumnElement[bool]) -> ColumnElement[bool]:
    return and_(
        tuple_(events.c.integration_id, events.c.dedup_key).in_(
            select(alerts.c.scope, alerts.c.dedup_key).where(which)
        ),
        events.c.alert_id.in_(select(alerts.c.id).where(which)),
    )


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
