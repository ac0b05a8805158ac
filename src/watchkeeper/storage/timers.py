"""The timer table (invariant 6): schedule, cancel and claim due rows under a lease."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection, Row, select

from watchkeeper.storage import raw
from watchkeeper.storage.tables import timers


def schedule(
    conn: Connection, *, kind: str, ref: str, due_at: float, payload: dict[str, Any] | None = None
) -> None:
    """Set (or move) the one timer of (kind, ref)."""
    raw.execute(
        conn,
        "INSERT INTO timers (kind, ref, due_at, attempts, payload) VALUES (?, ?, ?, 0, ?)"
        " ON CONFLICT (kind, ref) DO UPDATE SET due_at = excluded.due_at,"
        " payload = excluded.payload, lease_until = NULL, lease_owner = NULL",
        (kind, ref, due_at, raw.encode(payload)),
    )


def cancel(conn: Connection, *, kind: str, ref: str) -> None:
    conn.execute(timers.delete().where(timers.c.kind == kind, timers.c.ref == ref))


def get(conn: Connection, *, kind: str, ref: str) -> Row[Any] | None:
    return conn.execute(select(timers).where(timers.c.kind == kind, timers.c.ref == ref)).first()


class TimerRow(NamedTuple):
    id: int
    kind: str
    ref: str
    due_at: float
    lease_until: float | None
    lease_owner: str | None
    attempts: int
    payload: Any


_COLUMNS = "id, kind, ref, due_at, lease_until, lease_owner, attempts, payload"


def _rows(conn: Connection, cursor: Any) -> list[TimerRow]:
    return [
        TimerRow(
            row[0], row[1], row[2], row[3], row[4], row[5], row[6], raw.json_column(conn, row[7])
        )
        for row in cursor.fetchall()
    ]


def claim_due(
    conn: Connection,
    *,
    kind: str | tuple[str, ...],
    now: float,
    owner: str,
    lease: float | None = 60.0,
    limit: int = 200,
) -> Sequence[TimerRow]:
    """Due timers of one kind (or of several), oldest first, leased to `owner` (SKIP LOCKED on
    PostgreSQL).

    The caller acts and deletes or reschedules each row in the same transaction; a lease only
    matters when an engine dies mid-transaction on a database without row locks. `lease=None`:
    no lease is written (a caller that settles every row it claims before it commits: the row
    lock, or SQLite's single writer, already keeps other engines off them).
    """
    kinds = [kind] if isinstance(kind, str) else list(kind)
    lock = " FOR UPDATE SKIP LOCKED" if conn.dialect.name == "postgresql" else ""
    rows = _rows(
        conn,
        raw.execute(
            conn,
            f"SELECT {_COLUMNS} FROM timers WHERE kind IN ({raw.questions(len(kinds))})"
            " AND due_at <= ? AND (lease_until IS NULL OR lease_until <= ?)"
            f" ORDER BY due_at, id LIMIT ?{lock}",
            (*kinds, now, now, limit),
        ),
    )
    if rows and lease is not None:
        raw.execute(
            conn,
            "UPDATE timers SET lease_until = ?, lease_owner = ?"
            f" WHERE id IN ({raw.questions(len(rows))})",
            (now + lease, owner, *(r.id for r in rows)),
        )
    return rows


def claim_refs(
    conn: Connection, *, kind: str, refs: Sequence[str], now: float, owner: str, lease: float
) -> Sequence[TimerRow]:
    """`claim_due` for timers this transaction just scheduled (no other transaction can see
    them, so none holds them): those of `refs` that are due, oldest first, leased to `owner`
    with one UPDATE ... RETURNING."""
    if not refs:
        return []
    rows: list[TimerRow] = []
    for start in range(0, len(refs), _REFS_AT_ONCE):
        some = refs[start : start + _REFS_AT_ONCE]
        rows += _rows(
            conn,
            raw.execute(
                conn,
                f"UPDATE timers SET lease_until = ?, lease_owner = ? WHERE kind = ?"
                f" AND ref IN ({raw.questions(len(some))}) AND due_at <= ?"
                f" AND (lease_until IS NULL OR lease_until <= ?) RETURNING {_COLUMNS}",
                (now + lease, owner, kind, *some, now, now),
            ),
        )
    return sorted(rows, key=lambda r: (r.due_at, r.id))


_REFS_AT_ONCE = 8  # a step pages a few people at once: one statement text per count


def delete(conn: Connection, timer_id: int) -> None:
    raw.execute(conn, "DELETE FROM timers WHERE id = ?", (timer_id,))


def any_due(conn: Connection, *, kinds: tuple[str, ...], now: float) -> bool:
    """Whether a timer of these kinds is due and free to claim (a cheap read: the engine's idle
    check). A leased timer is being acted on (a delivery being sent): not work for a pass."""
    sql = (
        f"SELECT 1 FROM timers WHERE kind IN ({raw.questions(len(kinds))}) "
        "AND due_at <= ? AND (lease_until IS NULL OR lease_until <= ?) LIMIT 1"
    )
    row = conn.exec_driver_sql(raw.driver_sql(conn, sql), (*kinds, now, now)).first()
    return row is not None
