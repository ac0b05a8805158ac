"""Alert rows: find the open alert of a dedup key, create, update, resolve, find expired."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, and_, func, select

from watchkeeper.storage import raw
from watchkeeper.storage.tables import ALERT_FIRING, alerts

_OPEN = ALERT_FIRING


def find_open(conn: Connection, scope: str, dedup_key: str) -> Row[Any] | None:
    return conn.execute(
        select(alerts).where(alerts.c.scope == scope, alerts.c.dedup_key == dedup_key, _OPEN)
    ).first()


def update(conn: Connection, alert_id: int, **values: Any) -> None:
    conn.execute(alerts.update().where(alerts.c.id == alert_id).values(**values))


def count_firing_for_ticket(conn: Connection, ticket_id: int) -> int:
    return int(
        conn.execute(
            select(func.count()).where(alerts.c.ticket_id == ticket_id, _OPEN)
        ).scalar_one()
    )


def for_ticket(conn: Connection, ticket_id: int) -> Sequence[Row[Any]]:
    """A ticket's alerts, oldest first: what a page says (read on the paging path, raw)."""
    sql = f"SELECT {raw.shape(alerts).columns} FROM alerts WHERE ticket_id = ? ORDER BY id"
    rows: Sequence[Row[Any]] = raw.table_rows(conn, raw.execute(conn, sql, (ticket_id,)), alerts)
    return rows


def _claim(conn: Connection, stmt: Any) -> Sequence[Row[Any]]:
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return conn.execute(stmt).all()


def claim_expired(conn: Connection, now: float, limit: int = 500) -> Sequence[Row[Any]]:
    """Firing alerts whose own timer (endsAt or timeout) has passed."""
    return _claim(
        conn,
        select(alerts)
        .where(_OPEN, alerts.c.expires_at <= now)
        .order_by(alerts.c.expires_at)
        .limit(limit),
    )


def claim_mute_ended(conn: Connection, now: float, limit: int = 500) -> Sequence[Row[Any]]:
    """Firing, muted alerts whose mute has ended: they converge now (invariant 4)."""
    return _claim(
        conn,
        select(alerts)
        .where(_OPEN, alerts.c.muted_reason.is_not(None), alerts.c.muted_until <= now)
        .order_by(alerts.c.muted_until)
        .limit(limit),
    )


def move_to_ticket(conn: Connection, from_ticket: int, to_ticket: int) -> int:
    res = conn.execute(
        alerts.update().where(alerts.c.ticket_id == from_ticket).values(ticket_id=to_ticket)
    )
    return int(res.rowcount or 0)


def resolve_all_for_ticket(conn: Connection, ticket_id: int, now: float, by: str) -> int:
    res = conn.execute(
        alerts.update()
        .where(and_(alerts.c.ticket_id == ticket_id, _OPEN))
        .values(status="resolved", resolved_at=now, resolved_by=by, expires_at=None)
    )
    return int(res.rowcount or 0)


def search(
    conn: Connection,
    *,
    dedup_key: str | None = None,
    integration: str | None = None,
    service: str | None = None,
    status: str | None = None,
    ticket_id: int | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> Sequence[Row[Any]]:
    stmt = select(alerts).order_by(alerts.c.id.desc()).limit(limit)
    if dedup_key is not None:
        stmt = stmt.where(alerts.c.dedup_key == dedup_key)
    if integration is not None:
        stmt = stmt.where(alerts.c.integration_id == integration)
    if service is not None:
        stmt = stmt.where(alerts.c.service_id == service)
    if status == "muted":
        stmt = stmt.where(alerts.c.status == "firing", alerts.c.muted_reason.is_not(None))
    elif status is not None:
        stmt = stmt.where(alerts.c.status == status)
    if ticket_id is not None:
        stmt = stmt.where(alerts.c.ticket_id == ticket_id)
    if before_id is not None:
        stmt = stmt.where(alerts.c.id < before_id)
    return conn.execute(stmt).all()


def get(conn: Connection, alert_id: int) -> Row[Any] | None:
    return conn.execute(select(alerts).where(alerts.c.id == alert_id)).first()


def recheck_muted(conn: Connection, now: float) -> int:
    """Rules changed: have the engine look at every muted firing alert again."""
    res = conn.execute(
        alerts.update().where(_OPEN, alerts.c.muted_reason.is_not(None)).values(muted_until=now)
    )
    return int(res.rowcount or 0)


def any_expired(conn: Connection, now: float) -> bool:
    sql = "SELECT 1 FROM alerts WHERE status = 'firing' AND expires_at <= ? LIMIT 1"
    row = conn.exec_driver_sql(raw.driver_sql(conn, sql), (now,)).first()
    return row is not None


def any_mute_ended(conn: Connection, now: float) -> bool:
    sql = (
        "SELECT 1 FROM alerts WHERE status = 'firing' AND muted_reason IS NOT NULL "
        "AND muted_until <= ? LIMIT 1"
    )
    row = conn.exec_driver_sql(raw.driver_sql(conn, sql), (now,)).first()
    return row is not None
