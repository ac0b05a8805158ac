"""Notification rows and their delivery attempts, round-robin positions, escalation problems.

Lock order, kept by every caller so PostgreSQL never deadlocks: ticket, then timer, then
notification. The engine reaches tickets after its timers, so it takes them with SKIP LOCKED.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, select, text
from sqlalchemy.dialects import postgresql, sqlite

from watchkeeper.storage import raw
from watchkeeper.storage.built import Built
from watchkeeper.storage.tables import (
    deliveries,
    escalation_problems,
    notifications,
    round_robin,
    tickets,
    timers,
)

N = notifications.c
DELIVER_TIMER = "deliver"
_CONTACT_LOCK = 7423002  # advisory-lock namespace: one (person, contact method) at a time


def _insert(conn: Connection, table: Any) -> Any:
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


# statements on the paging path, built once per dialect (see storage/built.py)
_stmt = Built()


def _get(_dialect: str) -> Any:
    return select(notifications).where(N.id == bindparam("p_id"))


def _tickets(_dialect: str) -> Any:
    return select(tickets).where(tickets.c.id.in_(bindparam("p_ids", expanding=True)))


# --- tickets and timers, as the escalation engine takes them ---------------------------------


def lock_ticket(conn: Connection, ticket_id: int) -> tuple[Row[Any] | None, bool]:
    """(ticket, busy): the row locked for this transaction; busy when another transaction holds
    it (an acknowledgement in progress): the caller tries again on its next pass."""
    postgresql = conn.dialect.name == "postgresql"
    lock = " FOR UPDATE SKIP LOCKED" if postgresql else ""
    sql = f"SELECT {raw.shape(tickets).columns} FROM tickets WHERE id = ?{lock}"
    found = raw.table_rows(conn, raw.execute(conn, sql, (ticket_id,)), tickets)
    row = found[0] if found else None
    if not postgresql:
        return row, False
    if row is not None:
        return row, False
    exists = conn.execute(select(tickets.c.id).where(tickets.c.id == ticket_id)).first()
    return None, exists is not None


def escalated(conn: Connection, ticket_id: int, *, level: int, pass_: int, count: int) -> None:
    """The ticket (locked by `lock_ticket`) was paged at `level` of pass `pass_`; `count`:
    its escalations so far."""
    raw.execute(
        conn,
        "UPDATE tickets SET escalation_level = ?, escalation_pass = ?, escalation_count = ?"
        " WHERE id = ?",
        (level, pass_, count, ticket_id),
    )


def release_timer(conn: Connection, timer_id: int) -> None:
    """Give a claimed timer back at once (instead of when its lease ends)."""
    conn.execute(
        timers.update().where(timers.c.id == timer_id).values(lease_until=None, lease_owner=None)
    )


def renew_lease(conn: Connection, *, notification_id: int, owner: str, until: float) -> bool:
    """Extend this engine's lease on a notification's delivery timer right before sending;
    False when the lease is no longer ours (it ran out and another engine took the timer, or
    the notification was cancelled): then this engine must not send."""
    result = conn.execute(
        timers.update()
        .where(
            timers.c.kind == DELIVER_TIMER,
            timers.c.ref == str(notification_id),
            timers.c.lease_owner == owner,
        )
        .values(lease_until=until)
    )
    return result.rowcount == 1


def put_off_timer(conn: Connection, timer_id: int, due_at: float) -> None:
    """A timer whose row failed: due again later, its failures counted."""
    conn.execute(
        timers.update()
        .where(timers.c.id == timer_id)
        .values(due_at=due_at, lease_until=None, lease_owner=None, attempts=timers.c.attempts + 1)
    )


def cancel_timers(conn: Connection, kind: str, refs: Sequence[str]) -> None:
    if refs:
        conn.execute(timers.delete().where(timers.c.kind == kind, timers.c.ref.in_(list(refs))))


# --- notifications ---------------------------------------------------------------------------


def insert(conn: Connection, values: dict[str, Any]) -> int | None:
    """A notification, once per (ticket, round, level, user, contact, kind); None if it exists."""
    stmt = (
        _insert(conn, notifications)
        .values(**values)
        .on_conflict_do_nothing(
            index_elements=["ticket_id", "round", "level", "user_id", "contact_id", "kind"]
        )
        .returning(N.id)
    )
    row = conn.execute(stmt).first()
    return int(row[0]) if row else None


def insert_row(conn: Connection, values: dict[str, Any]) -> Row[Any] | None:
    """`insert`, returning the whole new row (None if it exists)."""
    names = list(values)
    sql = (
        f"INSERT INTO notifications ({', '.join(names)}) VALUES ({raw.questions(len(names))})"
        " ON CONFLICT (ticket_id, round, level, user_id, contact_id, kind) DO NOTHING"
        f" RETURNING {raw.shape(notifications).columns}"
    )
    found = raw.table_rows(
        conn, raw.execute(conn, sql, raw.insert_values(notifications, values)), notifications
    )
    return found[0] if found else None


def get(conn: Connection, notification_id: int) -> Row[Any] | None:
    return conn.execute(_stmt(conn, "get", _get), {"p_id": notification_id}).first()


def get_many(conn: Connection, ids: Sequence[int]) -> dict[int, Row[Any]]:
    if not ids:
        return {}
    return {r.id: r for r in conn.execute(select(notifications).where(N.id.in_(list(ids))))}


def tickets_by_id(conn: Connection, ids: Sequence[int]) -> dict[int, Row[Any]]:
    if not ids:
        return {}
    rows = conn.execute(_stmt(conn, "tickets", _tickets), {"p_ids": sorted(set(ids))})
    return {r.id: r for r in rows}


def update(conn: Connection, notification_id: int, **values: Any) -> None:
    conn.execute(notifications.update().where(N.id == notification_id).values(**values))


def dispatched(conn: Connection, notification_id: int, at: float) -> None:
    """Taken for sending at `at` (what bundling counts)."""
    raw.execute(
        conn, "UPDATE notifications SET dispatched_at = ? WHERE id = ?", (at, notification_id)
    )


def for_ticket(conn: Connection, ticket_id: int) -> list[Row[Any]]:
    stmt = select(notifications).where(N.ticket_id == ticket_id).order_by(N.id)
    return list(conn.execute(stmt).all())


def cancel_pending(conn: Connection, ticket_id: int) -> list[Row[Any]]:
    """Cancel every notification of the ticket not sent yet, bundled ones included; returns
    them. Their timers go first (lock order), so a delivery being claimed finishes its claim."""
    waiting = list(
        conn.execute(
            select(notifications).where(
                N.ticket_id == ticket_id,
                N.kind != "bundle",  # a bundle carries other tickets: it sends without this one
                N.status.in_(("pending", "bundled")),
                N.sent_at.is_(None),
            )
        ).all()
    )
    if not waiting:
        return []
    pending = [r for r in waiting if r.status == "pending"]
    cancel_timers(conn, DELIVER_TIMER, [str(r.id) for r in pending])
    conn.execute(
        notifications.update()
        .where(N.id.in_([r.id for r in waiting]), N.status.in_(("pending", "bundled")))
        .values(status="cancelled")
    )
    return waiting


# --- bundling --------------------------------------------------------------------------------


def lock_contact(conn: Connection, user_id: str, contact_id: str) -> bool:
    """Serialize bundling decisions for one person's contact method across engines, until the
    transaction ends. Never waits (a claim batch locks several, in no set order): False when
    another engine holds it, and the caller leaves that notification for its next pass."""
    if conn.dialect.name != "postgresql":
        return True  # one writer at a time already
    key = zlib.crc32(f"{user_id}\x00{contact_id}".encode()) - 2**31
    got = conn.execute(
        text("SELECT pg_try_advisory_xact_lock(:ns, :key)"), {"ns": _CONTACT_LOCK, "key": key}
    ).scalar_one()
    return bool(got)


def recent_dispatches(conn: Connection, user_id: str, contact_id: str, since: float) -> list[float]:
    """When the messages sent to this contact method after `since` went out, oldest first."""
    cursor = raw.execute(
        conn,
        "SELECT dispatched_at FROM notifications WHERE user_id = ? AND contact_id = ?"
        " AND dispatched_at > ? ORDER BY dispatched_at",
        (user_id, contact_id, since),
    )
    return [float(row[0]) for row in cursor.fetchall()]


def open_bundle(conn: Connection, user_id: str, contact_id: str) -> Row[Any] | None:
    """The bundle still gathering for this contact method (not taken for sending yet)."""
    stmt = select(notifications).where(
        N.user_id == user_id,
        N.contact_id == contact_id,
        N.kind == "bundle",
        N.status == "pending",
        N.dispatched_at.is_(None),
    )
    return conn.execute(stmt.order_by(N.id).limit(1)).first()


def bundle_members(conn: Connection, bundle_id: int) -> list[Row[Any]]:
    stmt = select(notifications).where(N.bundle_id == bundle_id, N.status == "bundled")
    return list(conn.execute(stmt.order_by(N.id)).all())


def stamp_members(conn: Connection, bundle_id: int, **values: Any) -> None:
    conn.execute(
        notifications.update()
        .where(N.bundle_id == bundle_id, N.status == "bundled")
        .values(**values)
    )


# --- deliveries ------------------------------------------------------------------------------


def add_delivery(conn: Connection, **values: Any) -> None:
    conn.execute(deliveries.insert().values(**values))


def deliveries_of(conn: Connection, notification_id: int) -> list[Row[Any]]:
    stmt = select(deliveries).where(deliveries.c.notification_id == notification_id)
    return list(conn.execute(stmt.order_by(deliveries.c.id)).all())


# --- round robin and configuration problems --------------------------------------------------


def next_round_robin(conn: Connection, policy_id: str, level: int) -> int:
    """This visit's position in the level's turn (0, 1, 2, ...), advanced atomically."""
    stmt = (
        _insert(conn, round_robin)
        .values(policy_id=policy_id, level=level, position=0)
        .on_conflict_do_update(
            index_elements=["policy_id", "level"],
            set_={"position": round_robin.c.position + 1},
        )
        .returning(round_robin.c.position)
    )
    return int(conn.execute(stmt).scalar_one())


def note_problem(
    conn: Connection, *, policy_id: str, level: int, reason: str, ticket_id: int, now: float
) -> None:
    ins = _insert(conn, escalation_problems).values(
        policy_id=policy_id,
        level=level,
        reason=reason,
        count=1,
        first_at=now,
        last_at=now,
        last_ticket_id=ticket_id,
    )
    conn.execute(
        ins.on_conflict_do_update(
            index_elements=["policy_id", "level"],
            set_={
                "reason": reason,
                "count": escalation_problems.c.count + 1,
                "last_at": now,
                "last_ticket_id": ticket_id,
            },
        )
    )


def problems(conn: Connection) -> list[Row[Any]]:
    stmt = select(escalation_problems).order_by(
        escalation_problems.c.last_at.desc(), escalation_problems.c.policy_id
    )
    return list(conn.execute(stmt).all())


def count_by_status(conn: Connection, ticket_id: int) -> dict[str, int]:
    stmt = select(N.status, func.count()).where(N.ticket_id == ticket_id).group_by(N.status)
    return {str(status): int(n) for status, n in conn.execute(stmt).all()}
