"""Opening a database: SQLite (WAL, busy timeout, BEGIN IMMEDIATE, one process) or PostgreSQL."""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from watchkeeper.errors import Conflict

log = logging.getLogger(__name__)

READ_ONLY = "watchkeeper_read_only"
WAL_AUTOCHECKPOINT_PAGES = 10_000  # ~40 MB of WAL (SQLite's default is 1,000 pages)
WAKE_CHANNEL = "watchkeeper_engine"
PAGE_NOW = "page"  # NOTIFY payload: paging may be due at once

# The WAL index header (https://www.sqlite.org/walformat.html), in native byte order: two
# 48-byte copies of (iVersion, unused, iChange, isInit, bigEndCksum, szPage, mxFrame, ...),
# then the checkpoint information, whose first field is nBackfill.
_WAL_INDEX = struct.Struct("=IIIBBHI")
_U32 = struct.Struct("=I")
_WAL_INDEX_VERSION = 3007000
_SHM_HEAD = 100


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


BUSY_TIMEOUT_S = 30.0
_gates: dict[str, threading.Lock] = {}
_gates_lock = threading.Lock()


def _write_gate(path: str | None) -> threading.Lock | None:
    """One lock per database file in this process, held by the connection whose write
    transaction is open. SQLite lets a connection that finds the write lock taken only poll
    for it (its busy handler sleeps 1, 2, 5, 10... ms between tries), so the engine thread
    waiting behind an ingest batch, or the writer behind an engine step, used to lose
    milliseconds after the lock was free. Waiting here instead wakes the next writer the
    moment the last one committed. Other processes still meet the busy timeout."""
    if not path or path == ":memory:":
        return None
    key = os.path.realpath(path)
    with _gates_lock:
        return _gates.setdefault(key, threading.Lock())


class _GatedConnection(sqlite3.Connection):
    """Releases the write gate when the transaction that took it ends, however it ends."""

    gate: threading.Lock | None = None
    holds_gate = False

    def enter_gate(self) -> bool:
        """False when another connection of this process kept it past the busy timeout."""
        if self.gate is None or self.holds_gate:
            return True
        if not self.gate.acquire(timeout=BUSY_TIMEOUT_S):
            return False
        self.holds_gate = True
        return True

    def leave_gate(self) -> None:
        if self.holds_gate and self.gate is not None:
            self.holds_gate = False
            self.gate.release()

    def commit(self) -> None:
        self._end(super().commit)

    def rollback(self) -> None:
        self._end(super().rollback)

    def _end(self, finish: Callable[[], None]) -> None:
        """The gate opens once no transaction is left, also when finishing it failed."""
        try:
            finish()
        finally:
            if not self.in_transaction:
                self.leave_gate()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.leave_gate()


def _sqlite_engine(url: str) -> Engine:
    gate = _write_gate(make_url(url).database)
    engine = create_engine(
        url,
        connect_args={
            "check_same_thread": False,
            "timeout": BUSY_TIMEOUT_S,
            "factory": _GatedConnection,
        },
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see `begin` below).
        dbapi_conn.isolation_level = None
        dbapi_conn.gate = gate
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes in WAL mode
        cur.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
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
            # writers take the write lock up front: no deadlock-prone read→write upgrade;
            # in this process they queue for it at the gate (see _write_gate)
            dbapi_conn = conn.connection.dbapi_connection
            if not dbapi_conn.enter_gate():
                raise OperationalError(
                    "BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked")
                )
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                dbapi_conn.leave_gate()
                raise

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
    """Keeps SQLite's WAL durable and bounded from a thread of its own, so the writer that
    acknowledges senders never stalls on either.

    Every `interval` seconds it looks at the WAL's index (the `-shm` file, whose header is part
    of SQLite's documented file format): how many frames it holds and how many are already in
    the database file. Then:
    - new frames since the last look are synced to disk (`fdatasync` of the WAL): with
      `synchronous=NORMAL` commits do not sync, so this bounds what a power loss can take back
      to about one interval, as a checkpoint every interval used to;
    - once `min_frames` frames wait (or any has waited `max_age` seconds), a PASSIVE checkpoint
      copies them into the database file (it never waits for, nor blocks, the writer or
      readers; the driver releases the GIL meanwhile, so it overlaps with ingest).

    Why not checkpoint every interval: once a checkpoint has copied the whole WAL, the next
    commit starts the WAL over and must sync its new header first, a millisecond or more on
    the path of the first alert after a quiet spell. Checkpointing by size keeps that rare.
    When the index cannot be read (an unknown format), it checkpoints every interval.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        interval: float = 0.25,
        min_frames: int = 1_000,
        max_age: float = 300.0,
    ) -> None:
        self.engine = engine
        self.interval = interval
        self.min_frames = min_frames
        self.max_age = max_age
        self.checkpoints = 0
        self.syncs = 0
        path = engine.url.database
        self._wal = Path(f"{path}-wal") if path and path != ":memory:" else None
        self._shm = Path(f"{path}-shm") if self._wal is not None else None
        self._synced_frames = 0
        self._waiting_since: float | None = None  # when frames were first seen waiting
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
        self._waiting_since = None
        return int(row[1]), int(row[2])

    def wal_frames(self) -> tuple[int, int] | None:
        """(frames in the WAL, frames of those already in the database file), from the
        WAL index's header; None when there is no index or it is not a format we know."""
        if self._shm is None:
            return None
        try:
            with self._shm.open("rb") as fh:
                head = fh.read(_SHM_HEAD)
        except OSError:
            return None
        if len(head) < _SHM_HEAD:
            return None
        version, _, _, is_init, _, _, frames = _WAL_INDEX.unpack_from(head, 0)
        if version != _WAL_INDEX_VERSION or not is_init or head[0:48] != head[48:96]:
            return None  # unknown, or caught mid-update: the caller checkpoints
        (backfilled,) = _U32.unpack_from(head, 96)
        return int(frames), int(backfilled)

    def look(self, now: float) -> str:
        """One look at the WAL: what it did ("checkpoint", "sync" or "")."""
        frames = self.wal_frames()
        if frames is None:
            self.checkpoint()
            return "checkpoint"
        total, backfilled = frames
        waiting = total - backfilled
        if waiting <= 0:
            self._synced_frames = total
            self._waiting_since = None
            return ""
        if self._waiting_since is None:
            self._waiting_since = now
        if waiting >= self.min_frames or now - self._waiting_since >= self.max_age:
            self.checkpoint()  # it syncs the WAL first, then the database file
            self._synced_frames = total
            return "checkpoint"
        if total != self._synced_frames and self._wal is not None:
            fd = os.open(self._wal, os.O_RDONLY)
            try:
                os.fdatasync(fd)
            finally:
                os.close(fd)
            self._synced_frames = total
            self.syncs += 1
            return "sync"
        return ""

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.look(time.monotonic())
            except Exception:  # the database is briefly unavailable: next interval
                log.warning("WAL checkpoint failed", exc_info=True)
