"""The timer table (invariant 6): schedule, cancel and claim due rows under a lease."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, bindparam, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from watchkeeper.storage.built import Built
from watchkeeper.storage.tables import timers

# statements on the paging path, built once per dialect (see storage/built.py)
_stmt = Built()


def _schedule(dialect: str) -> Any:
    ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(timers)
    return ins.on_conflict_do_update(
        index_elements=["kind", "ref"],
        set_={
            "due_at": ins.excluded.due_at,
            "payload": ins.excluded.payload,
            "lease_until": None,
            "lease_owner": None,
        },
    )


def _listed(prefix: str, values: Sequence[str]) -> dict[str, str]:
    """Parameters for an IN list of a fixed length (see `_in`)."""
    return {f"{prefix}{i}": value for i, value in enumerate(values)}


def _in(prefix: str, count: int) -> list[Any]:
    """An IN list of `count` parameters: the statement compiles once and is cached, where an
    expanding parameter is rendered again on every run (~0.3-0.5 ms on the paging path)."""
    return [bindparam(f"{prefix}{i}") for i in range(count)]


def _due(dialect: str, count: int) -> Any:
    stmt = (
        select(timers)
        .where(
            timers.c.kind.in_(_in("p_kind", count)),
            timers.c.due_at <= bindparam("p_now"),
            or_(timers.c.lease_until.is_(None), timers.c.lease_until <= bindparam("p_now")),
        )
        .order_by(timers.c.due_at, timers.c.id)
        .limit(bindparam("p_limit"))
    )
    return stmt.with_for_update(skip_locked=True) if dialect == "postgresql" else stmt


def _lease(_dialect: str) -> Any:
    return (
        timers.update()
        .where(timers.c.id.in_(bindparam("p_ids", expanding=True)))
        .values(lease_until=bindparam("p_until"), lease_owner=bindparam("p_owner"))
    )


def _lease_refs(_dialect: str, count: int) -> Any:
    return (
        timers.update()
        .where(
            timers.c.kind == bindparam("p_kind"),
            timers.c.ref.in_(_in("p_ref", count)),
            timers.c.due_at <= bindparam("p_now"),
            or_(timers.c.lease_until.is_(None), timers.c.lease_until <= bindparam("p_now")),
        )
        .values(lease_until=bindparam("p_until"), lease_owner=bindparam("p_owner"))
        .returning(*timers.c)
    )


def _delete(_dialect: str) -> Any:
    return timers.delete().where(timers.c.id == bindparam("p_id"))


def schedule(
    conn: Connection, *, kind: str, ref: str, due_at: float, payload: dict[str, Any] | None = None
) -> None:
    """Set (or move) the one timer of (kind, ref)."""
    conn.execute(
        _stmt(conn, "schedule", _schedule),
        {"kind": kind, "ref": ref, "due_at": due_at, "payload": payload, "attempts": 0},
    )


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
    kinds = [kind] if isinstance(kind, str) else list(kind)
    n = len(kinds)
    rows = conn.execute(
        _stmt(conn, f"due/{n}", lambda dialect: _due(dialect, n)),
        {**_listed("p_kind", kinds), "p_now": now, "p_limit": limit},
    ).all()
    if rows and lease is not None:
        conn.execute(
            _stmt(conn, "lease", _lease),
            {"p_ids": [r.id for r in rows], "p_until": now + lease, "p_owner": owner},
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
    rows: list[Row[Any]] = []
    for start in range(0, len(refs), _REFS_AT_ONCE):
        some = refs[start : start + _REFS_AT_ONCE]
        rows += _lease_some_refs(conn, kind=kind, refs=some, now=now, owner=owner, lease=lease)
    return sorted(rows, key=lambda r: (r.due_at, r.id))


_REFS_AT_ONCE = 8  # a step pages a few people at once: one cached statement per count


def _lease_some_refs(
    conn: Connection, *, kind: str, refs: Sequence[str], now: float, owner: str, lease: float
) -> Sequence[Row[Any]]:
    n = len(refs)
    return conn.execute(
        _stmt(conn, f"lease_refs/{n}", lambda dialect: _lease_refs(dialect, n)),
        {
            "p_kind": kind,
            **_listed("p_ref", refs),
            "p_now": now,
            "p_until": now + lease,
            "p_owner": owner,
        },
    ).all()


def delete(conn: Connection, timer_id: int) -> None:
    conn.execute(_stmt(conn, "delete", _delete), {"p_id": timer_id})


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
