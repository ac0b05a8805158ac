"""A new ticket pages at once, not at the engine's next tick: the writer wakes the engine in
its own process, and PostgreSQL NOTIFY wakes engines running in other processes."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import drop_pg_database, fresh_pg_database
from tests.support.processes import ServerProcess
from tests.support.receivers import HttpReceiver

from watchkeeper.clock import SystemClock
from watchkeeper.engine.loop import Engine
from watchkeeper.pipeline.snapshots import SnapshotCache
from watchkeeper.storage.db import notify_engines, open_engine

TICK = "120"  # the engine's idle tick: far longer than the test waits for a page

CONFIG = """
teams: [{{id: ops, name: Ops, members: [ana]}}]
users:
  - id: ana
    name: Ana
    email: ana@example.com
    time_zone: UTC
    contacts: [{{id: ana-hook, type: webhook, url: "{url}"}}]
    notification_rules: [{{contact: ana-hook, after: 0s}}]
escalation_policies:
  - id: ops
    name: Ops
    levels: [{{role: first-line, targets: ["user:ana"], delay: 5m}}]
services: [{{id: web, name: Web, team: ops, escalation_policy: ops}}]
channels: [{{id: mon, name: Monitoring, kind: automatic}}]
integrations:
  - id: gen
    name: Scripts
    type: generic
    key: gen-key-0123456789abcdef
    channel: mon
    service: web
outbound: {{allow: ["127.0.0.0/8"]}}
"""


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    r = HttpReceiver()
    yield r
    r.close()


def _post_alert(server: ServerProcess, summary: str, dedup: str) -> None:
    response = httpx.post(
        f"{server.base_url}/integrations/gen-key-0123456789abcdef/generic",
        json={"summary": summary, "dedup": dedup},
        timeout=10,
    )
    assert response.status_code == 202, response.text


def _page_arrives(server: ServerProcess, receiver: HttpReceiver) -> float:
    started = time.monotonic()
    _post_alert(server, "web is down", "down")
    deadline = started + 20
    while time.monotonic() < deadline:
        if receiver.to("/ana"):
            return time.monotonic() - started
        time.sleep(0.02)
    raise AssertionError("no page within 20 s although the engine was told at once")


def _sqlite_server(tmp_path: Path, receiver: HttpReceiver) -> ServerProcess:
    """One process (API and engine) on SQLite, whose engine ticks only every 120 s."""
    config = tmp_path / "wake.yaml"
    config.write_text(CONFIG.format(url=receiver.url("/ana")))
    return ServerProcess(
        db_url=f"sqlite:///{tmp_path / 'wk.db'}",
        workdir=tmp_path,
        config=config,
        env={"WATCHKEEPER_ENGINE_TICK_SECONDS": TICK},
    ).start()


def test_sqlite_one_process_pages_without_waiting_for_a_tick(
    tmp_path: Path, receiver: HttpReceiver
) -> None:
    server = _sqlite_server(tmp_path, receiver)
    try:
        assert _page_arrives(server, receiver) < 20
    finally:
        server.kill()


def test_a_new_alert_on_an_acknowledged_ticket_tells_its_responder_without_waiting_for_a_tick(
    tmp_path: Path, receiver: HttpReceiver
) -> None:
    server = _sqlite_server(tmp_path, receiver)
    try:
        _page_arrives(server, receiver)
        tickets = httpx.get(f"{server.base_url}/api/v1/tickets", headers=server.auth, timeout=10)
        (ticket,) = tickets.json()["tickets"]
        acked = httpx.post(
            f"{server.base_url}/api/v1/tickets/{ticket['id']}/acknowledge",
            headers=server.auth,
            timeout=10,
        )
        assert acked.status_code == 200, acked.text
        # an alert joining an acknowledged ticket wakes the engine: its responder is told
        started = time.monotonic()
        _post_alert(server, "web is slow too", "slow")
        while time.monotonic() < started + 20 and len(receiver.to("/ana")) < 2:
            time.sleep(0.02)
        pages = receiver.to("/ana")
        assert len(pages) == 2, "the responder was not told of the new alert within 20 s"
        assert b"web is slow too" in pages[1].body
    finally:
        server.kill()


def test_postgresql_engine_in_another_process_is_woken_by_notify(
    tmp_path: Path, receiver: HttpReceiver, pg_template: str
) -> None:
    name, url = fresh_pg_database(pg_template)
    config = tmp_path / "wake.yaml"
    config.write_text(CONFIG.format(url=receiver.url("/ana")))
    env = {"WATCHKEEPER_ENGINE_TICK_SECONDS": TICK}
    api = ServerProcess(db_url=url, workdir=tmp_path / "api", config=config, role="api", env=env)
    engine = ServerProcess(
        db_url=url, workdir=tmp_path / "engine", config=None, role="engine", env=env
    )
    try:
        api.start()
        engine.spawn()
        time.sleep(2)  # the engine's first tick and its LISTEN (no readiness endpoint)
        assert _page_arrives(api, receiver) < 20
    finally:
        api.kill()
        engine.kill()
        drop_pg_database(name)


class _RecordingEngine(Engine):
    """An engine without modules that records how each tick was asked for."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.ticks: list[bool] = []

    def tick(self, *, paging_due: bool = False, paging_only: bool = False) -> dict[str, int]:
        self.ticks.append(paging_due)
        return {}


def _wait_for(predicate: Callable[[], bool], nudge: Callable[[], None]) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        nudge()  # again until heard: the listener connects in its own thread
        stop = time.monotonic() + 0.2
        while time.monotonic() < stop:
            if predicate():
                return True
            time.sleep(0.01)
    return False


def test_postgresql_engines_hear_that_a_page_is_due_at_once(pg_template: str) -> None:
    name, url = fresh_pg_database(pg_template)
    db = open_engine(url)
    clock = SystemClock()
    engine = _RecordingEngine(db, SnapshotCache(db, clock), clock, [])
    try:
        engine.start(float(TICK))

        def notify(page_now: bool) -> Callable[[], None]:
            def send() -> None:
                with db.begin() as conn:
                    notify_engines(conn, page_now=page_now)

            return send

        heard = len(engine.ticks)
        assert _wait_for(lambda: len(engine.ticks) > heard, notify(False))
        assert not any(engine.ticks)  # a plain wake-up: a tick, paging not said to be due
        assert _wait_for(lambda: any(engine.ticks), notify(True))
    finally:
        engine.stop()
        db.dispose()
        drop_pg_database(name)


class _Module:
    """A module that records when it ran; `paging` ones say paging is due at once."""

    def __init__(self, name: str, runs: list[str], *, paging: bool = False) -> None:
        self.name = name
        self.runs = runs
        self.urgent = False
        if paging:
            self.take_due_now = self._take_due_now

    def _take_due_now(self) -> bool:
        urgent, self.urgent = self.urgent, False
        return urgent

    def has_due(self, _conn: Any, _now: float) -> bool:
        return True

    def update_all(self, _conn: Any, _snap: Any, _now: float) -> int:
        self.runs.append(self.name)
        return 0


def test_a_page_due_at_once_goes_first_and_the_rest_follows_in_the_next_tick(
    db_url: str,
) -> None:
    """The tick that pages at once runs only the paging module (once: its senders start
    meanwhile); every other module runs in the tick after, a moment later, not at the next
    idle tick."""
    db = open_engine(db_url)
    clock = SystemClock()
    runs: list[str] = []
    paging, other = _Module("paging", runs, paging=True), _Module("other", runs)
    engine = Engine(db, SnapshotCache(db, clock), clock, [paging, other])
    try:
        assert engine.tick(paging_due=True, paging_only=True) == {"paging": 0}
        assert runs == ["paging"]
        runs.clear()
        engine.start(float(TICK))
        deadline = time.monotonic() + 10
        while runs != ["paging", "other"] and time.monotonic() < deadline:
            time.sleep(0.01)  # the first tick after start looks at every module
        runs.clear()
        paging.urgent = True
        engine.wake()
        while len(runs) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert runs[:3] == ["paging", "paging", "other"]
    finally:
        engine.stop()
        db.dispose()
