"""An alert storm against a real server: 10,000 alerts over 1,000 dedup keys and 20 services,
from several concurrent clients, end in exactly 20 open tickets (SQLite and PostgreSQL)."""

from __future__ import annotations

import queue
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, func, select
from tests.support.processes import Servers

from watchkeeper.storage import tables
from watchkeeper.storage.db import normalize_url

SERVICES = [f"svc-{n:02d}" for n in range(20)]
KEYS = 1_000
REPEATS = 10  # events per key: 10,000 in all
AM_KEYS = 800  # keys 0..799 arrive in Alertmanager webhook groups of 100; the rest as generic
GROUP = 100
THREADS = 6
GENERIC_KEY = "storm-generic-0123456789"
AM_KEY = "storm-am-0123456789abcdef"
TIME_LIMIT = 150.0


def storm_config() -> str:
    services = "\n".join(f"  - {{id: {s}, name: Service {s}, team: sre}}" for s in SERVICES)
    return f"""\
teams:
  - {{id: sre, name: SRE}}
channels:
  - {{id: monitoring, name: Monitoring, kind: automatic}}
services:
{services}
integrations:
  - {{id: am, name: Alertmanager, type: alertmanager, key: {AM_KEY}, channel: monitoring, \
service: {SERVICES[0]}}}
  - {{id: gen, name: Scripts, type: generic, key: {GENERIC_KEY}, channel: monitoring, \
service: {SERVICES[0]}}}
"""


def service_of(key: int) -> str:
    return SERVICES[key % len(SERVICES)]


def severity_of(key: int, repeat: int) -> str:
    return ("warning", "critical", "high", "warning")[(key + repeat) % 4]


def am_group(keys: list[int], repeat: int) -> dict[str, Any]:
    alerts = [
        {
            "status": "firing",
            "labels": {
                "alertname": f"Storm{k:04d}",
                "service": service_of(k),
                "severity": severity_of(k, repeat),
            },
            "annotations": {"summary": f"storm alert {k}"},
            "startsAt": "2026-03-02T08:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example.com/graph",
            "fingerprint": f"storm-{k:04d}",
        }
        for k in keys
    ]
    return {
        "version": "4",
        "status": "firing",
        "receiver": "watchkeeper",
        "groupKey": f'{{}}:{{cluster="storm-{keys[0] // GROUP}"}}',
        "truncatedAlerts": 0,
        "groupLabels": {"cluster": f"storm-{keys[0] // GROUP}"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example.com",
        "alerts": alerts,
    }


def generic_body(key: int, repeat: int) -> dict[str, Any]:
    return {
        "summary": f"storm alert {key}",
        "dedup": f"storm-{key:04d}",
        "service": service_of(key),
        "severity": severity_of(key, repeat),
        "labels": {"repeat": repeat},
    }


def work_items(rng: random.Random) -> list[tuple[str, dict[str, Any], int]]:
    """(path, body, alerts in it): every key REPEATS times, shuffled across clients."""
    items: list[tuple[str, dict[str, Any], int]] = []
    for repeat in range(REPEATS):
        for start in range(0, AM_KEYS, GROUP):
            keys = list(range(start, start + GROUP))
            items.append(
                (f"/integrations/{AM_KEY}/alertmanager", am_group(keys, repeat), len(keys))
            )
        for key in range(AM_KEYS, KEYS):
            items.append((f"/integrations/{GENERIC_KEY}/generic", generic_body(key, repeat), 1))
    rng.shuffle(items)
    return items


@pytest.mark.slow
def test_ten_thousand_alerts_end_in_twenty_tickets(
    db_url: str, servers: Servers, tmp_path: Path, e2e_report: Callable[[str], None]
) -> None:
    config = tmp_path / "storm.yaml"
    config.write_text(storm_config())
    server = servers.start(db_url, config=config)
    seed = random.randrange(1_000_000)
    items = work_items(random.Random(seed))
    assert sum(n for _, _, n in items) == KEYS * REPEATS

    todo: queue.Queue[tuple[str, dict[str, Any], int]] = queue.Queue()
    for item in items:
        todo.put(item)
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + TIME_LIMIT

    def client() -> None:
        with httpx.Client(base_url=server.base_url, timeout=60.0) as http:
            while time.monotonic() < deadline:
                try:
                    path, body, _ = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    response = http.post(path, json=body)
                    ok = response.status_code == 202
                    problem = f"{path}: {response.status_code} {response.text[:300]}"
                except httpx.HTTPError as exc:
                    ok, problem = False, f"{path}: {exc!r}"
                if not ok:
                    with lock:
                        errors.append(problem)
                    return

    began = time.monotonic()
    threads = [threading.Thread(target=client, daemon=True) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIME_LIMIT + 30)
    elapsed = time.monotonic() - began
    assert not any(t.is_alive() for t in threads), "clients did not finish"
    assert not errors, errors[:5]
    assert todo.empty(), f"{todo.qsize()} requests not sent within {TIME_LIMIT}s"

    # What a user sees: 20 open tickets, one per service, holding 50 alerts each.
    response = server.api("GET", "/api/v1/tickets", params={"status": "open", "limit": 1000})
    assert response.status_code == 200, response.text
    tickets = response.json()["tickets"]
    assert len(tickets) == len(SERVICES)
    assert sorted(t["service"] for t in tickets) == SERVICES
    assert {t["alert_count"] for t in tickets} == {KEYS // len(SERVICES)}
    assert {t["status"] for t in tickets} == {"triggered"}
    assert {t["severity"] for t in tickets} == {"critical"}  # the highest of their alerts

    engine = create_engine(normalize_url(db_url))
    try:
        with engine.connect() as conn:

            def count(table: Any, *where: Any) -> int:
                stmt = select(func.count()).select_from(table).where(*where)
                return int(conn.execute(stmt).scalar_one())

            n_tickets = count(tables.tickets)
            n_alerts = count(tables.alerts)
            n_firing = count(tables.alerts, tables.alerts.c.status == "firing")
            n_events = count(tables.events)
            decisions = dict(
                conn.execute(
                    select(tables.events.c.decision, func.count()).group_by(
                        tables.events.c.decision
                    )
                ).all()
            )
    finally:
        engine.dispose()
    e2e_report(
        f"seed={seed} {len(items)} requests, {KEYS * REPEATS} alerts in {elapsed:.1f}s "
        f"({KEYS * REPEATS / elapsed:.0f} alerts/s): tickets={n_tickets} alerts={n_alerts} "
        f"events={n_events} decisions={decisions}"
    )
    assert n_tickets == len(SERVICES)
    assert n_alerts == KEYS and n_firing == KEYS
    assert n_events == KEYS * REPEATS
    assert decisions == {"converged": KEYS, "deduplicated": KEYS * (REPEATS - 1)}
