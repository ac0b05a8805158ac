"""Statements run on the driver's cursor behave as through SQLAlchemy: in the caller's
transaction, JSON columns round-trip, and driver errors are SQLAlchemy's."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError

from watchkeeper.storage import raw
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
        with db.connect() as conn:
            assert conn.execute(select(timers)).all() == []  # the first block rolled back
    finally:
        db.dispose()
