"""Durable acknowledgement (invariant 1) under SIGKILL: every event that got a 2xx is in the
database after a crash, on SQLite and PostgreSQL; and SQLite refuses a second server."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select
from tests.support.processes import (
    ADMIN_TOKEN,
    ServerProcess,
    Servers,
    free_port,
    run_to_exit,
    serving,
    watchkeeper_command,
)

from watchkeeper.storage import tables
from watchkeeper.storage.db import normalize_url

GENERIC = "/integrations/gen-key-0123456789abcdef/generic"
THREADS = 4
PER_THREAD = 750  # 3,000 requests at most
TIME_LIMIT = 20.0  # seconds of streaming at most


def stored_keys(db_url: str, prefix: str) -> tuple[set[str], set[str]]:
    """(dedup keys with an event row, dedup keys with an alert row) of the generic integration."""
    engine = create_engine(normalize_url(db_url))
    try:
        with engine.connect() as conn:
            events = conn.execute(
                select(tables.events.c.dedup_key).where(
                    tables.events.c.integration_id == "gen",
                    tables.events.c.dedup_key.like(f"{prefix}%"),
                )
            ).scalars()
            event_keys = set(events)
            alerts = conn.execute(
                select(tables.alerts.c.dedup_key).where(
                    tables.alerts.c.integration_id == "gen",
                    tables.alerts.c.dedup_key.like(f"{prefix}%"),
                )
            ).scalars()
            return event_keys, set(alerts)
    finally:
        engine.dispose()


@pytest.mark.slow
def test_nothing_acknowledged_is_lost_when_the_server_is_killed(
    db_url: str, servers: Servers, e2e_report: Callable[[str], None]
) -> None:
    server = servers.start(db_url)
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    # The random moment: after this many acknowledgements or this many seconds of streaming,
    # whichever comes first (the rate differs a lot between machines and databases).
    kill_after = rng.randint(200, 2500)
    kill_at = rng.uniform(1.0, 6.0)
    prefix = f"dur-{seed}-"

    lock = threading.Lock()
    acked: list[str] = []  # in the order the acknowledgements arrived
    failed: dict[str, str] = {}  # key -> status or error, for requests without a 2xx
    started = threading.Event()  # the first acknowledgement arrived
    enough = threading.Event()  # the kill threshold is reached
    killed = threading.Event()
    deadline = time.monotonic() + TIME_LIMIT

    def stream(thread: int) -> None:
        with httpx.Client(base_url=server.base_url, timeout=10.0) as client:
            for i in range(PER_THREAD):
                if killed.is_set() or time.monotonic() > deadline:
                    return
                key = f"{prefix}{thread}-{i}"
                body = {
                    "summary": f"durability probe {key}",
                    "dedup": key,
                    "service": "cart",
                    "severity": "warning",
                }
                try:
                    response = client.post(GENERIC, json=body)
                except httpx.TransportError as exc:
                    with lock:
                        failed[key] = type(exc).__name__
                    return  # the server is gone: this request was in flight at the kill
                with lock:
                    if 200 <= response.status_code < 300:
                        acked.append(key)
                        started.set()
                        if len(acked) >= kill_after:
                            enough.set()
                    else:
                        failed[key] = str(response.status_code)

    workers = [threading.Thread(target=stream, args=(t,), daemon=True) for t in range(THREADS)]
    for worker in workers:
        worker.start()
    assert started.wait(timeout=TIME_LIMIT), f"no acknowledgement:\n{server.log_tail()}"
    enough.wait(timeout=kill_at)
    assert any(w.is_alive() for w in workers), "the stream ended before the kill"
    server.kill()  # SIGKILL in the middle of the stream
    killed.set()
    for worker in workers:
        worker.join(timeout=30)
    assert not any(w.is_alive() for w in workers), "client threads did not stop"

    with lock:
        acked_keys = list(acked)
        failures = dict(failed)
    server.start()  # the same database, after the crash
    event_keys, alert_keys = stored_keys(db_url, prefix)
    lost = [k for k in acked_keys if k not in event_keys]
    lost_alerts = [k for k in acked_keys if k not in alert_keys]
    e2e_report(
        f"seed={seed} sent={len(acked_keys) + len(failures)} acknowledged={len(acked_keys)} "
        f"without 2xx={len(failures)} stored={len(event_keys)} "
        f"stored but never acknowledged={len(event_keys - set(acked_keys))} "
        f"lost={len(lost)}"
    )
    assert not lost, f"{len(lost)} acknowledged events are missing, e.g. {lost[:5]}"
    assert not lost_alerts, f"{len(lost_alerts)} acknowledged alerts are missing: {lost_alerts[:5]}"
    assert event_keys <= set(acked_keys) | set(failures)  # nothing we never sent
    answered = {k: v for k, v in failures.items() if v.isdigit()}
    assert not answered, f"a healthy server answered without 2xx: {answered}"
    assert len(failures) <= THREADS, failures  # only the requests in flight at the kill

    # The restarted server answers for the last events acknowledged before the kill.
    with server.client(headers=server.auth) as client:
        for key in acked_keys[-10:]:
            response = client.get("/api/v1/events", params={"dedup_key": key})
            assert response.status_code == 200, response.text
            [event] = response.json()["events"]
            assert event["decision"] == "converged" and event["service"] == "cart"
        # ...and it keeps taking events.
        response = client.post(GENERIC, json={"summary": "after restart", "dedup": prefix + "x"})
        assert response.status_code == 202, response.text


@pytest.mark.slow
def test_a_second_server_on_the_same_sqlite_file_is_refused(
    sqlite_url: str, tmp_path: Path
) -> None:
    with serving(sqlite_url, tmp_path / "first") as first:
        second = run_to_exit(
            [
                *watchkeeper_command(),
                "serve",
                "--db",
                sqlite_url,
                "--port",
                str(free_port()),
                "--log-level",
                "warning",
            ],
            env={"WATCHKEEPER_ADMIN_TOKEN": ADMIN_TOKEN},
            timeout=90,
        )
        output = second.stdout + second.stderr
        assert second.returncode != 0, output
        assert "Database in use" in output, output
        assert "PostgreSQL" in output  # it says what to do instead
        assert first.alive()
        assert_ready(first)


def assert_ready(server: ServerProcess) -> None:
    with server.client() as client:
        response = client.get("/readyz")
    assert response.status_code == 200, response.text
