"""Group commit (invariant 2): one writer thread commits whatever is waiting in one transaction.

Whenever the writer is free it takes everything queued (up to a row cap) and commits it at
once, so batches grow with load and an idle system adds no wait. A submission's future is
completed only after its transaction committed: that is what a 2xx means (invariant 1).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from watchkeeper.clock import Clock
from watchkeeper.domain.event import ChangeEvent, NormalizedEvent
from watchkeeper.errors import Problem, Unavailable
from watchkeeper.pipeline.flow import EventSink, Outcome, Pipeline
from watchkeeper.pipeline.snapshot import Integration
from watchkeeper.pipeline.snapshots import SnapshotCache
from watchkeeper.storage import events as events_q
from watchkeeper.storage import rejections as rejections_q

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EventItem:
    integration: Integration
    event: NormalizedEvent


@dataclass(frozen=True, slots=True)
class ChangeItem:
    integration: Integration
    change: ChangeEvent


@dataclass(frozen=True, slots=True)
class RejectionItem:
    integration_id: str
    status: int
    error: str
    sample: str | None
    remote: str | None


Item = EventItem | ChangeItem | RejectionItem


@dataclass(slots=True)
class _Submission:
    items: list[Item]
    future: Future[list[Outcome | None]] = field(default_factory=Future)


class Writer:
    def __init__(
        self,
        engine: Engine,
        pipeline: Pipeline,
        snapshots: SnapshotCache,
        clock: Clock,
        *,
        max_rows: int = 2000,
    ) -> None:
        self.engine = engine
        self.pipeline = pipeline
        self.snapshots = snapshots
        self.clock = clock
        self.max_rows = max_rows
        self._queue: deque[_Submission] = deque()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.batches = 0
        self.committed_items = 0

    # --- producers ---------------------------------------------------------------------------

    def submit_future(self, items: list[Item]) -> Future[list[Outcome | None]]:
        sub = _Submission(items)
        with self._cond:
            if self._stopping:
                sub.future.set_exception(Unavailable("the server is shutting down"))
                return sub.future
            self._queue.append(sub)
            self._cond.notify()
        return sub.future

    async def submit(self, items: list[Item]) -> list[Outcome | None]:
        """Resolves when the items are committed; raises Unavailable when they cannot be."""
        return await asyncio.wrap_future(self.submit_future(items))

    def submit_wait(self, items: list[Item], timeout: float = 60.0) -> list[Outcome | None]:
        if self._thread is None:  # no writer thread (tests, CLI): commit inline
            return self._commit_batch([_Submission(items)])[0]
        return self.submit_future(items).result(timeout)

    # --- the writer thread ---------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="watchkeeper-writer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout)

    def _take(self) -> list[_Submission]:
        with self._cond:
            while not self._queue and not self._stopping:
                self._cond.wait()
            batch: list[_Submission] = []
            rows = 0
            while self._queue and (not batch or rows + len(self._queue[0].items) <= self.max_rows):
                sub = self._queue.popleft()
                batch.append(sub)
                rows += len(sub.items)
            return batch

    def _run(self) -> None:
        while True:
            batch = self._take()
            if not batch:
                return  # stopping and drained
            try:
                results = self._commit_batch(batch)
            except Exception:  # noqa: BLE001 - every submission must be answered
                results = [self._commit_alone(sub) for sub in batch]
                for sub, result in zip(batch, results, strict=True):
                    if isinstance(result, BaseException):
                        sub.future.set_exception(result)
                    else:
                        sub.future.set_result(result)
                continue
            for sub, outcome in zip(batch, results, strict=True):
                sub.future.set_result(outcome)

    def _commit_alone(self, sub: _Submission) -> list[Outcome | None] | BaseException:
        try:
            return self._commit_batch([sub])[0]
        except (OperationalError, PoolTimeout) as exc:
            log.warning("database unavailable: %s", exc)
            return Unavailable("the database cannot commit right now; retry")
        except DBAPIError as exc:
            if exc.connection_invalidated:
                return Unavailable("the database connection was lost; retry")
            log.exception("submission failed")
            return Problem("the event could not be stored", status=500, title="Internal error")
        except Problem as exc:
            return exc
        except Exception:  # noqa: BLE001
            log.exception("submission failed")
            return Problem("the event could not be stored", status=500, title="Internal error")

    def _commit_batch(self, batch: list[_Submission]) -> list[list[Outcome | None]]:
        now = self.clock.now().timestamp()
        results: list[list[Outcome | None]] = []
        with self.engine.begin() as conn:
            snap = self.snapshots.refresh(conn)
            sink = EventSink()
            for sub in batch:
                results.append([self._one(conn, snap, item, now, sink) for item in sub.items])
            events_q.insert_many(conn, sink.rows)
        self.batches += 1
        self.committed_items += sum(len(s.items) for s in batch)
        return results

    def _one(
        self, conn: Connection, snap: Any, item: Item, now: float, sink: EventSink
    ) -> Outcome | None:
        if isinstance(item, EventItem):
            return self.pipeline.process(conn, snap, item.integration, item.event, now, sink)
        if isinstance(item, ChangeItem):
            self.pipeline.process_change(conn, snap, item.integration, item.change, now)
            return None
        rejections_q.record(
            conn,
            integration_id=item.integration_id,
            status=item.status,
            error=item.error,
            sample=item.sample,
            remote=item.remote,
            now=now,
        )
        return None
