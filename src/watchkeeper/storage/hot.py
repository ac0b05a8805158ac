"""Hot-path statements of the writer: one query or one executemany per batch, not per event.

Plain SQL on the driver connection (no compilation per call); JSON is encoded once with msgspec.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import msgspec
from sqlalchemy import Connection, select, tuple_

from watchkeeper.storage.tables import ALERT_FIRING, alerts

_json = msgspec.json.Encoder()

_EVENT_COLUMNS = (
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
_JSON_COLUMNS = frozenset({"labels", "payload"})
_TOUCH_COLUMNS = ("event_count", "last_event_at", "severity", "expires_at", "ends_at")


def _placeholders(conn: Connection, n: int) -> str:
    mark = "%s" if conn.dialect.name == "postgresql" else "?"
    return ", ".join([mark] * n)


def _mark(conn: Connection) -> str:
    return "%s" if conn.dialect.name == "postgresql" else "?"


def _encode(value: Any) -> str | None:
    return None if value is None else _json.encode(value).decode()


def insert_events(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    sql = (
        f"INSERT INTO events ({', '.join(_EVENT_COLUMNS)}) "
        f"VALUES ({_placeholders(conn, len(_EVENT_COLUMNS))})"
    )
    params = [
        tuple(_encode(r[c]) if c in _JSON_COLUMNS else r[c] for c in _EVENT_COLUMNS) for r in rows
    ]
    conn.exec_driver_sql(sql, params)


def open_alerts(
    conn: Connection, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, Any]]:
    """The firing alerts of many (scope, dedup key) pairs, in one query per 500 keys."""
    wanted = list(dict.fromkeys(keys))
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        stmt = select(alerts).where(
            ALERT_FIRING, tuple_(alerts.c.scope, alerts.c.dedup_key).in_(chunk)
        )
        if conn.dialect.name == "postgresql":
            # lock them for this batch: a concurrent resolve waits, then sees our update
            stmt = stmt.with_for_update()
        for row in conn.execute(stmt):
            alert = dict(row._mapping)
            found[(alert["scope"], alert["dedup_key"])] = alert
    return found


def touch_alerts(conn: Connection, alerts_by_id: dict[int, dict[str, Any]]) -> None:
    """Write the repeat counters (and severity/expiry) of alerts touched in this batch."""
    if not alerts_by_id:
        return
    m = _mark(conn)
    sets = ", ".join(f"{c} = {m}" for c in _TOUCH_COLUMNS)
    sql = f"UPDATE alerts SET {sets} WHERE id = {m}"
    params = [
        (*(a[c] for c in _TOUCH_COLUMNS), alert_id) for alert_id, a in sorted(alerts_by_id.items())
    ]
    conn.exec_driver_sql(sql, params)
