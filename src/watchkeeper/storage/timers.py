"""The timer table (invariant 6): schedule, cancel and claim due rows under a lease."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from watchkeeper.storage.tables import timers


def schedule(
    conn: Connection, *, kind: str, ref: str, due_at: float, payload: dict[str, Any] | None = None
) -> None:
    """Set (or move) the one timer of (kind, ref)."""
    ins = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(timers)
    stmt = ins.values(kind=kind, ref=ref, due_at=due_at, payload=payload, attempts=0)
    stmt = stmt.on_conflict_do_update(
        index_elements=["kind", "ref"],
        set_={"due_at": due_at, "payload": payload, "lease_until": None, "lease_owner": None},
    )
    conn.execute(stmt)


def cancel(conn: Connection, *, kind: str, ref: str) -> None:
    conn.execute(timers.delete().where(timers.c.kind == kind, timers.c.ref == ref))


def get(conn: Connection, *, kind: str, ref: str) -> Row[Any] | None:
    return conn.execute(select(timers).where(timers.c.kind == kind, timers.c.ref == ref)).first()


def claim_due(
    conn: Connection,
    *,
    kind: str | tuple[str, ...],
    now: float,
    owner: str,
    lease: float | None = 60.0,
    limit: int = 200,
) -> Sequence[Row[Any]]:
    """Due timers of one kind (or of several), oldest first, leased to `owner` (SKIP LOCKED on
    PostgreSQL).

    The caller acts and deletes or reschedules each row in the same transaction; a lease only
    matters when an engine dies mid-transaction on a database without row locks. `lease=None`:
    no lease is written (a caller that settles every row it claims before it commits: the row
    lock, or SQLite's single writer, already keeps other engines off them).
    """
    kinds = (kind,) if isinstance(kind, str) else kind
    stmt = (
        select(timers)
        .where(
            timers.c.kind.in_(kinds) if len(kinds) > 1 else timers.c.kind == kinds[0],
            timers.c.due_at <= now,
            or_(timers.c.lease_until.is_(None), timers.c.lease_until <= now),
        )
        .order_by(timers.c.due_at, timers.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    rows = conn.execute(stmt).all()
    if rows and lease is not None:
        conn.execute(
            timers.update()
            .where(timers.c.id.in_([r.id for r in rows]))
            .values(lease_until=now + lease, lease_owner=owner)
        )
    return rows


def claim_refs(
    conn: Connection, *, kind: str, refs: Sequence[str], now: float, owner: str, lease: float
) -> Sequence[Row[Any]]:
    """`claim_due` for timers this transaction just scheduled (no other transaction can see
    them, so none holds them): those of `refs` that are due, oldest first, leased to `owner`
    with one UPDATE ... RETURNING."""
    if not refs:
        return []
    stmt = (
        timers.update()
        .where(
            timers.c.kind == kind,
            timers.c.ref.in_(list(refs)),
            timers.c.due_at <= now,
            or_(timers.c.lease_until.is_(None), timers.c.lease_until <= now),
        )
        .values(lease_until=now + lease, lease_owner=owner)
        .returning(*timers.c)
    )
    return sorted(conn.execute(stmt).all(), key=lambda r: (r.due_at, r.id))


def delete(conn: Connection, timer_id: int) -> None:
    conn.execute(timers.delete().where(timers.c.id == timer_id))


def any_due(conn: Connection, *, kinds: tuple[str, ...], now: float) -> bool:
    """Whether a timer of these kinds is due and free to claim (a cheap read: the engine's idle
    check). A leased timer is being acted on (a delivery being sent): not work for a pass."""
    m = "%s" if conn.dialect.name == "postgresql" else "?"
    row = conn.exec_driver_sql(
        f"SELECT 1 FROM timers WHERE kind IN ({', '.join([m] * len(kinds))}) "
        f"AND due_at <= {m} AND (lease_until IS NULL OR lease_until <= {m}) LIMIT 1",
        (*kinds, now, now),
    ).first()
    return row is not None
