"""Hot-path statements of the writer: one query or one executemany per batch, not per event.

Plain SQL on the driver connection (no compilation per call); JSON is encoded once with msgspec.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection

from watchkeeper.storage import raw

EVENT_COLUMNS = (
    "received_at",
    "integration_id",
    "channel_id",
    "channel_kind",
    "action",
    "kind",
    "dedup_key",
    "idempotency_key",
    "service_id",
    "alert_id",
    "ticket_id",
    "severity",
    "summary",
    "occurred_at",
    "labels",
    "payload",
    "decision",
    "reason",
)
_EVENT_VALUES = raw.questions(len(EVENT_COLUMNS))
_TOUCH_COLUMNS = ("event_count", "last_event_at", "severity", "expires_at", "ends_at")
_COUNT_COLUMNS = ("event_count", "last_event_at")


encode = raw.encode  # the writer's JSON parameters (see raw.encode)


def insert_events(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Event rows as tuples in EVENT_COLUMNS order, JSON columns already encoded."""
    if not rows:
        return
    sql = f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES ({_EVENT_VALUES})"
    raw.executemany(conn, sql, rows)


# What the repeat path needs of an open alert; the rest is read only when a slow path needs it.
SLIM_COLUMNS = (
    "id",
    "scope",
    "dedup_key",
    "ticket_id",
    "service_id",
    "integration_id",
    "severity",
    "muted_reason",
    "event_count",
    "last_event_at",
    "expires_at",
    "ends_at",
)


def open_alerts(
    conn: Connection, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, Any]]:
    """The firing alerts of many (scope, dedup key) pairs: one index search per scope and
    up to 400 keys (`scope = ? AND dedup_key IN (...)` seeks the partial unique index, where
    a row-value IN would scan it).

    Rows are slim (no JSON columns); slow paths read the rest when they need it. On
    PostgreSQL each lookup is planned for its keys (`replan`), never from a generic plan.
    """
    by_scope: dict[str, list[str]] = {}
    for scope, key in dict.fromkeys(keys):
        by_scope.setdefault(scope, []).append(key)
    found: dict[tuple[str, str], dict[str, Any]] = {}
    lock = " FOR UPDATE" if conn.dialect.name == "postgresql" else ""
    for scope, wanted in by_scope.items():
        for start in range(0, len(wanted), 400):
            chunk = wanted[start : start + 400]
            # the literal condition lets SQLite use the partial unique index
            sql = (
                f"SELECT {', '.join(SLIM_COLUMNS)} FROM alerts WHERE status = 'firing' "
                f"AND scope = ? AND dedup_key IN ({raw.questions(len(chunk))}){lock}"
            )
            for row in raw.execute(conn, sql, (scope, *chunk), replan=True).fetchall():
                alert = dict(zip(SLIM_COLUMNS, row, strict=True))
                found[(alert["scope"], alert["dedup_key"])] = alert
    return found


def touch_alerts(
    conn: Connection, alerts_by_id: dict[int, dict[str, Any]], changed: set[int]
) -> None:
    """Write the repeat counters of alerts touched in this batch, and the severity and expiry
    of those in `changed` (a plain repeat leaves the expiry index alone)."""
    if not alerts_by_id:
        return
    for columns, ids in (
        (_TOUCH_COLUMNS, sorted(changed & alerts_by_id.keys())),
        (_COUNT_COLUMNS, sorted(alerts_by_id.keys() - changed)),
    ):
        if ids:
            sets = ", ".join(f"{c} = ?" for c in columns)
            params = [(*(alerts_by_id[i][c] for c in columns), i) for i in ids]
            raw.executemany(conn, f"UPDATE alerts SET {sets} WHERE id = ?", params)


_ALERT_COLUMNS = (
    "scope",
    "dedup_key",
    "status",
    "integration_id",
    "channel_id",
    "channel_kind",
    "service_id",
    "severity",
    "summary",
    "title",
    "source",
    "labels",
    "annotations",
    "details",
    "links",
    "route_reason",
    "muted_reason",
    "muted_until",
    "event_count",
    "starts_at",
    "first_event_at",
    "last_event_at",
    "ends_at",
    "expires_at",
)
_ALERT_JSON = frozenset({"labels", "annotations", "details", "links"})


def insert_alert(conn: Connection, values: dict[str, Any]) -> int | None:
    """Open an alert; None when another writer opened the same key first (then re-read)."""
    sql = (
        f"INSERT INTO alerts ({', '.join(_ALERT_COLUMNS)}) "
        f"VALUES ({raw.questions(len(_ALERT_COLUMNS))}) "
        "ON CONFLICT (scope, dedup_key) WHERE status = 'firing' DO NOTHING RETURNING id"
    )
    params = tuple(
        encode(values.get(c)) if c in _ALERT_JSON else values.get(c) for c in _ALERT_COLUMNS
    )
    row = raw.execute(conn, sql, params).fetchone()
    return int(row[0]) if row else None


def assign_tickets(conn: Connection, ticket_of: dict[int, int]) -> None:
    """Point alerts at the tickets they converged into (one executemany per batch)."""
    if not ticket_of:
        return
    sql = "UPDATE alerts SET ticket_id = ? WHERE id = ?"
    raw.executemany(conn, sql, [(t, a) for a, t in sorted(ticket_of.items())])


_INSERT_TIMELINE = (
    "INSERT INTO timeline (ticket_id, at, kind, actor, message, data) VALUES (?, ?, ?, ?, ?, ?)"
)


def insert_timeline(conn: Connection, entry: tuple[int, float, str, str | None, str, Any]) -> None:
    """(ticket id, at, kind, actor, message, data) on a ticket's timeline."""
    insert_timelines(conn, [entry])


def insert_timelines(
    conn: Connection, entries: Sequence[tuple[int, float, str, str | None, str, Any]]
) -> None:
    """Many timeline entries with one executemany."""
    if not entries:
        return
    raw.executemany(conn, _INSERT_TIMELINE, [(*head, encode(data)) for *head, data in entries])
