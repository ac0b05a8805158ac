"""Opening a database: SQLite (WAL, busy timeout, BEGIN IMMEDIATE, one process) or PostgreSQL."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from watchkeeper.errors import Conflict

READ_ONLY = "watchkeeper_read_only"
WAKE_CHANNEL = "watchkeeper_engine"


def notify_engines(conn: Connection) -> None:
    """Wake engines in other processes when this transaction commits (PostgreSQL NOTIFY);
    in one process, `Runtime.nudge` does it directly."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"NOTIFY {WAKE_CHANNEL}")


def reader(engine: Engine) -> Engine:
    """The same database for reading only: on SQLite its transactions never take the write
    lock, so API reads neither wait for the ingest writer nor hold it up."""
    return engine.execution_options(**{READ_ONLY: True})


def normalize_url(url: str) -> str:
    """Accept `postgresql://` and `postgres://` as psycopg 3 URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def is_sqlite(engine_or_url: Engine | str) -> bool:
    url = engine_or_url if isinstance(engine_or_url, str) else str(engine_or_url.url)
    return url.startswith("sqlite")


def open_engine(url: str, *, pool_size: int = 8) -> Engine:
    url = normalize_url(url)
    if is_sqlite(url):
        return _sqlite_engine(url)
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_timeout=10,
        # psycopg 3: no server-side prepares, so PgBouncer in transaction mode works
        connect_args={"prepare_threshold": None, "connect_timeout": 5},
    )


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see `begin` below).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes in WAL mode
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(READ_ONLY):
            # readers share WAL snapshots and never wait for the write lock
            conn.exec_driver_sql("BEGIN")
        else:
            # writers take the write lock up front: no deadlock-prone read→write upgrade
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class ProcessLock:
    """Refuses a second server on the same SQLite file (SQLite serves one process here)."""

    def __init__(self, db_url: str) -> None:
        path = make_url(normalize_url(db_url)).database
        self.path = Path(f"{path}.lock") if path and path != ":memory:" else None
        self._fh: IO[str] | None = None

    def acquire(self) -> None:
        if self.path is None:
            return
        fh = open(self.path, "a+")  # noqa: SIM115 - held for the life of the process
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            fh.close()
            raise Conflict(
                f"another Watchkeeper server ({holder}) is using {self.path.with_suffix('')}; "
                "SQLite serves one process: stop it, or use PostgreSQL for several processes",
                title="Database in use",
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}")
        fh.flush()
        self._fh = fh

    def release(self) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None
