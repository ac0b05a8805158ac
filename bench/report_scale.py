"""Quality report at scale: a million tickets, on SQLite and on PostgreSQL.

    .venv/bin/python bench/report_scale.py [--db sqlite|postgresql|both] [--tickets 1000000]
                                           [--days 180] [--keep] [--reuse]

A LOAD GENERATOR: it seeds rows straight into the tables (executemany on SQLite, COPY on
PostgreSQL) — tickets with their quality timestamps, their alerts, the events behind them and
the paging notifications with their hour class — because pushing a million incidents through
the pipeline would take hours and measure the pipeline, not the report. (The demo history and
the scenario tests build history through the real pipeline.) The configuration is applied the
normal way.

Then, in a fresh child process each time (so the peak resident memory is the report's own),
it times the full report computation — the same `build_report` the API serves — over:

1. the whole history (every ticket in the window: the worst case),
2. the default window (the last 30 days),
3. the whole history with `--compare-to previous` (the 180 days before hold no history, so
   this adds the comparison's bootstrap more than queries),

and prints wall time, the child's CPU time (all of the work on SQLite, which runs in it; only
the client's share on PostgreSQL), peak RSS (getrusage of the child), the load average (other
work on the machine slows every figure) and the slowest statements. First bar:
under 10 s and under 1 GiB for (1). The SQLite file (in a temporary directory, or --dir) and
the PostgreSQL database (`wk_bench_report`) are removed on exit unless --keep; --reuse
measures the ones a --keep run left.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_DB = "wk_bench_report"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC).timestamp()
BATCH = 20_000
console = Console()

SERVICES = [f"svc-{i:02d}" for i in range(20)]
TEAMS = ["core", "edge", "data", "money"]
USERS = [
    ("ana", "Europe/Berlin"),
    ("ben", "America/New_York"),
    ("chen", "Asia/Shanghai"),
    ("dara", "Australia/Sydney"),
    ("eli", "America/Los_Angeles"),
    ("fay", "Europe/London"),
    ("gus", "Asia/Tokyo"),
    ("hana", "Pacific/Auckland"),
    ("ivo", "Europe/Madrid"),
    ("jo", "America/Sao_Paulo"),
    ("kai", "Asia/Kolkata"),
    ("lu", "UTC"),
]
CATEGORIES = ["deploy", "config", "capacity", "dependency", "hardware", "network", None]
SEVERITIES = ["critical", "high", "warning", "info"]
RULES = ["HighErrorRate", "LatencyHigh", "DiskFull", "PodCrashLoop", "CertExpiry", "QueueBacklog"]


def config_yaml() -> str:
    lines = ["teams:"]
    lines += [f"  - {{id: {t}, name: {t.title()}}}" for t in TEAMS]
    lines.append("users:")
    for i, (u, tz) in enumerate(USERS):
        lines.append(
            f"  - {{id: {u}, name: {u.title()}, email: {u}@example.com, time_zone: {tz},"
            f" team: {TEAMS[i % 4]}}}"
        )
    lines.append("channels:")
    lines += [
        "  - {id: prometheus, name: Prometheus, kind: automatic}",
        "  - {id: grafana, name: Grafana, kind: automatic}",
        "  - {id: support, name: Support desk, kind: feedback}",
    ]
    lines.append("services:")
    for i, s in enumerate(SERVICES):
        lines.append(f"  - {{id: {s}, name: Service {i}, team: {TEAMS[i % 4]}}}")
    lines.append("integrations:")
    for i, s in enumerate(SERVICES):
        lines.append(
            f"  - {{id: am-{s}, name: AM {s}, type: alertmanager, key: am-key-{i:02d}-0123456789,"
            f" channel: prometheus, service: {s}}}"
        )
    lines.append(
        "  - {id: graf, name: Grafana, type: grafana, key: graf-key-0123456789abcdef,"
        " channel: grafana, service: svc-00}"
    )
    lines.append(
        "  - {id: desk, name: Support desk, type: feedback, key: fb-key-0123456789abcdef,"
        " channel: support, service: svc-00}"
    )
    lines.append("slos:")
    for s in SERVICES[:5]:
        lines.append(
            f"  - {{id: {s}-avail, service: {s}, name: {s} availability, objective: 99.9,"
            " window: 28d, sli: {kind: ratio}}"
        )
    return "\n".join(lines) + "\n"


# --- generation ------------------------------------------------------------------------------


def _lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0.0, sigma))


def rows(n: int, days: float, seed: int = 7) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """(table, row) in time order: each ticket, then its alerts, events and notifications."""
    from watchkeeper.clock import from_epoch
    from watchkeeper.quality.hours import classify

    rng = random.Random(seed)
    start = NOW - days * 86400.0
    step = days * 86400.0 / n
    weights = [1.0 / (i + 1) for i in range(len(SERVICES))]  # a few services fail a lot
    alert_id = event_id = note_id = 0
    for tid in range(1, n + 1):
        detected = start + (tid - 0.5) * step + rng.uniform(-step / 2, step / 2)
        service = rng.choices(SERVICES, weights)[0]
        severity = rng.choices(SEVERITIES, (1, 3, 5, 2))[0]
        roll = rng.random()
        kind = "automatic" if roll < 0.88 else ("feedback" if roll < 0.98 else "manual")
        integration = {"automatic": f"am-{service}", "feedback": "desk", "manual": None}[kind]
        channel = {"automatic": "prometheus", "feedback": "support", "manual": "manual"}[kind]
        impact = detected - _lognormal(rng, 240 if kind == "automatic" else 1500, 1.0)
        acked = detected + _lognormal(rng, 300, 1.2) if rng.random() < 0.95 else None
        ack_by = USERS[rng.randrange(len(USERS))][0] if acked else None
        resolved = detected + _lognormal(rng, 3600, 1.4) if rng.random() < 0.97 else None
        if resolved is not None and acked is not None and resolved < acked:
            resolved = acked + 60
        if resolved is not None and resolved > NOW:
            resolved = None
        mitigated = None if resolved is None else resolved - rng.uniform(0, resolved - detected)
        localized = (
            acked + _lognormal(rng, 900, 1.0) if acked and resolved and rng.random() < 0.7 else None
        )
        false_alarm = resolved is not None and rng.random() < 0.03
        later_auto = detected + 900 if kind == "feedback" and rng.random() < 0.3 else None
        first_auto = detected if kind == "automatic" else later_auto
        status = "resolved" if resolved else ("acknowledged" if acked else "triggered")
        escalations = min(3, int(rng.expovariate(2.0)))
        n_alerts = 0 if kind == "manual" else 1 + int(rng.expovariate(2.0))
        yield (
            "tickets",
            (
                tid, service, f"g{tid}", False, status, f"incident {tid}", severity,
                impact, detected, acked, ack_by, localized, mitigated, resolved, ack_by,
                channel, kind, integration, first_auto,
                CATEGORIES[rng.randrange(len(CATEGORIES))] if resolved else None,
                false_alarm, escalations, 1, "[]", detected, n_alerts, resolved or detected,
            ),
        )  # fmt: skip
        if kind == "feedback" and rng.random() < 0.4:
            # an automatic event seen shortly before (muted): not a miss
            event_id += 1
            yield (
                "events",
                (
                    event_id, detected - 600, f"am-{service}", "prometheus", "automatic",
                    "trigger", "alert", f"pre{tid}", service, None, None, severity, "pre",
                    '{"alertname": "LatencyHigh"}', "muted",
                ),
            )  # fmt: skip
        for k in range(n_alerts):
            alert_id += 1
            first = detected + k * 30.0
            rule = RULES[(tid + k) % len(RULES)]
            yield (
                "alerts",
                (
                    alert_id, integration, f"{rule}/{tid}/{k}", "resolved", integration,
                    channel, kind, service, tid, severity, rule, rule, "{}",
                    json.dumps({"alertname": rule, "service": service}), "{}", "[]", None,
                    2, impact, first, first + 60, resolved or first + 60,
                ),
            )  # fmt: skip
            for action, at in (("trigger", first), ("resolve", resolved or first + 60)):
                event_id += 1
                yield (
                    "events",
                    (
                        event_id, at, integration, channel, kind, action, "alert",
                        f"{rule}/{tid}/{k}", service, alert_id, tid, severity, rule,
                        "{}", "converged",
                    ),
                )  # fmt: skip
        for level in range(1 + (escalations > 0)):
            user, zone = USERS[(tid + level * 5) % len(USERS)]
            sent = detected + 5 + level * 600
            note_id += 1
            yield (
                "notifications",
                (
                    note_id, tid, 1, level, user, f"{user}-sms", "sms", "page", f"d{note_id}",
                    "sent", True, sent, sent, sent, 1, zone, classify(from_epoch(sent), zone),
                ),
            )  # fmt: skip


COLUMNS = {
    "tickets": (
        "id, service_id, group_key, grouping, status, title, severity, impact_start, detected_at,"
        " acknowledged_at, acknowledged_by, localized_at, mitigated_at, resolved_at, resolved_by,"
        " channel_id, channel_kind, integration_id, first_automatic_at, root_cause_category,"
        " false_alarm, escalation_count, round, responders, last_alert_at, alert_count,"
        " updated_at"
    ),
    "alerts": (
        "id, scope, dedup_key, status, integration_id, channel_id, channel_kind, service_id,"
        " ticket_id, severity, summary, title, annotations, labels, details, links, source,"
        " event_count, starts_at, first_event_at, last_event_at, resolved_at"
    ),
    "events": (
        "id, received_at, integration_id, channel_id, channel_kind, action, kind, dedup_key,"
        " service_id, alert_id, ticket_id, severity, summary, labels, decision"
    ),
    "notifications": (
        "id, ticket_id, round, level, user_id, contact_id, contact_type, kind, delivery_id,"
        " status, paging, created_at, due_at, sent_at, attempts, time_zone, hour_class"
    ),
}


class Writer:
    """Buffers rows per table and flushes them in bulk (COPY on PostgreSQL)."""

    def __init__(self, url: str) -> None:
        from watchkeeper.storage.db import open_engine

        self.engine = open_engine(url)
        self.pg = self.engine.dialect.name == "postgresql"
        self.raw = self.engine.raw_connection()
        self.buffers: dict[str, list[tuple[Any, ...]]] = {t: [] for t in COLUMNS}

    def add(self, table: str, row: tuple[Any, ...]) -> None:
        buf = self.buffers[table]
        buf.append(row)
        if len(buf) >= BATCH:
            self.flush(table)

    def flush(self, table: str) -> None:
        buf = self.buffers[table]
        if not buf:
            return
        cur = self.raw.cursor()
        cols = COLUMNS[table]
        if self.pg:
            with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in buf:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(cols.split(",")))
            cur.execute("BEGIN")
            cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", buf)
            cur.execute("COMMIT")
        if self.pg:
            self.raw.commit()
        cur.close()
        buf.clear()

    def close(self) -> None:
        for table in COLUMNS:
            self.flush(table)
        cur = self.raw.cursor()
        if self.pg:
            self.raw.commit()
            for table in COLUMNS:  # bulk loads leave the sequences behind
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" (SELECT COALESCE(MAX(id), 1) FROM {table}))"
                )
            self.raw.commit()
            cur.close()
            driver = self.raw.driver_connection
            driver.autocommit = True  # VACUUM runs outside a transaction
            driver.execute("VACUUM ANALYZE")
        else:
            cur.close()
        self.raw.close()
        self.engine.dispose()


def generate(url: str, n: int, days: float) -> dict[str, int]:
    from watchkeeper.config.apply import apply_config
    from watchkeeper.config.load import load_config
    from watchkeeper.storage import migrate
    from watchkeeper.storage.db import open_engine

    engine = open_engine(url)
    migrate.upgrade(engine)
    with engine.begin() as conn:
        apply_config(conn, load_config(config_yaml(), source="bench"), prune=False, now=NOW)
    engine.dispose()
    writer = Writer(url)
    counts = dict.fromkeys(COLUMNS, 0)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[extra]}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task(f"seeding {url.split('/')[-1]}", total=n, extra="")
        for table, row in rows(n, days):
            writer.add(table, row)
            counts[table] += 1
            if table == "tickets" and counts["tickets"] % 5000 == 0:
                progress.update(
                    task,
                    completed=counts["tickets"],
                    extra=f"alerts {counts['alerts']:,} events {counts['events']:,}"
                    f" pages {counts['notifications']:,}",
                )
        progress.update(task, completed=n, extra="flushing and analysing")
        writer.close()
    return counts


# --- measurement (in a child process) ------------------------------------------------------


def measure(url: str, start: float, end: float, compare: bool) -> dict[str, Any]:
    from sqlalchemy import event

    from watchkeeper.quality.report import build_report
    from watchkeeper.quality.scope import Scope
    from watchkeeper.storage.db import open_engine, reader

    engine = reader(open_engine(url))  # as the API reads: never holding the SQLite write lock
    statements: list[tuple[float, str]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn: Any, _cursor: Any, _stmt: str, *_args: Any) -> None:
        conn.info["t0"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn: Any, _cursor: Any, stmt: str, *_args: Any) -> None:
        statements.append((time.perf_counter() - conn.info["t0"], " ".join(stmt.split())[:110]))

    scope = Scope(start=start, end=end, now=NOW)
    t0 = time.perf_counter()
    with engine.connect() as conn:
        report = build_report(conn, scope, compare_to="previous" if compare else None, pool=engine)
    seconds = time.perf_counter() - t0
    engine.dispose()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak = usage.ru_maxrss * 1024
    statements.sort(reverse=True)
    return {
        "seconds": seconds,
        "cpu": usage.ru_utime + usage.ru_stime,  # this process only (SQLite runs in it)
        "peak_rss": peak,
        "tickets": report["quality"]["counts"]["tickets"],
        "ttr": report["quality"]["ttr"],
        "slowest": statements[:6],
        "statements": len(statements),
    }


def run_child(url: str, start: float, end: float, compare: bool) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--measure", url, str(start), str(end), str(int(compare))]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# --- main --------------------------------------------------------------------------------------


def _pg_admin(sql: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(sql))
    admin.dispose()


def targets(which: str, tmp: Path) -> list[tuple[str, str, Callable[[], None]]]:
    out: list[tuple[str, str, Callable[[], None]]] = []
    if which in ("sqlite", "both"):
        path = tmp / "report.db"

        def remove() -> None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

        out.append(("SQLite", f"sqlite:///{path}", remove))
    if which in ("postgresql", "both"):
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{PG_DB}"
        out.append(("PostgreSQL", url, lambda: _pg_admin(f"DROP DATABASE IF EXISTS {PG_DB}")))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--days", type=float, default=180.0)
    parser.add_argument("--dir", type=Path, default=None, help="where the SQLite file goes")
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    parser.add_argument("--reuse", action="store_true", help="measure existing databases")
    parser.add_argument("--measure", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        url, start, end, compare = args.measure
        print(json.dumps(measure(url, float(start), float(end), compare == "1")))
        return 0

    tmp = args.dir or Path(tempfile.mkdtemp(prefix="wk-report-"))
    tmp.mkdir(parents=True, exist_ok=True)
    results = Table(title=f"quality report over {args.tickets:,} tickets ({args.days:g} days)")
    for col in ("database", "window", "tickets", "wall", "client CPU", "peak RSS", "first bar"):
        results.add_column(col)
    all_ok = True
    for name, url, drop in targets(args.db, tmp):
        try:
            if not args.reuse:
                if name == "PostgreSQL":
                    _pg_admin(f"DROP DATABASE IF EXISTS {PG_DB}")
                    _pg_admin(f"CREATE DATABASE {PG_DB}")
                t0 = time.perf_counter()
                counts = generate(url, args.tickets, args.days)
                console.print(
                    f"{name}: seeded {', '.join(f'{v:,} {k}' for k, v in counts.items())}"
                    f" in {time.perf_counter() - t0:.0f} s"
                )
            history = (NOW - args.days * 86400.0, NOW + 1.0)
            windows = (
                ("all history", *history, False),
                ("last 30 days", NOW - 30 * 86400.0, NOW, False),
                ("all + compare", *history, True),
            )
            for label, start, end, compare in windows:
                r = run_child(url, start, end, compare)
                ok = r["seconds"] < 10.0 and r["peak_rss"] < 2**30
                if label == "all history":
                    all_ok &= ok
                results.add_row(
                    name,
                    label,
                    f"{r['tickets']:,}",
                    f"{r['seconds']:.2f} s",
                    f"{r['cpu']:.2f} s",
                    f"{r['peak_rss'] / 2**20:.0f} MiB",
                    ("yes" if ok else "NO") if label == "all history" else "",
                )
                console.print(f"{name} {label}: {r['seconds']:.2f} s, TTR {r['ttr']}")
                load = Path("/proc/loadavg").read_text().split()[:3]
                console.print(f"    load average after: {' '.join(load)}")
                for t, s in r["slowest"]:
                    console.print(f"    {t:6.2f} s  {s}")
        finally:
            if not args.keep:
                drop()
    console.print(results)
    console.print(f"machine: {Path('/proc/loadavg').read_text().split()[:3]} load average")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
