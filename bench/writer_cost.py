"""What one alert costs the ingest path in-process, next to the floor of storing its event row.

    .venv/bin/python bench/writer_cost.py [--db sqlite|postgresql|both] [--rounds 150]
                                          [--requests-per-batch 20] [--label-sets 10000]

No HTTP and no load generator: this measures the work of the server's main thread per alert,
without the noise of wrk sharing the machine's cores, so a change to the adapter, the pipeline
or the schema shows up in a minute. It builds the same Alertmanager API v2 stream as
`ingest_vs_alertmanager.py` (100 alerts per request, `--label-sets` label sets in 100 groups,
re-sent once used up, the way Prometheus re-sends every evaluation) and runs three targets,
each on its own fresh database, interleaved batch by batch so that background load falls on
all of them alike:

1. `pipeline`: the Alertmanager adapter's `parse_alerts`, then `Writer.submit_wait` of
   `--requests-per-batch` requests (one group commit, as the writer takes them under load):
   dedup, routing, convergence, repeat counting, the event rows and the commit;
2. `floor`: the same number of event rows, as the pipeline writes them, inserted with the
   writer's own statement (`hot.insert_events`) and committed: what any design that stores
   every event durably with this schema pays;
3. `floor, no key index`: the same without the events' (integration, dedup key) index, the
   one index whose entries land at random places.

The first pass over the label sets (which opens the alerts) is a warm-up; the rest are
re-sends, as most of a real Alertmanager stream is. It prints per alert: CPU time of this
thread (the database works in it on SQLite; on PostgreSQL the server's share is missing) and
wall time, alerts/s (wall), and each target's ratios to the floor.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from ingest_vs_alertmanager import (  # noqa: E402  (a sibling script, not a package)
    PG_SERVER_URL,
    postgres_database,
    watchkeeper_config,
)

from watchkeeper.ingest.adapters import alertmanager  # noqa: E402
from watchkeeper.pipeline.flow import Outcome, event_row  # noqa: E402
from watchkeeper.pipeline.writer import EventItem  # noqa: E402
from watchkeeper.runtime import Runtime, build_runtime  # noqa: E402
from watchkeeper.server import apply_file, tune_interpreter  # noqa: E402
from watchkeeper.settings import Settings  # noqa: E402
from watchkeeper.storage import hot  # noqa: E402

KEY = "bench-writer-cost-key"
GROUPS = 100
PER_REQUEST = 100
KEY_INDEX = "ix_events_integration_dedup"
console = Console() if sys.stdout.isatty() else Console(width=150)


def stream(label_sets: int) -> list[bytes]:
    """One request body per 100 consecutive label sets, as alert_stream.lua formats them."""
    starts = datetime.now(UTC)
    ends = starts + timedelta(hours=6)
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    bodies = []
    for first in range(0, label_sets, PER_REQUEST):
        alerts = [
            f'{{"labels":{{"alertname":"A{i % GROUPS}","service":"svc{i % 20}",'
            f'"instance":"host{i}","phase":"w"}},"annotations":{{"summary":"bench alert {i}"}},'
            f'"startsAt":"{starts.strftime(stamp)}","endsAt":"{ends.strftime(stamp)}"}}'
            for i in range(first, first + PER_REQUEST)
        ]
        bodies.append(("[" + ",".join(alerts) + "]").encode())
    return bodies


@dataclass
class Cost:
    name: str
    alerts: int = 0
    cpu: float = 0.0
    wall: float = 0.0
    parse_cpu: float = 0.0  # the pipeline's share spent in the adapter

    def add(self, alerts: int, cpu: float, wall: float) -> None:
        self.alerts += alerts
        self.cpu += cpu
        self.wall += wall

    def us(self, seconds: float) -> float:
        return seconds / self.alerts * 1e6 if self.alerts else float("nan")


@contextlib.contextmanager
def databases(kind: str, count: int, work: Path) -> Iterator[list[str]]:
    if kind == "sqlite":
        yield [f"sqlite:///{work}/writer-cost-{i}.sqlite" for i in range(count)]
        return
    with contextlib.ExitStack() as stack:
        yield [
            PG_SERVER_URL.format(db=stack.enter_context(postgres_database())) for _ in range(count)
        ]


def runtime(url: str, config: Path, *, key_index: bool) -> Runtime:
    rt = build_runtime(Settings(db_url=url))
    apply_file(rt, config)  # as `watchkeeper serve --config` does
    if not key_index:
        with rt.db.begin() as conn:
            conn.exec_driver_sql(f"DROP INDEX {KEY_INDEX}")
    return rt


def timed(work: Callable[..., Any], *args: Any) -> tuple[float, float, Any]:
    """CPU time of this thread, wall time, and what `work(*args)` returned."""
    cpu, wall = time.thread_time(), time.perf_counter()
    result = work(*args)
    return time.thread_time() - cpu, time.perf_counter() - wall, result


def parse(bodies: list[bytes], integration: Any, now: datetime) -> list[EventItem]:
    items: list[EventItem] = []
    for body in bodies:
        parsed = alertmanager.parse_alerts(body, "application/json", now=now)
        items.extend(EventItem(integration, e) for e in parsed.events)
    return items


def insert_rows(rt: Runtime, rows: list[tuple[Any, ...]]) -> None:
    with rt.db.begin() as conn:
        hot.insert_events(conn, rows)


def event_rows(items: list[EventItem], now: float) -> list[tuple[Any, ...]]:
    """The rows the pipeline writes for these events when each repeats an open alert."""
    return [
        event_row(
            item.integration,
            item.event,
            item.event.dedup_key or "",
            Outcome("deduplicated", item.event.dedup_key or "", None, 1, 1, "bench"),
            now,
        )
        for item in items
    ]


def measure(kind: str, args: argparse.Namespace, work: Path) -> list[Cost]:
    config = watchkeeper_config(work, KEY, kind, "http://127.0.0.1:9/unused", [])
    bodies = stream(args.label_sets)
    per_batch = args.requests_per_batch
    warm_rounds = -(-len(bodies) // per_batch)  # the first pass opens the alerts
    costs = [Cost("pipeline"), Cost("floor"), Cost("floor, no key index")]
    with databases(kind, 3, work) as urls:
        pipeline_rt = runtime(urls[0], config, key_index=True)
        floors = [
            runtime(urls[1], config, key_index=True),
            runtime(urls[2], config, key_index=False),
        ]
        with pipeline_rt.reader.connect() as conn:
            snapshot = pipeline_rt.snapshots.refresh(conn, max_age=0)
        integration = snapshot.integrations_by_key[KEY]
        tune_interpreter()  # as `watchkeeper serve` does before it takes requests
        with Progress(
            TextColumn(f"{kind}: batches"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("rounds", total=warm_rounds + args.rounds)
            for r in range(warm_rounds + args.rounds):
                chosen = [bodies[(r * per_batch + k) % len(bodies)] for k in range(per_batch)]
                now = datetime.now(UTC)
                parse_cpu, parse_wall, items = timed(parse, chosen, integration, now)
                write_cpu, write_wall, _ = timed(pipeline_rt.writer.submit_wait, items)
                rows = event_rows(items, now.timestamp())
                floor_costs = [timed(insert_rows, rt, rows)[:2] for rt in floors]
                if r >= warm_rounds:
                    costs[0].add(len(items), parse_cpu + write_cpu, parse_wall + write_wall)
                    costs[0].parse_cpu += parse_cpu
                    for cost, (cpu, wall) in zip(costs[1:], floor_costs, strict=True):
                        cost.add(len(rows), cpu, wall)
                progress.advance(task)
        for rt in (pipeline_rt, *floors):
            rt.db.dispose()
    return costs


def report(kind: str, costs: list[Cost], args: argparse.Namespace) -> None:
    floor = costs[1]
    table = Table(
        title=f"{kind}: per alert, {args.requests_per_batch * PER_REQUEST} alerts per commit,"
        f" {costs[0].alerts:,} re-sent alerts measured"
    )
    columns = ("target", "CPU µs/alert", "wall µs/alert", "alerts/s (wall)", "÷ floor: CPU", "wall")
    for column in columns:
        table.add_column(column, justify="left" if column == "target" else "right")
    for cost in costs:
        table.add_row(
            cost.name,
            f"{cost.us(cost.cpu):.1f}",
            f"{cost.us(cost.wall):.1f}",
            f"{cost.alerts / cost.wall:,.0f}" if cost.wall else "-",
            f"{cost.cpu / floor.cpu:.2f}x" if floor.cpu else "-",
            f"{cost.wall / floor.wall:.2f}x" if floor.wall else "-",
        )
    console.print(table)
    pipeline = costs[0]
    console.print(
        f"pipeline: adapter {pipeline.us(pipeline.parse_cpu):.1f} µs/alert, writer"
        f" {pipeline.us(pipeline.cpu - pipeline.parse_cpu):.1f} µs/alert (CPU)"
    )
    if kind == "postgresql":
        console.print("(PostgreSQL: CPU is this process's only; the server's work is in wall)")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="sqlite")
    p.add_argument("--rounds", type=int, default=150, help="measured batches (default 150)")
    p.add_argument(
        "--requests-per-batch",
        type=int,
        default=20,
        help="requests of 100 alerts per commit (default 20: the writer's 2,000-row cap)",
    )
    p.add_argument("--label-sets", type=int, default=10_000, help="distinct label sets")
    args = p.parse_args()
    if not 1 <= args.rounds <= 10_000:
        p.error("--rounds: 1 to 10,000")
    if not 1 <= args.requests_per_batch <= 100:
        p.error("--requests-per-batch: 1 to 100")
    if not PER_REQUEST <= args.label_sets <= 1_000_000 or args.label_sets % PER_REQUEST:
        p.error(f"--label-sets: a multiple of {PER_REQUEST} up to 1,000,000")
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    with tempfile.TemporaryDirectory(prefix="wk-writer-cost-") as tmp:
        for kind in kinds:
            report(kind, measure(kind, args, Path(tmp)), args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
