"""Wires one process: database, configuration snapshots, pipeline, writer and engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine

from watchkeeper.clock import Clock, SystemClock
from watchkeeper.pipeline.build import build_pipeline
from watchkeeper.pipeline.escalate import EscalationStage, response_options
from watchkeeper.pipeline.flow import Pipeline
from watchkeeper.pipeline.snapshots import SnapshotCache
from watchkeeper.pipeline.ticket import Lifecycle
from watchkeeper.pipeline.writer import Writer
from watchkeeper.settings import Settings
from watchkeeper.storage import migrate
from watchkeeper.storage.db import is_sqlite, open_engine, reader


@dataclass
class Runtime:
    settings: Settings
    clock: Clock
    db: Engine
    snapshots: SnapshotCache
    pipeline: Pipeline
    writer: Writer
    ingest_counts: dict[str, int] = field(default_factory=dict)
    wake_hooks: list[Callable[[], None]] = field(default_factory=list)

    def nudge(self) -> None:
        """Something changed that the engine acts on (a ticket opened, acknowledged...): wake
        this process's engine now instead of at its next tick."""
        for hook in self.wake_hooks:
            hook()

    @property
    def reader(self) -> Engine:
        """Use for reads: on SQLite it never takes (or waits for) the write lock."""
        return reader(self.db)

    @property
    def lifecycle(self) -> Lifecycle:
        return self.pipeline.lifecycle

    def now(self) -> float:
        return self.clock.now().timestamp()


def build_runtime(
    settings: Settings, *, clock: Clock | None = None, migrate_db: bool = True
) -> Runtime:
    clock = clock or SystemClock()
    db = open_engine(settings.db_url, pg_prepare=settings.pg_prepare)
    if migrate_db:
        migrate.upgrade(db)
    snapshots = SnapshotCache(db, clock)
    escalation = EscalationStage(
        snapshot=lambda: snapshots.current, clock=clock, options=response_options(settings)
    )
    pipeline = build_pipeline([escalation])
    writer = Writer(
        db, pipeline, snapshots, clock, max_rows=settings.batch_max_rows, off_loop=not is_sqlite(db)
    )
    rt = Runtime(
        settings=settings,
        clock=clock,
        db=db,
        snapshots=snapshots,
        pipeline=pipeline,
        writer=writer,
    )
    writer.after_commit = rt.nudge
    return rt
