"""Write transactions of one process queue at a gate instead of polling SQLite's write lock.

SQLite tells a connection that finds the write lock taken only "busy"; its busy handler then
sleeps and tries again. In one process the engine thread and the ingest writer wait for each
other at a lock that wakes the next writer as soon as the last one ends. These tests give
the waiting connection no busy timeout at all: without the gate its BEGIN IMMEDIATE fails at
once with "database is locked".
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError

from watchkeeper.storage.db import open_engine


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_engine(f"sqlite:///{tmp_path / 'wk.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
    yield engine
    engine.dispose()


def _impatient(conn: Connection) -> None:
    """This connection gives up at once where SQLite would make it wait for the lock (set
    on the driver's connection: through SQLAlchemy the statement would begin a transaction)."""
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    dbapi.execute("PRAGMA busy_timeout=0")


def _rows(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [str(v) for v in conn.execute(text("SELECT v FROM t ORDER BY id")).scalars()]


def _hold_write_lock(engine: Engine, began: threading.Event, release: threading.Event) -> None:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t (v) VALUES ('first')"))
        began.set()
        assert release.wait(10)


def test_a_second_writer_waits_for_the_first_to_commit(engine: Engine) -> None:
    began, release = threading.Event(), threading.Event()
    first = threading.Thread(target=_hold_write_lock, args=(engine, began, release))
    first.start()
    try:
        _second_writer_waits(engine, began, release)
    finally:
        release.set()
        first.join(10)
    assert _rows(engine) == ["first", "second"]


def _second_writer_waits(engine: Engine, began: threading.Event, release: threading.Event) -> None:
    assert began.wait(10)
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with engine.connect() as conn:
                _impatient(conn)
                with conn.begin():
                    conn.execute(text("INSERT INTO t (v) VALUES ('second')"))
        except BaseException as exc:
            errors.append(exc)

    waiter = threading.Thread(target=second)
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive(), "the second writer must wait while the first holds the lock"
    release.set()
    waiter.join(10)
    assert errors == []


def _write_on_another_connection(engine: Engine) -> None:
    with engine.connect() as conn:
        _impatient(conn)
        with conn.begin():
            conn.execute(text("INSERT INTO t (v) VALUES ('after')"))


def test_the_gate_opens_when_a_transaction_rolls_back(engine: Engine) -> None:
    with engine.connect() as failed:  # kept checked out: the next write uses another
        with pytest.raises(RuntimeError), failed.begin():
            failed.execute(text("INSERT INTO t (v) VALUES ('undone')"))
            raise RuntimeError("the caller failed mid-transaction")
        _write_on_another_connection(engine)
    assert _rows(engine) == ["after"]


def test_the_gate_opens_when_the_connection_is_lost(engine: Engine) -> None:
    conn = engine.connect()
    conn.begin()
    conn.execute(text("INSERT INTO t (v) VALUES ('lost')"))
    conn.invalidate()  # the DBAPI connection is closed under the open transaction
    conn.close()
    _write_on_another_connection(engine)
    assert _rows(engine) == ["after"]


def test_another_process_still_meets_the_busy_timeout(engine: Engine, tmp_path: Path) -> None:
    """A writer outside this process (here: a plain connection) is not at the gate; a
    BEGIN that fails on its lock leaves the gate open for the next transaction."""
    outsider = sqlite3.connect(tmp_path / "wk.db", isolation_level=None)
    outsider.execute("BEGIN IMMEDIATE")
    with engine.connect() as refused:  # kept checked out: the next write uses another
        try:
            _impatient(refused)
            with pytest.raises(OperationalError, match="locked"), refused.begin():
                pass
        finally:
            outsider.execute("ROLLBACK")
            outsider.close()
        _write_on_another_connection(engine)
    assert _rows(engine) == ["after"]


def test_readers_do_not_queue_behind_a_writer(engine: Engine) -> None:
    from watchkeeper.storage.db import reader

    began, release = threading.Event(), threading.Event()
    first = threading.Thread(target=_hold_write_lock, args=(engine, began, release))
    first.start()
    try:
        assert began.wait(10)
        with reader(engine).begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
    finally:
        release.set()
        first.join(10)
