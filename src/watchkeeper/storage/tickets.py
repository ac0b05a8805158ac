"""Ticket rows: the grouping lookup, creation under the unique index, state changes, timeline."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, select

from watchkeeper.storage import hot, raw
from watchkeeper.storage.tables import TICKET_GROUPING, tickets, timeline

_GROUPING = TICKET_GROUPING


def get(conn: Connection, ticket_id: int, *, for_update: bool = False) -> Row[Any] | None:
    stmt = select(tickets).where(tickets.c.id == ticket_id)
    if for_update and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return conn.execute(stmt).first()


def get_many(
    conn: Connection, ticket_ids: list[int], *, for_update: bool = False
) -> dict[int, dict[str, Any]]:
    """Tickets by id, as dicts of every column (row locks on PostgreSQL): the join path's
    read, one fixed statement per batch on the driver cursor."""
    if not ticket_ids:
        return {}
    lock = " ORDER BY id FOR UPDATE" if for_update and conn.dialect.name == "postgresql" else ""
    sql = (
        f"SELECT {raw.shape(tickets).columns} FROM tickets"
        f" WHERE id IN ({raw.questions(len(ticket_ids))}){lock}"
    )
    rows = raw.table_dicts(conn, raw.execute(conn, sql, ticket_ids), tickets)
    return {int(row["id"]): row for row in rows}


# what alerts joining a ticket change (Lifecycle.join_many): a fixed statement per batch
_JOINED_COLUMNS = (
    "last_alert_at",
    "alert_count",
    "updated_at",
    "severity",
    "first_automatic_at",
    "impact_start",
    "mitigated_at",
)


_UPDATE_JOINED = f"UPDATE tickets SET {', '.join(f'{c} = ?' for c in _JOINED_COLUMNS)} WHERE id = ?"


def update_joined(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Write the join columns of many tickets with one executemany on the driver cursor."""
    if not rows:
        return
    params = [(*(r[c] for c in _JOINED_COLUMNS), r["id"]) for r in sorted(rows, key=_by_id)]
    raw.executemany(conn, _UPDATE_JOINED, params)


def _by_id(row: dict[str, Any]) -> int:
    return int(row["id"])


def find_grouping(conn: Connection, service_id: str, group_key: str) -> Row[Any] | None:
    return conn.execute(
        select(tickets).where(
            tickets.c.service_id == service_id, tickets.c.group_key == group_key, _GROUPING
        )
    ).first()


def grouping_id(conn: Connection, service_id: str, group_key: str) -> tuple[int, float] | None:
    """(id, last alert at) of the ticket open for grouping: the ingest path's lookup, as a
    fixed statement on the driver cursor (the condition repeated for SQLite's partial index)."""
    row = raw.execute(
        conn,
        "SELECT id, last_alert_at FROM tickets WHERE service_id = ? AND group_key = ? AND grouping",
        (service_id, group_key),
    ).fetchone()
    return (int(row[0]), float(row[1])) if row else None


def insert_grouping(conn: Connection, values: dict[str, Any]) -> int | None:
    """Open a ticket for a group; None when another writer opened it first (re-read).

    A fixed statement on the driver cursor per set of columns: it is on the path from a new
    alert to its first page, where building the statement cost more than running it."""
    sql = (
        f"INSERT INTO tickets ({', '.join(values)}) VALUES ({raw.questions(len(values))})"
        " ON CONFLICT (service_id, group_key) WHERE grouping DO NOTHING RETURNING id"
    )
    row = raw.execute(conn, sql, raw.insert_values(tickets, values)).fetchone()
    return int(row[0]) if row else None


def insert(conn: Connection, values: dict[str, Any]) -> int:
    return int(conn.execute(tickets.insert().values(**values).returning(tickets.c.id)).scalar_one())


def update(conn: Connection, ticket_id: int, **values: Any) -> None:
    conn.execute(tickets.update().where(tickets.c.id == ticket_id).values(**values))


def add_timeline(
    conn: Connection,
    ticket_id: int,
    *,
    at: float,
    kind: str,
    message: str,
    actor: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    # a fixed statement on the driver cursor: timelines are written on the ingest hot path
    hot.insert_timeline(conn, (ticket_id, at, kind, actor, message, data))


def timeline_of(conn: Connection, ticket_id: int) -> list[Row[Any]]:
    return list(
        conn.execute(
            select(timeline).where(timeline.c.ticket_id == ticket_id).order_by(timeline.c.id)
        ).all()
    )


def search(
    conn: Connection,
    *,
    status: list[str] | None = None,
    service: str | None = None,
    severity: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[Row[Any]]:
    stmt = select(tickets).order_by(tickets.c.id.desc()).limit(limit)
    if status:
        stmt = stmt.where(tickets.c.status.in_(status))
    if service is not None:
        stmt = stmt.where(tickets.c.service_id == service)
    if severity is not None:
        stmt = stmt.where(tickets.c.severity == severity)
    if before_id is not None:
        stmt = stmt.where(tickets.c.id < before_id)
    return list(conn.execute(stmt).all())
