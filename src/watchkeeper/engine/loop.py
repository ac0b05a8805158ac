"""The engine loop: every tick, each module advances the rows that are due."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence

import psycopg
from sqlalchemy import Connection
from sqlalchemy import Engine as Database
from sqlalchemy.exc import DBAPIError

from watchkeeper.clock import Clock
from watchkeeper.engine.delivery import DeliveryModule
from watchkeeper.engine.escalation import EscalationModule
from watchkeeper.engine.modules import AlertExpiry, Heartbeats, Module, MuteReview, QuietResolve
from watchkeeper.pipeline.escalate import EscalationStage
from watchkeeper.pipeline.flow import Pipeline
from watchkeeper.pipeline.snapshots import SnapshotCache
from watchkeeper.storage import timers as timers_q
from watchkeeper.storage.db import PAGE_NOW, WAKE_CHANNEL, reader

log = logging.getLogger(__name__)


MIN_GAP = 0.05  # seconds between ticks when woken repeatedly (not for paging due at once)
# How old the configuration snapshot may be for a pass that pages at once: the writer that
# opened the ticket looked at it at most this long ago (other processes' changes: see refresh).
SNAPSHOT_AGE = 1.0


def engine_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def default_modules(pipeline: Pipeline, owner: str) -> list[Module]:
    """Paging first: a wake-up after a new ticket reaches the page without first looking at
    every other module; work one module makes for another is picked up by the next tick,
    which follows at once when a tick did anything."""
    modules: list[Module] = []
    # Paging runs where the pipeline has an escalation stage (built by the runtime).
    for listener in pipeline.lifecycle.listeners:
        if isinstance(listener, EscalationStage):
            delivery = DeliveryModule(listener, owner)
            modules += [EscalationModule(pipeline, owner, delivery=delivery), delivery]
    modules += [
        AlertExpiry(pipeline),
        MuteReview(pipeline),
        QuietResolve(pipeline, owner),
        Heartbeats(pipeline, owner),
    ]
    return modules


def _has_due(module: Module, conn: Connection, now: float) -> bool:
    """A module says what it waits for: `timer_kinds` (rows of the timer table) or its own
    `has_due`; a module that says nothing always runs."""
    kinds: tuple[str, ...] | None = getattr(module, "timer_kinds", None)
    if kinds:
        return timers_q.any_due(conn, kinds=kinds, now=now)
    has_due = getattr(module, "has_due", None)
    if has_due is not None:
        return bool(has_due(conn, now))
    return True


class Engine:
    def __init__(
        self,
        db: Database,
        snapshots: SnapshotCache,
        clock: Clock,
        modules: Sequence[Module],
    ) -> None:
        self.db = db
        self.snapshots = snapshots
        self.clock = clock
        self.modules = list(modules)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._urgent = threading.Event()  # ends the gap between ticks: paging is due
        self._thread: threading.Thread | None = None
        self._due_now: list[Callable[[], bool]] = []
        for module in self.modules:
            bind = getattr(module, "bind_wake", None)
            if bind is not None:
                bind(self.wake)
            due_now = getattr(module, "take_due_now", None)
            if due_now is not None:
                self._due_now.append(due_now)

    def tick(self, *, paging_due: bool = False, paging_only: bool = False) -> dict[str, int]:
        """One pass over every module; each in its own transaction. Returns rows handled.

        Which modules have work is asked first in one read-only transaction, so an idle module
        costs no write lock (on SQLite the ingest writer waits for every write lock taken).
        `paging_due`: a commit said paging is due at once, so the paging module runs without
        that look. `paging_only`: run just that pass, once, and leave every other module (and
        any further paging) to the next tick: the senders start the pages meanwhile, without
        this thread's looks competing with them for the interpreter."""
        done: dict[str, int] = {}
        if paging_only:  # no look needed
            for module in self.modules:
                if paging_due and hasattr(module, "take_due_now"):
                    done[module.name] = self._drain(module, None)
            return done
        with reader(self.db).connect() as probe:
            for module in self.modules:
                if paging_due and hasattr(module, "take_due_now"):
                    due = True
                else:
                    due = _has_due(module, probe, self.clock.now().timestamp())
                    probe.rollback()  # the next look sees what this module commits
                if not due:
                    done[module.name] = 0
                    continue
                done[module.name] = self._drain(module, probe)
        return done

    def _drain(self, module: Module, probe: Connection | None) -> int:
        """Run a module until nothing is due: overdue rows fire now, each once, in order.
        Between passes a read-only look decides whether another (write) pass is needed.
        Without a `probe`: one pass (paging at once), on the configuration as the writer last
        saw it."""
        total = 0
        for _ in range(100):
            now = self.clock.now().timestamp()
            with self.db.begin() as conn:
                snap = self.snapshots.refresh(conn, max_age=SNAPSHOT_AGE if probe is None else 0.0)
                n = module.update_all(conn, snap, now)
            # A module that acts outside its transaction (delivery) does so once it committed.
            after_commit = getattr(module, "after_commit", None)
            if after_commit is not None:
                after_commit()
            total += n
            if probe is None or n == 0 or self._stop.is_set():
                break
            due = _has_due(module, probe, self.clock.now().timestamp())
            probe.rollback()
            if not due:
                break
        return total

    def wake(self) -> None:
        """Tick now (a commit changed what is due). Under a storm ticks are spaced MIN_GAP
        apart, unless a module says work due at once was committed (a page to send)."""
        if any([due_now() for due_now in self._due_now]):
            self._urgent.set()
        self._wake.set()

    def start(self, interval: float = 1.0) -> None:
        self._thread = threading.Thread(
            target=self._run, args=(interval,), name="watchkeeper-engine", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        self._urgent.set()
        if self._thread is not None:
            self._thread.join(timeout)
        for module in self.modules:
            close = getattr(module, "close", None)
            if close is not None:
                close()

    def _run(self, interval: float) -> None:
        listener = None
        if self.db.dialect.name == "postgresql":
            # other processes (API servers) NOTIFY when a ticket changed: act at once
            listener = threading.Thread(
                target=self._listen, name="watchkeeper-engine-listen", daemon=True
            )
            listener.start()
        owed = False  # the last tick paged only: the next looks at every module
        while not self._stop.is_set():
            self._wake.clear()  # a wake-up during the tick runs the next one at once
            paging_due = self._urgent.is_set()
            self._urgent.clear()
            paging_only = paging_due and not owed
            owed = paging_only
            started = time.monotonic()
            try:
                done = self.tick(paging_due=paging_due, paging_only=paging_only)
                if paging_only or any(done.values()):
                    self._wake.set()  # one module's work may be another's: look again now
            except DBAPIError as exc:
                log.warning("engine tick failed (database): %s", exc)
            except Exception:
                log.exception("engine tick failed")
            self._wake.wait(interval)
            # under a storm every batch wakes the engine: tick at most every MIN_GAP seconds,
            # but page at once
            rest = MIN_GAP - (time.monotonic() - started)
            if rest > 0:
                self._urgent.wait(rest)

    def _listen(self) -> None:
        """LISTEN for wake-ups from other processes; on any trouble, the tick interval still
        bounds the delay, and the listener reconnects."""
        url = self.db.url.set(drivername="postgresql")
        while not self._stop.is_set():
            try:
                with psycopg.connect(
                    url.render_as_string(hide_password=False), autocommit=True, connect_timeout=5
                ) as conn:
                    conn.execute(f"LISTEN {WAKE_CHANNEL}")
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=1.0, stop_after=1):
                            if note.payload == PAGE_NOW:
                                self._urgent.set()
                            self._wake.set()
            except psycopg.Error as exc:
                log.warning("engine wake-up listener: %s", exc)
                self._stop.wait(1.0)
