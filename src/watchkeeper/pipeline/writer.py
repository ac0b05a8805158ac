"""Group commit (invariant 2): the writer commits whatever is waiting in one transaction.

The writer is a task on the server's event loop. Whenever it is free it takes everything
queued (up to a row cap) and commits it at once: requests that arrive during a commit form the
next batch, so batches grow with load and an idle system adds no wait. On SQLite the commit
runs on the loop, blocking it meanwhile (the work is CPU in this process, and no thread
hand-off sits on the hot path); on PostgreSQL it runs in one thread of the writer's own, since
most of a batch is waiting for the server and the loop keeps answering meanwhile (ADR 0002).
A submission's future is completed only after its transaction committed: that is what a 2xx
means (invariant 1).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from watchkeeper.clock import Clock
from watchkeeper.domain.event import ChangeEvent, NormalizedEvent
from watchkeeper.errors import Problem, Unavailable
from watchkeeper.pipeline.dedup import dedup_key
from watchkeeper.pipeline.flow import EventSink, Outcome, Pipeline
from watchkeeper.pipeline.snapshot import Integration
from watchkeeper.pipeline.snapshots import SnapshotCache
from watchkeeper.storage import hot
from watchkeeper.storage import rejections as rejections_q
from watchkeeper.storage.db import notify_engines

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


Result = list[Outcome | None]
# decisions that give the engine work whatever the batch did (a new alert converging wakes it
# only when it opened a ticket or joined an acknowledged one: see EventSink.wake)
WAKES_ENGINE = frozenset({"unmuted", "acknowledged", "resolved"})


@dataclass(slots=True)
class _Submission:
    items: list[Item]
    waiter: asyncio.Future[Result] | None = None  # None: nobody waits (rejection counts)


class Writer:
    def __init__(
        self,
        engine: Engine,
        pipeline: Pipeline,
        snapshots: SnapshotCache,
        clock: Clock,
        *,
        max_rows: int = 2000,
        off_loop: bool = False,
    ) -> None:
        self.engine = engine
        self.pipeline = pipeline
        self.snapshots = snapshots
        self.clock = clock
        self.max_rows = max_rows
        self.off_loop = off_loop  # commit in a thread of its own (PostgreSQL: see _commit)
        self._thread: ThreadPoolExecutor | None = None
        self._queue: deque[_Submission] = deque()
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.batches = 0
        self.committed_items = 0
        self.after_commit: Callable[[], None] | None = None  # wakes the engine

    # --- producers ---------------------------------------------------------------------------

    async def submit(self, items: list[Item]) -> Result:
        """Resolves when the items are committed; raises Unavailable when they cannot be."""
        if self._wake is None:  # no writer task (tests, tools): commit inline
            return self.submit_wait(items)
        if self._stopping:
            raise Unavailable("the server is shutting down")
        waiter: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._queue.append(_Submission(items, waiter))
        self._wake.set()
        return await waiter

    def submit_nowait(self, items: list[Item]) -> None:
        """Queue items nobody waits for (rejection counts); inline without a writer task."""
        if self._wake is None:
            self.submit_wait(items)
            return
        if not self._stopping:
            self._queue.append(_Submission(items))
            self._wake.set()

    def submit_wait(self, items: list[Item]) -> Result:
        """Commit now, in the caller's thread (engine modules, tools, tests)."""
        result = self._commit_or_isolate([_Submission(items)])[0]
        if isinstance(result, BaseException):
            raise result
        return result

    # --- the writer task ---------------------------------------------------------------------

    def start(self) -> None:
        """Start the writer task on the running event loop (the server's lifespan)."""
        self._wake = asyncio.Event()
        self._stopping = False
        if self.off_loop:
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="writer")
        self._task = asyncio.get_running_loop().create_task(self._run(), name="writer")

    async def stop(self) -> None:
        self._stopping = True
        if self._wake is not None:
            self._wake.set()
        if self._task is not None:
            await self._task
        if self._thread is not None:
            self._thread.shutdown(wait=True)
        self._wake = None
        self._task = None
        self._thread = None

    def _take(self) -> list[_Submission]:
        batch: list[_Submission] = []
        rows = 0
        while self._queue and (not batch or rows + len(self._queue[0].items) <= self.max_rows):
            sub = self._queue.popleft()
            batch.append(sub)
            rows += len(sub.items)
        return batch

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            if not self._queue:
                if self._stopping:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            batch = self._take()
            results = await self._commit(batch)
            for sub, result in zip(batch, results, strict=True):
                if sub.waiter is None or sub.waiter.done():
                    continue  # nobody waits, or the client went away
                if isinstance(result, BaseException):
                    sub.waiter.set_exception(result)
                else:
                    sub.waiter.set_result(result)
            # let the loop read the requests that arrived meanwhile: they form the next batch
            await asyncio.sleep(0)

    async def _commit(self, batch: list[_Submission]) -> list[Result | BaseException]:
        """On the loop (SQLite: its work is CPU in this process), or in the writer's thread
        (PostgreSQL: most of a batch is waiting for the server, and the loop reads the next
        requests meanwhile). One batch at a time either way."""
        if self._thread is None:
            return self._commit_or_isolate(batch)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._commit_or_isolate, batch)

    def _commit_or_isolate(self, batch: list[_Submission]) -> list[Result | BaseException]:
        try:
            return list(self._commit_batch(batch))
        except Exception:
            # one bad submission must not fail its neighbours: commit each on its own
            return [self._commit_alone(sub) for sub in batch]

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
        except Exception:
            log.exception("submission failed")
            return Problem("the event could not be stored", status=500, title="Internal error")

    def _commit_batch(self, batch: list[_Submission]) -> list[list[Outcome | None]]:
        now = self.clock.now().timestamp()
        results: list[list[Outcome | None]] = []
        with self.engine.begin() as conn:
            snap = self.snapshots.refresh(conn, max_age=1.0)
            keyed = [
                [
                    (item, dedup_key(item.event, item.integration))
                    if isinstance(item, EventItem)
                    else (item, "")
                    for item in sub.items
                ]
                for sub in batch
            ]
            wanted = {
                (item.integration.id, key)
                for sub in keyed
                for item, key in sub
                if isinstance(item, EventItem)
            }
            found = hot.open_alerts(conn, wanted)
            sink = EventSink(open=found, absent=wanted - found.keys())
            for sub in keyed:
                results.append([self._one(conn, snap, item, key, now, sink) for item, key in sub])
            sink.flush(conn, self.pipeline.lifecycle, now)
            # the engine has something to do only when a ticket opened or changed; a repeat of
            # an open alert, or one more alert on a triggered ticket, changes nothing it acts on
            acted = sink.wake or any(
                o is not None and o.ticket_id is not None and o.decision in WAKES_ENGINE
                for result in results
                for o in result
            )
            if acted:
                notify_engines(conn, page_now=sink.wake)
        self.batches += 1
        self.committed_items += sum(len(s.items) for s in batch)
        if acted and self.after_commit is not None:
            self.after_commit()
        return results

    def _one(
        self, conn: Connection, snap: Any, item: Item, key: str, now: float, sink: EventSink
    ) -> Outcome | None:
        if isinstance(item, EventItem):
            return self.pipeline.process_keyed(
                conn, snap, item.integration, item.event, key, now, sink
            )
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
