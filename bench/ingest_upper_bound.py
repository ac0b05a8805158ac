"""How far could ingest go on this machine in more than one process? An upper bound.

    .venv/bin/python bench/ingest_upper_bound.py [--servers 2] [--duration 8] [--rounds 2]

Runs Alertmanager and `--servers` independent `watchkeeper serve` processes, each on its own
SQLite file, with the configuration and alert stream of `ingest_vs_alertmanager.py`. For one
alert per request and then 100, it drives Alertmanager with wrk (-t2 -c32) and then all the
Watchkeeper servers at once, each with its own wrk taking an equal share of the same threads
and connections, and prints Alertmanager's rate, each server's, their sum, and the sum ÷
Alertmanager.

Nothing shares a writer here, so no ingest design that spreads one database's traffic over
several processes can beat the sum: if it stays below a bar, a multi-process ingest edge
cannot meet that bar on this machine either (wrk, Alertmanager and every server share its
cores). Rounds alternate targets so that background load falls on all of them alike.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ingest_vs_alertmanager import (
    BATCH,
    Procs,
    Result,
    Target,
    check_tools,
    console,
    run_wrk,
    source_version,
    start_alertmanager,
    start_watchkeeper,
)
from rich.table import Table

THREADS = 2
CONNECTIONS = 32
DISTINCT = 10_000
NO_HOOK = "http://127.0.0.1:9/unused"  # no probes: nothing is ever sent there


def drive_all(
    targets: list[Target], *, batch: int, seconds: int, tag: str, ends: datetime
) -> list[Result]:
    """One wrk per target, all at once, sharing THREADS and CONNECTIONS equally (a lone
    target gets them all)."""
    share = len(targets)
    results: list[Result | None] = [None] * share

    def drive(index: int) -> None:
        results[index] = run_wrk(
            targets[index],
            alerts_per_request=batch,
            seconds=seconds,
            threads=max(1, THREADS // share),
            connections=CONNECTIONS // share,
            distinct=DISTINCT,
            tag=tag,
            ends_at=ends,
        )

    threads = [threading.Thread(target=drive, args=(i,)) for i in range(share)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if any(r is None for r in results):
        raise SystemExit("a wrk run failed (see above)")
    return [r for r in results if r is not None]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--servers", type=int, default=2, help="Watchkeeper processes (default 2)")
    p.add_argument("--duration", type=int, default=8, help="seconds per run (default 8)")
    p.add_argument("--rounds", type=int, default=2, help="rounds of every phase (default 2)")
    args = p.parse_args()
    if not 1 <= args.servers <= CONNECTIONS // 2:
        p.error(f"--servers: 1 to {CONNECTIONS // 2}")
    if not 1 <= args.duration <= 120 or not 1 <= args.rounds <= 10:
        p.error("--duration: 1 to 120 seconds; --rounds: 1 to 10")
    check_tools()
    console.print(f"source {source_version()}; {args.servers} Watchkeeper servers on SQLite")
    procs = Procs()
    key = "bench-am-" + secrets.token_hex(16)
    ends = datetime.now(UTC) + timedelta(hours=2)
    table = Table(title="Ingest, alerts/s (2xx): Alertmanager vs independent Watchkeeper servers")
    columns = ("phase", "round", "Alertmanager", "each Watchkeeper", "sum", "sum ÷ AM", "errors")
    for column in columns:
        table.add_column(column, justify="left" if column == "phase" else "right")
    try:
        with tempfile.TemporaryDirectory(prefix="wk-upper-") as tmp:
            work = Path(tmp)
            am = start_alertmanager(procs, work, key, NO_HOOK)
            servers = []
            for i in range(args.servers):
                own = work / f"server-{i}"
                own.mkdir()
                db = f"sqlite:///{own / 'watchkeeper.db'}"
                servers.append(start_watchkeeper(procs, own, key, "sqlite", db, None, NO_HOOK, []))
            for target in (am, *servers):
                run_wrk(
                    target,
                    alerts_per_request=1,
                    seconds=1,
                    threads=1,
                    connections=4,
                    distinct=DISTINCT,
                    tag="warmup",
                    ends_at=ends,
                )
            for round_no in range(1, args.rounds + 1):
                for batch in (1, BATCH):
                    phase = "1 alert/request" if batch == 1 else f"{batch} alerts/request"
                    console.print(f"round {round_no}, {phase}: Alertmanager ...")
                    phase_args: dict[str, Any] = {
                        "batch": batch,
                        "seconds": args.duration,
                        "tag": f"r{round_no}b{batch}",
                        "ends": ends,
                    }
                    [am_result] = drive_all([am], **phase_args)
                    am_rate = am_result.alerts_per_s
                    console.print(f"round {round_no}, {phase}: Watchkeeper x{args.servers} ...")
                    results = drive_all(servers, **phase_args)
                    rates = [r.alerts_per_s for r in results]
                    errors = f"{am_result.errors} / {sum(r.errors for r in results)}"
                    total = sum(rates)
                    table.add_row(
                        phase,
                        str(round_no),
                        f"{am_rate:,.0f}",
                        " + ".join(f"{r:,.0f}" for r in rates),
                        f"{total:,.0f}",
                        f"{total / am_rate:.2f}x" if am_rate else "-",
                        errors,
                    )
    finally:
        procs.stop_all()
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
