"""`watchkeeper demo`'s history: days of the shop's incidents, produced by the pipeline.

Nothing here writes a finished number into a table. The clock is set back to the first
day; each incident's requests, in their senders' wire formats, go through the ingest
adapters, the writer and the pipeline; people acknowledge, set root causes, resolve and
review through the ticket lifecycle's functions; the engine fires every timer when it falls
due. The quality report then reads what the pipeline recorded.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import event, func, select

from watchkeeper.clock import FakeClock
from watchkeeper.config.apply import apply_config
from watchkeeper.demo.config import demo_config
from watchkeeper.demo.incidents import Cast
from watchkeeper.demo.local_ingest import LocalIngest
from watchkeeper.demo.plan import plan
from watchkeeper.demo.responders import Responders
from watchkeeper.demo.simulation import Desk, Simulation
from watchkeeper.runtime import Runtime, build_runtime
from watchkeeper.server import build_engine
from watchkeeper.settings import Settings
from watchkeeper.storage import tables

SEED = 20260302  # the same story on every run


class NotEmpty(Exception):
    """The demo only fills an empty database."""


@dataclass(frozen=True)
class HistoryResult:
    start: datetime
    end: datetime
    incidents: int
    requests: int
    events: int
    tickets: int
    engine_ticks: int
    seconds: float


def _fast_commits(rt: Runtime) -> None:
    """History is generated, not received: on PostgreSQL its commits need not wait for the
    disk (a crash mid-way loses a demo database, nothing else)."""
    if rt.db.dialect.name != "postgresql":
        return

    @event.listens_for(rt.db, "connect")
    def _no_sync(dbapi_conn: Any, _record: Any) -> None:
        with dbapi_conn.cursor() as cur:
            cur.execute("SET synchronous_commit TO off")
        dbapi_conn.commit()

    rt.db.dispose()  # pooled connections were opened before the setting


def count_tickets(rt: Runtime) -> int:
    with rt.db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(tables.tickets)).scalar_one())


def generate_history(
    *,
    db_url: str,
    doc: dict[str, Any],
    start: datetime,
    end: datetime,
    console: Console,
    seed: int = SEED,
) -> HistoryResult:
    """Apply the demo configuration at `start` and live through to `end`."""
    began = time.perf_counter()
    clock = FakeClock(start)
    rt = build_runtime(Settings(db_url=db_url), clock=clock)
    _fast_commits(rt)
    try:
        if (existing := count_tickets(rt)) > 0:
            raise NotEmpty(f"the database already holds {existing} tickets")
        _, config = demo_config(doc)
        with rt.db.begin() as conn:
            apply_config(conn, config, prune=False, now=rt.now())
        rt.snapshots.invalidate()
        sim = Simulation(rt, build_engine(rt), clock)
        ingest = LocalIngest(rt)
        cast = Cast(
            sim=sim,
            ingest=ingest,
            desk=Desk(rt),
            people=Responders(doc),
            rng=random.Random(seed),
            keys={i["id"]: i["key"] for i in doc["integrations"]},
            start=start,
            end=end,
        )
        plan(cast)
        _run(sim, ingest, start, end, console)
        return HistoryResult(
            start=start,
            end=end,
            incidents=cast.counts["incidents"],
            requests=ingest.requests,
            events=ingest.events,
            tickets=count_tickets(rt),
            engine_ticks=sim.ticks,
            seconds=time.perf_counter() - began,
        )
    finally:
        rt.db.dispose()


def _run(
    sim: Simulation, ingest: LocalIngest, start: datetime, end: datetime, console: Console
) -> None:
    days = max(1, round((end - start).total_seconds() / 86400))
    progress = Progress(
        TextColumn("[bold cyan]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("days"),
        TextColumn("[green]{task.fields[requests]}[/green] requests"),
        TextColumn("[yellow]{task.fields[tickets]}[/yellow] tickets"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    with progress:
        task = progress.add_task(
            "Living through the shop's history", total=days, requests=0, tickets=0
        )
        last = [0.0]

        def report(now: datetime) -> None:
            mono = time.monotonic()
            if mono - last[0] < 0.1 and now < end:
                return
            last[0] = mono
            done = min(days, (now - start).total_seconds() / 86400)
            progress.update(
                task, completed=done, requests=ingest.requests, tickets=len(ingest.tickets)
            )

        sim.run(end, report)
        progress.update(task, completed=days, requests=ingest.requests, tickets=len(ingest.tickets))
