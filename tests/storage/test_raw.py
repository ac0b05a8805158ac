"""Statements run on the driver's cursor behave as through SQLAlchemy: in the caller's
transaction, JSON columns round-trip, and driver errors are SQLAlchemy's."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError
from tests.support.harness import running

from watchkeeper.storage import alerts as alerts_q
from watchkeeper.storage import hot, raw, tables
from watchkeeper.storage import notifications as notifications_q
from watchkeeper.storage import timers as timers_q
from watchkeeper.storage.db import open_engine
from watchkeeper.storage.tables import timers


def test_timers_scheduled_raw_read_the_same_through_sqlalchemy(db_url: str) -> None:
    db = open_engine(db_url)
    try:
        with db.begin() as conn:
            timers_q.schedule(conn, kind="escalate", ref="7", due_at=10.0, payload={"level": 1})
            timers_q.schedule(conn, kind="escalate", ref="8", due_at=99.0)
            # moving a timer keeps one row, and gives up its lease
            timers_q.schedule(conn, kind="escalate", ref="7", due_at=5.0, payload={"level": 2})
        with db.connect() as conn:
            rows = conn.execute(select(timers).order_by(timers.c.ref)).all()
        assert [(r.ref, r.due_at, r.payload) for r in rows] == [
            ("7", 5.0, {"level": 2}),
            ("8", 99.0, None),
        ]
        with db.begin() as conn:
            [due] = timers_q.claim_due(conn, kind=("escalate", "x"), now=6.0, owner="e", lease=None)
            assert (due.ref, due.payload) == ("7", {"level": 2})
            [leased] = timers_q.claim_refs(
                conn, kind="escalate", refs=["8", "9"], now=100.0, owner="e", lease=30.0
            )
            assert (leased.ref, leased.lease_owner, leased.lease_until) == ("8", "e", 130.0)
            timers_q.delete(conn, due.id)
        with db.begin() as conn:  # a leased timer is not claimed again before its lease ends
            assert timers_q.claim_due(conn, kind="escalate", now=120.0, owner="f") == []
    finally:
        db.dispose()


def test_driver_errors_are_sqlalchemy_errors_and_roll_back(db_url: str) -> None:
    db = open_engine(db_url)
    try:
        with pytest.raises(IntegrityError), db.begin() as conn:
            timers_q.schedule(conn, kind="escalate", ref="1", due_at=1.0)
            raw.execute(
                conn,
                "INSERT INTO timers (id, kind, ref, due_at) SELECT id, kind, 'x', 1 FROM timers",
            )
        with pytest.raises(DBAPIError), db.begin() as conn:
            raw.execute(conn, "SELECT no_such_column FROM timers")
        with pytest.raises(IntegrityError), db.begin() as conn:  # the writer's batches too
            rows = [("escalate", "2", 1.0), ("escalate", "2", 2.0)]
            raw.executemany(conn, "INSERT INTO timers (kind, ref, due_at) VALUES (?, ?, ?)", rows)
        with db.connect() as conn:
            assert conn.execute(select(timers)).all() == []  # the first block rolled back
    finally:
        db.dispose()


def test_rows_read_raw_look_as_sqlalchemy_returns_them(db_url: str) -> None:
    """Tickets, alerts and notifications read on the paging path carry the same values as
    through SQLAlchemy: JSON decoded, booleans as booleans, `_mapping` for the whole row."""
    with running(db_url) as h:
        h.generic(summary="disk full", dedup="disk", details={"free": "1%"})
        [ticket] = h.tickets()
        [stored_alert] = h.alerts()
        with h.rt.db.begin() as conn:
            locked, busy = notifications_q.lock_ticket(conn, ticket.id)
            assert not busy and locked is not None
            assert locked._mapping == dict(ticket._mapping)
            assert isinstance(locked.false_alarm, bool) and isinstance(locked.policy, dict | None)
            [alert] = alerts_q.for_ticket(conn, ticket.id)
            assert alert._mapping == dict(stored_alert._mapping)
            assert alert.details == {"free": "1%"}
            new = notifications_q.insert_row(conn, _notification(ticket.id))
            assert new is not None and new.paging is True
            assert notifications_q.insert_row(conn, _notification(ticket.id)) is None  # exists
        with h.rt.db.connect() as conn:
            [stored] = conn.execute(select(tables.notifications)).all()
        assert new._mapping == dict(stored._mapping)


def _notification(ticket_id: int) -> dict[str, object]:
    return {
        "ticket_id": ticket_id,
        "round": 1,
        "level": 0,
        "user_id": "alice",
        "contact_id": "alice-hook",
        "contact_type": "webhook",
        "kind": "page",
        "delivery_id": "d-1",
        "status": "pending",
        "paging": True,
        "created_at": 1.0,
        "due_at": 1.0,
        "attempts": 0,
    }


def test_the_open_alert_lookup_is_planned_for_its_keys_every_time(db_url: str) -> None:
    """A batch looks up its open alerts with one long IN list per scope. psycopg prepares a
    statement after a few runs, and PostgreSQL may then keep a generic plan made while a new
    table's statistics still said it was empty: a scan that tests every row against every
    key. The lookup is never prepared; the other raw statements are."""
    db = open_engine(db_url)
    keys = [("am", f"key-{i}") for i in range(400)]
    try:
        with db.begin() as conn:
            for _ in range(8):
                assert hot.open_alerts(conn, keys) == {}
                raw.execute(conn, "SELECT count(*) FROM alerts WHERE scope = ?", ("am",))
            if conn.dialect.name == "postgresql":
                prepared = [
                    row[0]
                    for row in raw.execute(conn, "SELECT statement FROM pg_prepared_statements")
                ]
                assert any("count(*) FROM alerts" in sql for sql in prepared)
                assert not any("status = 'firing'" in sql for sql in prepared)
    finally:
        db.dispose()
