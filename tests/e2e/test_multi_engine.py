"""Several engines on one PostgreSQL notify each (ticket, level, person, contact method) once.

Real processes on the real clock: one `watchkeeper serve --role api` takes the alerts, three
`--role engine` processes escalate and deliver to a loopback webhook receiver that records
every delivery id. Phase 1, no crash: 500 tickets, 3-level policies with 2 s delays; every
expected page arrives exactly once, alone or inside a bundle (the five leaders get ~100 pages
each, so most of theirs are bundled). Phase 2, on other services and people: engines are
killed with SIGKILL at random moments (once all three at the same time) and restarted; nothing
is missed, each level still follows the previous one by its delay, and a delivery id arrives
twice only when its first send was never recorded (in flight when its engine died).
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, select, text
from tests.support.processes import ServerProcess, Servers, wait_for
from tests.support.receivers import HttpReceiver

from watchkeeper.storage import tables
from watchkeeper.storage.db import normalize_url

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(330)]

KEY = "gen-key-0123456789abcdef"
DELAY = 2.0
LEASE = "4"  # seconds before another engine retries a send its engine never recorded
PHASE1_SERVICES, PHASE1_TICKETS = 167, 500
PHASE2_SERVICES, PHASE2_TICKETS = 100, 200
LEADERS = 5


def build_config(hook: str) -> str:
    users: list[str] = []
    policies: list[str] = []
    services: list[str] = []

    def user(name: str) -> None:
        users.append(
            f"  - {{id: {name}, name: {name}, email: {name}@example.test, time_zone: UTC,"
            f' contacts: [{{id: {name}-hook, type: webhook, url: "{hook}/u/{name}"}}]}}'
        )

    for phase, count in (("a", PHASE1_SERVICES), ("b", PHASE2_SERVICES)):
        for k in range(LEADERS):
            user(f"{phase}-lead{k}")
        for s in range(count):
            first, second, lead = f"{phase}{s}-l1", f"{phase}{s}-l2", f"{phase}-lead{s % LEADERS}"
            user(first)
            user(second)
            policies.append(
                f"  - {{id: p-{phase}{s}, name: p, levels: ["
                f'{{role: first-line, targets: ["user:{first}"], delay: {DELAY:.0f}s}}, '
                f'{{role: second-line, targets: ["user:{second}"], delay: {DELAY:.0f}s}}, '
                f'{{role: leader, targets: ["user:{lead}"], delay: {DELAY:.0f}s}}]}}'
            )
            services.append(
                f"  - {{id: s-{phase}{s}, name: s, team: ops, escalation_policy: p-{phase}{s}}}"
            )
    return "\n".join(
        [
            "teams: [{id: ops, name: Ops}]",
            "channels: [{id: scripts, name: Scripts, kind: automatic}]",
            f"integrations: [{{id: gen, name: gen, type: generic, key: {KEY}, channel: scripts,"
            ' service: s-a0, group_by: "{source}"}]',
            "outbound: {allow: ['127.0.0.0/8']}",
            "users:",
            *users,
            "escalation_policies:",
            *policies,
            "services:",
            *services,
            "",
        ]
    )


def expected_people(service: str) -> list[str]:
    phase, s = service[2], int(service[3:])
    return [f"{phase}{s}-l1", f"{phase}{s}-l2", f"{phase}-lead{s % LEADERS}"]


class Arrivals:
    """What the receiver got, as (ticket id, person) pairs and delivery ids."""

    def __init__(self, receiver: HttpReceiver) -> None:
        self.receiver = receiver

    def read(self) -> tuple[Counter[tuple[int, str]], Counter[str], int]:
        pairs: Counter[tuple[int, str]] = Counter()
        ids: Counter[str] = Counter()
        bundles = 0
        for request in list(self.receiver.requests):
            body = request.json()
            person = request.path.rsplit("/", 1)[1]
            ids[body["delivery_id"]] += 1
            bundles += bool(body["bundle"])
            if ids[body["delivery_id"]] == 1:
                for ticket in body["tickets"]:
                    pairs[(int(ticket["id"]), person)] += 1
        return pairs, ids, bundles


def ingest(api: ServerProcess, services: list[str], prefix: str) -> None:
    def one(item: tuple[int, str]) -> None:
        index, service = item
        body = {
            "summary": f"{prefix} {index} failing",
            "dedup": f"{prefix}-{index}",
            "source": f"{prefix}-{index}",
            "service": service,
        }
        for _ in range(5):
            response = client.post(f"/integrations/{KEY}/generic", json=body)
            if response.status_code == 202:
                return
            time.sleep(0.2)
        raise AssertionError(f"ingest failed: {response.status_code} {response.text}")

    with api.client(timeout=30.0) as client, ThreadPoolExecutor(16) as pool:
        list(pool.map(one, enumerate(services)))


def ticket_services(db: Engine) -> dict[int, str]:
    with db.connect() as conn:
        rows = conn.execute(select(tables.tickets.c.id, tables.tickets.c.service_id)).all()
    return {int(r.id): str(r.service_id) for r in rows}


def expected_pairs(tickets: dict[int, str], phase: str) -> set[tuple[int, str]]:
    return {
        (ticket, person)
        for ticket, service in tickets.items()
        if service.startswith(f"s-{phase}")
        for person in expected_people(service)
    }


def progress(db: Engine) -> dict[str, int]:
    """Notifications by kind and by kind and status, and timers by kind: for failure texts."""
    n, t = tables.notifications.c, tables.timers.c
    out: Counter[str] = Counter()
    with db.connect() as conn:
        for kind, status in conn.execute(select(n.kind, n.status)):
            out[kind] += 1
            out[f"{kind} {status}"] += 1
        for (kind,) in conn.execute(select(t.kind)):
            out[f"timer {kind}"] += 1
        sessions = conn.execute(
            text(
                "SELECT state, coalesce(wait_event, '-'), left(query, 60) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).all()
    for state, wait, query in sessions:
        if state != "idle":
            out[f"db {state} {wait}: {query}"] += 1
    return dict(out)


def first_bundle_due(db: Engine) -> float:
    n = tables.notifications.c
    with db.connect() as conn:
        due = conn.execute(
            select(func.min(n.due_at)).where(n.kind == "bundle", n.status == "pending")
        ).scalar()
    return float(due) if due is not None else float("inf")


def spread(phase: str, services: int, tickets: int) -> list[str]:
    return [f"s-{phase}{i % services}" for i in range(tickets)]


def test_three_engines_notify_each_step_once_and_survive_sigkill(
    pg_url: str, tmp_path: Path, e2e_report: Callable[[str], None]
) -> None:
    receiver = HttpReceiver()
    config = tmp_path / "multi.yaml"
    config.write_text(build_config(receiver.url("")))
    servers = Servers(tmp_path / "servers")
    db = create_engine(normalize_url(pg_url))
    env = {"WATCHKEEPER_DELIVERY_LEASE": LEASE}
    try:
        api = servers.new(pg_url, role="api", config=config).start()
        engines = [servers.new(pg_url, role="engine", config=None, env=env) for _ in range(3)]
        for engine in engines:
            engine.spawn()
        arrivals = Arrivals(receiver)

        # --- phase 1: no crash ------------------------------------------------------------
        started = time.monotonic()
        ingest(api, spread("a", PHASE1_SERVICES, PHASE1_TICKETS), "a")
        tickets = ticket_services(db)
        assert len(tickets) == PHASE1_TICKETS
        want1 = expected_pairs(tickets, "a")

        def phase1_done() -> bool:
            missing = want1 - set(arrivals.read()[0])
            if missing:
                raise AssertionError(f"{len(missing)} pages missing: {progress(db)}")
            return True

        # Pages and each person's first messages come within seconds; the leaders' bundles
        # when their 60-second window ends: phase 2 runs meanwhile, on other people.
        def singles_done() -> bool:
            state = progress(db)
            if state.get("page", 0) < 3 * PHASE1_TICKETS or state.get("page pending"):
                raise AssertionError(f"not yet: {state}")
            return True

        wait_for(singles_done, timeout=90, interval=0.3, what="phase 1 pages sent or bundled")
        singles_at = time.monotonic() - started

        # --- phase 2: SIGKILL at random moments, on other people ----------------------------
        # No crash may touch phase 1's bundles: the kills end before the first is due, or, on
        # a slow machine, phase 1 finishes first.
        window = min(16.0, first_bundle_due(db) - time.time() - 5)
        if window < 6:
            wait_for(phase1_done, timeout=90, interval=0.5, what="phase 1 delivered")
            window = 16.0
        rng = random.Random(20260307)
        kills: list[float] = []
        feeding = threading.Thread(
            target=ingest, args=(api, spread("b", PHASE2_SERVICES, PHASE2_TICKETS), "b")
        )
        feeding.start()
        # Kills and restarts from this thread: a child started by a thread that then exits
        # is killed with it (the servers die with their parent: PR_SET_PDEATHSIG).
        deadline = time.monotonic() + window
        everyone_at = time.monotonic() + window / 2
        while time.monotonic() < deadline:
            time.sleep(rng.uniform(0.3, 1.5))
            if time.monotonic() >= everyone_at:
                everyone_at = float("inf")  # once: every engine down together
                for engine in engines:
                    engine.kill()
                    kills.append(time.monotonic())
                time.sleep(3.0)  # overdue steps pile up meanwhile
                for engine in engines:
                    engine.spawn()
                continue
            victim = rng.choice(engines)
            victim.kill()
            kills.append(time.monotonic())
            time.sleep(rng.uniform(0.2, 1.5))
            victim.spawn()
        feeding.join(60)
        assert not feeding.is_alive(), "phase 2 ingest did not finish"
        assert all(engine.alive() for engine in engines)
        tickets = ticket_services(db)
        want2 = expected_pairs(tickets, "b")

        wait_for(phase1_done, timeout=90, interval=0.5, what="phase 1: every page delivered")

        def phase2_done() -> bool:
            missing = want2 - set(arrivals.read()[0])
            if missing:
                raise AssertionError(f"{len(missing)} pages missing: {progress(db)}")
            return True

        wait_for(phase2_done, timeout=120, interval=0.5, what="phase 2: every page delivered")
        time.sleep(2 * DELAY + 1)  # anything extra would show up now
        pairs, ids, bundles = arrivals.read()

        # Phase 1: exactly once, alone or in a bundle; no delivery id twice.
        phase1 = {p: n for p, n in pairs.items() if p in want1}
        assert set(phase1) == want1 and set(phase1.values()) == {1}
        assert not (set(pairs) - want1 - want2), "a page nobody should have got"
        with db.connect() as conn:
            n = tables.notifications.c
            rows = conn.execute(
                select(
                    n.ticket_id,
                    n.round,
                    n.level,
                    n.user_id,
                    n.kind,
                    n.delivery_id,
                    n.created_at,
                    n.status,
                    n.id,
                )
            ).all()
            recorded = Counter(
                r.notification_id
                for r in conn.execute(
                    select(tables.deliveries.c.notification_id).where(tables.deliveries.c.ok)
                )
            )
        by_id = {r.delivery_id: r for r in rows}
        phase1_ids = {r.delivery_id for r in rows if tickets[r.ticket_id].startswith("s-a")}
        assert all(ids[d] <= 1 for d in phase1_ids)
        assert sum(1 for r in rows if r.kind == "page") == 3 * (PHASE1_TICKETS + PHASE2_TICKETS)

        # Phase 2: nothing missed; each level after the previous, at least the delay later.
        assert want2 <= set(pairs)
        steps: dict[int, list[tuple[int, float]]] = defaultdict(list)
        for r in rows:
            if r.kind == "page":
                steps[r.ticket_id].append((r.level, r.created_at))
        for ticket, levels in steps.items():
            levels.sort()
            assert [lv for lv, _ in levels] == [0, 1, 2], f"ticket {ticket}: {levels}"
            gaps = [b - a for (_, a), (_, b) in pairwise(levels)]
            assert min(gaps) >= DELAY - 0.01, f"ticket {ticket} escalated early: {gaps}"

        # A repeat only where the first send was never recorded: in flight when killed.
        repeats = {d: c for d, c in ids.items() if c > 1}
        for delivery_id, count in repeats.items():
            row = by_id[delivery_id]
            assert recorded[row.id] < count, f"{delivery_id} sent {count}x, recorded each time"
        unique = len(ids)
        extra = sum(c - 1 for c in repeats.values())
        e2e_report(
            f"multi-engine: phase 1 {PHASE1_TICKETS} tickets, {len(want1)} pages, exactly once"
            f" (first messages within {singles_at:.1f}s); phase 2 {PHASE2_TICKETS} tickets under"
            f" {len(kills)} SIGKILLs: {len(want2)} pages, none missed; {unique} delivery ids"
            f" ({bundles} bundles), {extra} repeats = repeat rate {extra / unique:.2%}"
        )
    finally:
        servers.stop_all()
        receiver.close()
        db.dispose()


def test_config_is_valid() -> None:
    """The generated configuration loads (a fast check of the big test's input)."""
    from watchkeeper.config.load import load_config

    config = load_config(build_config("http://127.0.0.1:9"), source="multi")
    assert len(config.services) == PHASE1_SERVICES + PHASE2_SERVICES
    assert len(config.users) == 2 * (PHASE1_SERVICES + PHASE2_SERVICES) + 2 * LEADERS
