"""Opening a database: SQLite (WAL, busy timeout, BEGIN IMMEDIATE, one process) or PostgreSQL."""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from watchkeeper.errors import Conflict

log = logging.getLogger(__name__)

READ_ONLY = "watchkeeper_read_only"
WAL_AUTOCHECKPOINT_PAGES = 10_000  # ~40 MB of WAL (SQLite's default is 1,000 pages)
WAKE_CHANNEL = "watchkeeper_engine"
PAGE_NOW = "page"  # NOTIFY payload: paging may be due at once


def notify_engines(conn: Connection, *, page_now: bool = False) -> None:
    """Wake engines in other processes when this transaction commits (PostgreSQL NOTIFY);
    in one process, `Runtime.nudge` does it directly. `page_now`: the transaction may have
    made a page due at once (a ticket opened or escalated), so engines skip the gap they
    otherwise keep between ticks under a storm."""
    if conn.dialect.name == "postgresql":
        payload = f", '{PAGE_NOW}'" if page_now else ""
        conn.exec_driver_sql(f"NOTIFY {WAKE_CHANNEL}{payload}")


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


def open_engine(url: str, *, pool_size: int = 8, pg_prepare: bool = True) -> Engine:
    """`pg_prepare`: let psycopg prepare statements it runs often (it halves the server's work
    per row on the hot path); off for PgBouncer before 1.21 in transaction mode."""
    url = normalize_url(url)
    if is_sqlite(url):
        return _sqlite_engine(url)
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_timeout=10,
        # psycopg prepares a statement on its 5th run; None never prepares
        connect_args={"prepare_threshold": 5 if pg_prepare else None, "connect_timeout": 5},
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
        # Checkpoints are the background Checkpointer's job (one fsync pair per interval, off
        # the writer): a connection checkpoints by itself only past this safety net.
        cur.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
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


class Checkpointer:
    """Moves SQLite's WAL into the database file from a thread of its own, every `interval`
    seconds, with PASSIVE checkpoints (they never wait for, nor block, the writer or readers).

    A checkpoint writes pages back and syncs both files; done by the writer on commit (SQLite's
    default, every 1,000 pages) it stalls the event loop that acknowledges senders. The driver
    releases the GIL while SQLite works, so here it overlaps with ingest instead.
    """

    def __init__(self, engine: Engine, *, interval: float = 0.25) -> None:
        self.engine = engine
        self.interval = interval
        self.checkpoints = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="wal-checkpointer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def checkpoint(self) -> tuple[int, int]:
        """One PASSIVE checkpoint: (frames in the WAL, frames now in the database file)."""
        # on the driver connection, outside any transaction (SQLAlchemy would begin one)
        raw = self.engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute("PRAGMA wal_checkpoint(PASSIVE)")
            row = cur.fetchone() or (0, 0, 0)
            cur.close()
        finally:
            raw.close()
        self.checkpoints += 1
        return int(row[1]), int(row[2])

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.checkpoint()
            except Exception:  # the database is briefly unavailable: next interval
                log.warning("WAL checkpoint failed", exc_info=True)
