"""The engine loop: every tick, each module advances the rows that are due."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Sequence

from sqlalchemy import Engine as Database
from sqlalchemy.exc import DBAPIError

from watchkeeper.clock import Clock
from watchkeeper.engine.delivery import DeliveryModule
from watchkeeper.engine.escalation import EscalationModule
from watchkeeper.engine.modules import AlertExpiry, Heartbeats, Module, MuteReview, QuietResolve
from watchkeeper.pipeline.escalate import EscalationStage
from watchkeeper.pipeline.flow import Pipeline
from watchkeeper.pipeline.snapshots import SnapshotCache

log = logging.getLogger(__name__)


def engine_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def default_modules(pipeline: Pipeline, owner: str) -> list[Module]:
    modules: list[Module] = [
        AlertExpiry(pipeline),
        MuteReview(pipeline),
        QuietResolve(pipeline, owner),
        Heartbeats(pipeline, owner),
    ]
    # Paging runs where the pipeline has an escalation stage (built by the runtime).
    for listener in pipeline.lifecycle.listeners:
        if isinstance(listener, EscalationStage):
            modules += [EscalationModule(pipeline, owner), DeliveryModule(listener, owner)]
    return modules


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
        self._thread: threading.Thread | None = None

    def tick(self) -> dict[str, int]:
        """One pass over every module; each in its own transaction. Returns rows handled."""
        done: dict[str, int] = {}
        for module in self.modules:
            total = 0
            for _ in range(100):  # drain: overdue rows fire now, each once, in order
                now = self.clock.now().timestamp()
                with self.db.begin() as conn:
                    snap = self.snapshots.refresh(conn)
                    n = module.update_all(conn, snap, now)
                # A module that acts outside its transaction (delivery) does so once it committed.
                after_commit = getattr(module, "after_commit", None)
                if after_commit is not None:
                    after_commit()
                total += n
                if n == 0 or self._stop.is_set():
                    break
            done[module.name] = total
        return done

    def wake(self) -> None:
        self._wake.set()

    def start(self, interval: float = 1.0) -> None:
        self._thread = threading.Thread(
            target=self._run, args=(interval,), name="watchkeeper-engine", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        for module in self.modules:
            close = getattr(module, "close", None)
            if close is not None:
                close()

    def _run(self, interval: float) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except DBAPIError as exc:
                log.warning("engine tick failed (database): %s", exc)
            except Exception:
                log.exception("engine tick failed")
            self._wake.wait(interval)
            self._wake.clear()
