"""`watchkeeper demo`: an online shop's on-call, from an empty database to a live incident.

1. Apply the shop's configuration and live through its last 90 days on a clock set back
   (demo/history.py), so the quality numbers tell a story from the first run.
2. Start the real server and engine on http://127.0.0.1:8080, with a receiver standing in
   for everyone's pager, and replay a live incident over HTTP (demo/simulator.py).
3. Print what happened and where to look; save the quality report when asked to; keep
   serving until Ctrl-C (unless --once).
"""

from __future__ import annotations

import os
import secrets
import signal
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console

from watchkeeper.clock import SystemClock
from watchkeeper.demo import summary
from watchkeeper.demo.config import demo_document
from watchkeeper.demo.history import HistoryResult, NotEmpty, generate_history
from watchkeeper.demo.receiver import PageReceiver
from watchkeeper.demo.report_file import save_report
from watchkeeper.demo.server import DemoServer, PortInUse, ReplayClock
from watchkeeper.demo.simulator import LiveReplay
from watchkeeper.demo.stage import LiveResult
from watchkeeper.errors import Problem
from watchkeeper.settings import from_env
from watchkeeper.storage.db import ProcessLock, is_sqlite, open_engine

DEMO_DB = Path("var") / "demo.db"
LAG = timedelta(minutes=40)  # the live incident starts this long before now, then catches up
REPORT_DIR_ENV = "WATCHKEEPER_DEMO_REPORT_DIR"  # `make demo` saves the report into docs/


class DemoError(Exception):
    """Something the person running the demo can fix (a busy port, a database in use)."""


@dataclass(frozen=True)
class DemoResult:
    db_url: str
    history: HistoryResult | None
    live: LiveResult | None = None
    funnel: summary.Funnel | None = None
    report: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Plan:
    """When things happen: the history's span, and where the live incident starts."""

    history_start: datetime
    history_end: datetime
    live_start: datetime

    @classmethod
    def make(cls, *, days: int, history_only: bool) -> Plan:
        wall = SystemClock().now().replace(microsecond=0)
        live = wall if history_only else wall - LAG
        end = live if history_only else live - timedelta(minutes=10)
        return cls(end - timedelta(days=days), end, live)


def run_demo(**options: Any) -> DemoResult:
    """The command's entry: `demo(**options)`, with a problem the person can fix printed
    plainly instead of a traceback."""
    console = options.get("console") or Console()
    try:
        return demo(**{**options, "console": console})
    except DemoError as exc:
        console.print(f"[red]watchkeeper demo: {exc}[/red]")
        raise SystemExit(1) from None


def demo(
    *,
    db_url: str | None = None,
    port: int = 8080,
    keep_running: bool = True,
    history_only: bool = False,
    days: int = 90,
    report_dir: Path | None = None,
    console: Console | None = None,
) -> DemoResult:
    """The demo on `db_url` (default: a fresh ./var/demo.db), with `days` of history.

    `history_only` fills the database and returns; otherwise the server runs on `port` for
    the live incident, and then until Ctrl-C when `keep_running`. The quality report and its
    screenshot are saved into `report_dir` (or $WATCHKEEPER_DEMO_REPORT_DIR) when one is set.
    """
    console = console or Console()
    if report_dir is None and os.environ.get(REPORT_DIR_ENV):
        report_dir = Path(os.environ[REPORT_DIR_ENV])
    if db_url is None:
        DEMO_DB.parent.mkdir(parents=True, exist_ok=True)
    url = db_url or f"sqlite:///{DEMO_DB.resolve()}"
    lock = ProcessLock(url) if is_sqlite(url) else None
    try:
        if lock is not None:
            lock.acquire()
    except Problem as exc:
        raise DemoError(exc.detail) from None
    receiver = PageReceiver().start()
    try:
        if db_url is None:
            url = fresh_sqlite(DEMO_DB)
        plan = Plan.make(days=days, history_only=history_only)
        doc = demo_document(
            receiver_url=receiver.url,
            history_start=plan.history_start,
            live_start=plan.live_start,
        )
        history = _history(url, doc, plan, days, console, receiver)
        if history_only:
            _print_filled(console, url, plan)
            return DemoResult(url, history)
        live = Live(url, port, doc, plan, console, receiver)
        return live.run(history, keep_running=keep_running, report_dir=report_dir)
    except NotEmpty as exc:
        raise DemoError(f"{exc}: the demo fills an empty database (or omit --db)") from None
    except PortInUse as exc:
        raise DemoError(str(exc)) from None
    finally:
        receiver.stop()
        if lock is not None:
            lock.release()


def fresh_sqlite(path: Path) -> str:
    """A new, empty demo database file (and its WAL companions)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path.resolve()}"


def _history(
    url: str,
    doc: dict[str, Any],
    plan: Plan,
    days: int,
    console: Console,
    receiver: PageReceiver,
) -> HistoryResult | None:
    console.rule("[bold]Watchkeeper demo: an online shop on call")
    console.print(
        f"12 services, 4 teams, 8 people; everyone's pager is a webhook to {receiver.url}.\n"
        f"First, {days} days of history, made by the same pipeline with the clock set back."
    )
    if days <= 0:
        return None
    history = generate_history(
        db_url=url, doc=doc, start=plan.history_start, end=plan.history_end, console=console
    )
    console.print(
        f"{history.requests} sender requests, {history.events} events,"
        f" {summary.plural(history.tickets, 'ticket')} and"
        f" {summary.plural(receiver.count('history'), 'page')} in {history.seconds:.1f} s"
        f" ({history.engine_ticks} engine ticks)."
    )
    return history


def _print_filled(console: Console, url: str, plan: Plan) -> None:
    db = open_engine(url)
    try:
        summary.print_history(
            console, db, plan.history_start.timestamp(), plan.history_end.timestamp()
        )
    finally:
        db.dispose()
    console.print(f"\nFilled {url}\nServe it with: watchkeeper serve --db '{url}'")


class Live:
    """The server on the demo database, the live incident against it, and what follows."""

    def __init__(
        self,
        url: str,
        port: int,
        doc: dict[str, Any],
        plan: Plan,
        console: Console,
        receiver: PageReceiver,
    ) -> None:
        self.url = url
        self.plan = plan
        self.console = console
        self.receiver = receiver
        self.token = os.environ.get("WATCHKEEPER_ADMIN_TOKEN") or secrets.token_urlsafe(18)
        settings = from_env(
            db_url=url,
            host="127.0.0.1",
            port=port,
            admin_token=self.token,
            secret_key=os.environ.get("WATCHKEEPER_SECRET_KEY") or self.token,
            engine_tick_seconds=0.5,
        )
        self.clock = ReplayClock(SystemClock().now() - plan.live_start)
        self.server = DemoServer(settings, self.clock)
        self.doc = doc

    def run(
        self, history: HistoryResult | None, *, keep_running: bool, report_dir: Path | None
    ) -> DemoResult:
        self.server.start()
        self.receiver.phase = "live"
        replay = LiveReplay(
            server=self.server,
            clock=self.clock,
            receiver=self.receiver,
            doc=self.doc,
            console=self.console,
            admin_token=self.token,
            pace=0.25 if keep_running else 0.0,
        )
        try:
            self.console.print()
            self.console.rule(f"[bold]Live: an incident replayed over HTTP on {self.server.url}")
            live = replay.run()
            flow = self._summary(live, history)
            saved: list[Path] = []
            if report_dir is not None:
                saved = save_report(
                    url=self.server.url,
                    token=self.token,
                    since=self.plan.history_start.date(),
                    out_dir=report_dir,
                    console=self.console,
                )
            if keep_running:
                self.console.print(
                    f"\n[bold]Watchkeeper keeps running at {self.server.url}[/bold]"
                    " — Ctrl-C stops it."
                )
                _wait_for_interrupt()
            return DemoResult(self.url, history, live, flow, tuple(saved))
        finally:
            replay.close()
            self.server.stop()

    def _summary(self, live: LiveResult, history: HistoryResult | None) -> summary.Funnel:
        db, since = self.server.rt.db, self.plan.live_start.timestamp()
        flow = summary.print_live(self.console, db, live, since)
        if history is not None:
            summary.print_history(self.console, db, self.plan.history_start.timestamp(), since)
        summary.print_where_to_look(
            self.console,
            url=self.server.url,
            token=self.token,
            db_url=self.url,
            since=self.plan.history_start.date().isoformat(),
        )
        return flow


def _wait_for_interrupt() -> None:
    """Until Ctrl-C (or SIGTERM): then the caller stops the server in order."""
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
