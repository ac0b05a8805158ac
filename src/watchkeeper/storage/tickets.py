"""Ticket rows: the grouping lookup, creation under the unique index, state changes, timeline."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import JSON, Boolean, Connection, Row, select

from watchkeeper.storage import hot
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
    postgres = conn.dialect.name == "postgresql"
    m = "%s" if postgres else "?"
    sql = f"SELECT {_ALL_COLUMNS} FROM tickets WHERE id IN ({', '.join([m] * len(ticket_ids))})"
    if for_update and postgres:
        sql += " ORDER BY id FOR UPDATE"
    cur = conn.connection.cursor()
    cur.execute(sql, tuple(ticket_ids))
    found: dict[int, dict[str, Any]] = {}
    for values in cur.fetchall():
        row = dict(zip(_COLUMN_NAMES, values, strict=True))
        for name in _JSON_COLUMNS:
            if isinstance(row[name], str | bytes):  # SQLite keeps JSON as text
                row[name] = _decode_json(row[name])
        for name in _BOOL_COLUMNS:
            if row[name] is not None:
                row[name] = bool(row[name])
        found[int(row["id"])] = row
    return found


_COLUMN_NAMES = tuple(c.name for c in tickets.columns)
_ALL_COLUMNS = ", ".join(_COLUMN_NAMES)
_JSON_COLUMNS = tuple(c.name for c in tickets.columns if isinstance(c.type, JSON))
_BOOL_COLUMNS = tuple(c.name for c in tickets.columns if isinstance(c.type, Boolean))
_decode_json = msgspec.json.decode


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


def update_joined(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Write the join columns of many tickets with one executemany on the driver cursor."""
    if not rows:
        return
    m = "%s" if conn.dialect.name == "postgresql" else "?"
    sets = ", ".join(f"{c} = {m}" for c in _JOINED_COLUMNS)
    params = [(*(r[c] for c in _JOINED_COLUMNS), r["id"]) for r in sorted(rows, key=_by_id)]
    conn.connection.cursor().executemany(f"UPDATE tickets SET {sets} WHERE id = {m}", params)


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
    m = "%s" if conn.dialect.name == "postgresql" else "?"
    cur = conn.connection.cursor()
    cur.execute(
        f"SELECT id, last_alert_at FROM tickets WHERE service_id = {m} AND group_key = {m} "
        "AND grouping",
        (service_id, group_key),
    )
    row = cur.fetchone()
    return (int(row[0]), float(row[1])) if row else None


def insert_grouping(conn: Connection, values: dict[str, Any]) -> int | None:
    """Open a ticket for a group; None when another writer opened it first (re-read).

    A fixed statement on the driver cursor per set of columns: it is on the path from a new
    alert to its first page, where building the statement cost more than running it."""
    columns = tuple(values)
    postgres = conn.dialect.name == "postgresql"
    m = "%s" if postgres else "?"
    sql = (
        f"INSERT INTO tickets ({', '.join(columns)}) VALUES ({', '.join([m] * len(columns))}) "
        "ON CONFLICT (service_id, group_key) WHERE grouping DO NOTHING RETURNING id"
    )
    params = tuple(hot.encode(values[c]) if c in _JSON_COLUMNS else values[c] for c in columns)
    cur = conn.connection.cursor()
    cur.execute(sql, params)
    row = cur.fetchone()
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
