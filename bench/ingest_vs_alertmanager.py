"""Ingest and paging: Watchkeeper against the real Prometheus Alertmanager, same machine, same
alert stream.

    .venv/bin/python bench/ingest_vs_alertmanager.py [--db sqlite|postgresql|both]
                                                     [--duration 10] [--probes 30] [--quick]

Starts Alertmanager (Debian's prometheus-alertmanager: its own temporary storage, clustering
off, a null receiver for the load and a webhook receiver for latency probes) and `watchkeeper
serve` (a temporary SQLite file and/or a fresh PostgreSQL database that this script creates and
drops), all on 127.0.0.1 and free ports, then posts the same Alertmanager API v2 alert arrays to
`/api/v2/alerts` of each:

1. maximum rate with wrk (same threads, connections and duration for every target): one alert
   per request, then 100 alerts per request; alerts/s counts 2xx responses only;
2. a fixed 2,000 requests/s with hey (-c 10 -q 200, one alert per request; hey sends one body,
   so this phase re-sends one label set; it prints latencies in 0.1 ms steps, and it waits for
   each response, so a server that cannot keep up is offered less than 2,000 requests/s);
3. alert to first notification: probes, each a new alert with its own alertname (so a new
   Alertmanager group and a new Watchkeeper ticket, of a service whose policy pages a person
   paged by no other probe, so nothing is bundled), 0.25 s apart; the time from just before
   the POST to the arrival of the notification at a loopback HTTP receiver in this process:
   Watchkeeper's first page (a webhook contact), Alertmanager's webhook minus its group_wait
   (1 s on the probes' route). Idle (nothing else running), then under load: Watchkeeper
   while wrk, paced to half of its single-alert maximum rate from phase 1, posts the phase-1
   stream; Alertmanager while wrk posts it as fast as it can (its own saturating load). The
   load starts 2 s before the first probe and runs 2 s past the last. Watchkeeper's stages
   (writer batch, escalation step, delivery claim, send) are read from its database after.

and prints both, the ratio Watchkeeper / Alertmanager, whether the first bars hold, every error
and non-2xx response, and how many events Watchkeeper stored (its 2xx is a commit; an
Alertmanager 2xx only means the alert is in memory).

Phases run interleaved (phase 1 on every target, then phase 2, ...) so that background load on
the machine falls on all targets alike. Every load is bounded in time; every process this
script starts is stopped on exit, Ctrl-C or error.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
LUA = HERE / "alert_stream.lua"
VENV_BIN = Path(sys.executable).parent
ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{db}"

HOST = "127.0.0.1"
GROUPS = 100  # alertname A0..A99; both sides group by it
BATCH = 100
FIXED_RPS = 2000
HEY_WORKERS = 10  # -c 10 -q 200: 2,000 requests/s in all
BAR_RATE = 0.5  # Watchkeeper's maximum rate >= 0.5 x Alertmanager's
BAR_P99 = 2.0  # Watchkeeper's p99 at the fixed rate <= 2 x Alertmanager's
AM_GROUP_WAIT_S = 1.0  # Alertmanager's group_wait for probes, subtracted from its latency
PROBES = 30  # alert-to-notification probes per target and phase (--quick: 10)
PROBE_SPACING_S = 0.25  # between probes' alerts (a schedule, not a wait for the page)
PROBE_WAIT_S = 15.0  # how long a notification may take after the last probe
LOAD_LEAD_S = 2.0  # background load before the first probe
LOAD_TAIL_S = 2.0  # and after the last
LOAD_SHARE = 0.5  # Watchkeeper's background load: this share of its single-alert maximum
BAR_IDLE = 3.0  # Watchkeeper's median idle <= 3 x Alertmanager's
BAR_LOAD = 1.0  # Watchkeeper's median under load <= 1 x Alertmanager's

# Piped output keeps the whole table readable instead of wrapping it at 80 columns.
console = Console() if sys.stdout.isatty() else Console(width=150)


# --- processes ---------------------------------------------------------------------------


class Procs:
    """The long-running processes this script started; each is stopped by its own id."""

    def __init__(self) -> None:
        self.running: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, argv: list[str], log: Path, env: dict[str, str]) -> Any:
        with log.open("wb") as out:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # Ctrl-C reaches only us; we stop it ourselves
            )
        self.running.append((name, proc))
        return proc

    def stop(self, proc: subprocess.Popen[bytes], grace: float = 15.0) -> None:
        if proc.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        self.running = [(n, p) for n, p in self.running if p is not proc]

    def stop_all(self) -> None:
        for _, proc in reversed(list(self.running)):
            self.stop(proc)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def http(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    data: bytes | None = None,
    timeout: float = 5.0,
) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_until(
    what: str, proc: subprocess.Popen[bytes], log: Path, check: Callable[[], bool]
) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode}:\n{tail(log)}")
        with suppress(OSError):
            if check():
                return
        time.sleep(0.2)
    raise SystemExit(f"{what} not ready after 60 s:\n{tail(log)}")


def tail(log: Path, lines: int = 25) -> str:
    with suppress(OSError):
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    return "(no log)"


# --- targets -----------------------------------------------------------------------------


@dataclass
class Target:
    name: str  # column title
    url: str
    key: str  # sent as `Authorization: Bearer` to every target (Alertmanager ignores it)
    proc: Any
    log: Path
    db: str | None = None  # "sqlite" | "postgresql" for Watchkeeper
    db_url: str | None = None
    pg_name: str | None = None
    admin_token: str | None = None
    acked_alerts: int = 0  # alerts in 2xx responses, all phases and the warm-up
    requests_2xx: int = 0
    after: dict[str, Any] = field(default_factory=dict)  # what the target holds at the end

    @property
    def is_watchkeeper(self) -> bool:
        return self.db is not None


def start_alertmanager(procs: Procs, work: Path, key: str, hook: str) -> Target:
    marker = f"bench-null-{secrets.token_hex(4)}"  # proves the answering server is ours
    config = work / "alertmanager.yml"
    # The load goes to a null receiver, grouped by alertname. Latency probes (label
    # bench_probe="yes", one alertname each, so each is a new group) go to a webhook on our
    # loopback receiver after group_wait.
    config.write_text(
        yaml.safe_dump(
            {
                "route": {
                    "receiver": marker,
                    "group_by": ["alertname"],
                    "routes": [
                        {
                            "receiver": "bench-probe-hook",
                            "matchers": ['bench_probe="yes"'],
                            "group_by": ["alertname"],
                            "group_wait": f"{AM_GROUP_WAIT_S:g}s",
                            "group_interval": "1h",
                            "repeat_interval": "4h",
                        }
                    ],
                },
                "receivers": [
                    {"name": marker},
                    {
                        "name": "bench-probe-hook",
                        "webhook_configs": [{"url": hook, "send_resolved": False}],
                    },
                ],
            },
            sort_keys=False,
        )
    )
    storage = work / "alertmanager-data"
    storage.mkdir()
    port = free_port()
    log = work / "alertmanager.log"
    proc = procs.start(
        "alertmanager",
        [
            ALERTMANAGER,
            f"--config.file={config}",
            f"--storage.path={storage}",
            f"--web.listen-address={HOST}:{port}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ],
        log,
        {"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
    )
    url = f"http://{HOST}:{port}"

    def ready() -> bool:
        if http("GET", f"{url}/-/ready")[0] != 200:
            return False
        status, body = http("GET", f"{url}/api/v2/status")
        return status == 200 and marker.encode() in body

    wait_until("Alertmanager", proc, log, ready)
    return Target("Alertmanager", url, key, proc, log)


def watchkeeper_config(work: Path, key: str, db: str, hook: str, probes: list[str]) -> Path:
    """The load goes to service `bench` (no escalation policy: it pages nobody), grouped by
    alertname. Each latency probe has its own service (chosen by the alert's `service` label),
    policy and person, whose webhook is `<hook>/<probe>`: every probe opens a new ticket and
    pages someone not paged before, so no probe is bundled with another (a person paged more
    than 3 times in 60 s on one contact method gets a bundle)."""
    config: dict[str, Any] = {
        "teams": [{"id": "bench", "name": "Bench"}],
        "channels": [{"id": "prometheus", "name": "Prometheus", "kind": "automatic"}],
        "users": [],
        "escalation_policies": [],
        "services": [
            {
                "id": "bench",
                "name": "Bench service",
                "team": "bench",
                "group_by": "{labels.alertname}",  # ~100 groups, as Alertmanager's group_by
            }
        ],
        "integrations": [
            {
                "id": "am",
                "name": "Alertmanager",
                "type": "alertmanager",
                "key": key,
                "channel": "prometheus",
                "service": "bench",
            }
        ],
        "outbound": {"allow": ["127.0.0.0/8"]},
    }
    for probe in probes:
        ident = f"probe-{probe}"
        config["users"].append(
            {
                "id": ident,
                "name": f"Probe {probe}",
                "email": f"{ident}@example.com",
                "time_zone": "UTC",
                "contacts": [{"id": "hook", "type": "webhook", "url": f"{hook}/{probe}"}],
                "notification_rules": [{"contact": "hook", "after": "0s"}],
            }
        )
        config["escalation_policies"].append(
            {
                "id": ident,
                "name": f"Probe {probe}",
                "levels": [{"role": "first-line", "targets": [f"user:{ident}"], "delay": "1h"}],
            }
        )
        config["services"].append(
            {
                "id": ident,
                "name": f"Probe {probe}",
                "team": "bench",
                "escalation_policy": ident,
                "group_by": "{labels.alertname}",
            }
        )
    path = work / f"watchkeeper-{db}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def start_watchkeeper(
    procs: Procs,
    work: Path,
    key: str,
    db: str,
    db_url: str,
    pg_name: str | None,
    hook: str,
    probes: list[str],
) -> Target:
    port = free_port()
    token = "bench-admin-" + secrets.token_hex(16)
    log = work / f"watchkeeper-{db}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHKEEPER_")}
    env["WATCHKEEPER_ADMIN_TOKEN"] = token
    proc = procs.start(
        f"watchkeeper-{db}",
        [
            str(VENV_BIN / "watchkeeper"),
            "serve",
            "--db",
            db_url,
            "--config",
            str(watchkeeper_config(work, key, db, hook, probes)),
            "--host",
            HOST,
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        log,
        env,
    )
    url = f"http://{HOST}:{port}"
    auth = {"Authorization": f"Bearer {token}"}

    def ready() -> bool:
        if http("GET", f"{url}/readyz")[0] != 200:
            return False
        # Our admin token is random: a 200 here proves the server is ours, not a neighbour's.
        status, body = http("GET", f"{url}/api/v1/integrations", headers=auth)
        return status == 200 and b'"am"' in body

    wait_until(f"Watchkeeper ({db})", proc, log, ready)
    return Target(
        f"Watchkeeper {db}",
        url,
        key,
        proc,
        log,
        db=db,
        db_url=db_url,
        pg_name=pg_name,
        admin_token=token,
    )


@contextmanager
def postgres_database() -> Iterator[str]:
    import psycopg

    name = f"wk_bench_{secrets.token_hex(6)}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise SystemExit(
            f"PostgreSQL at 127.0.0.1:5432 is not reachable ({exc}); use --db sqlite"
        ) from None
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield name
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_settings() -> dict[str, str]:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, connect_timeout=5) as conn:
        return {
            name: str(conn.execute(f"SHOW {name}").fetchone()[0])  # type: ignore[index]
            for name in ("fsync", "synchronous_commit")
        }


# --- load generators ---------------------------------------------------------------------


@dataclass
class Result:
    tool: str
    alerts_per_request: int
    seconds: float
    requests: int  # responses received (any status)
    statuses: dict[str, int]
    socket_errors: dict[str, int]
    p50_ms: float | None
    p99_ms: float | None
    drain_s: float = 0.0  # how long the target kept working after the load stopped

    @property
    def ok(self) -> int:
        return sum(n for code, n in self.statuses.items() if code.startswith("2"))

    @property
    def not_ok(self) -> int:
        return sum(n for code, n in self.statuses.items() if not code.startswith("2"))

    @property
    def errors(self) -> int:
        return self.not_ok + sum(self.socket_errors.values())

    @property
    def requests_per_s(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    @property
    def alerts_per_s(self) -> float:
        return self.requests_per_s * self.alerts_per_request

    def error_text(self) -> str:
        parts = [f"HTTP {code}: {n}" for code, n in sorted(self.statuses.items()) if code[0] != "2"]
        parts += [f"{kind}: {n}" for kind, n in self.socket_errors.items() if n]
        return ", ".join(parts)


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def parse_wrk_latency(text: str) -> dict[int, float]:
    """wrk --latency's "Latency Distribution" block: percentile -> milliseconds."""
    found: dict[int, float] = {}
    block = text.split("Latency Distribution", 1)
    if len(block) == 2:
        for pct, value, unit in re.findall(
            r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m|h)\s*$", block[1], re.M
        ):
            found[int(pct)] = float(value) * _UNITS[unit]
    return found


def wrk_argv(
    target: Target,
    *,
    alerts_per_request: int,
    seconds: int,
    threads: int,
    connections: int,
    distinct: int,
    tag: str,
    ends_at: datetime,
    rate: float = 0.0,
) -> list[str]:
    """wrk with alert_stream.lua; `rate` > 0 paces it to that many requests/s in all."""
    return [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(LUA),
        target.url,
        "--",
        "/api/v2/alerts",
        target.key,
        str(alerts_per_request),
        str(threads),
        str(distinct),
        iso(datetime.now(UTC)),
        iso(ends_at),
        tag,
        f"{rate:.1f}",
    ]


def wrk_result(target: Target, output: str, returncode: int, alerts_per_request: int) -> Result:
    if returncode != 0:
        raise SystemExit(f"wrk failed ({returncode}): {output}")
    line = next((x for x in output.splitlines() if x.startswith("WRKJSON ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no summary:\n{output}")
    data = json.loads(line.removeprefix("WRKJSON "))
    latency = parse_wrk_latency(output)
    errors = dict(data["errors"])
    errors.pop("status")  # those are the non-2xx responses, counted per code in statuses
    result = Result(
        tool="wrk",
        alerts_per_request=alerts_per_request,
        seconds=data["duration_us"] / 1e6,
        requests=data["requests"],
        statuses={str(k): int(v) for k, v in data["statuses"].items()},
        socket_errors=errors,
        p50_ms=latency.get(50) if data["requests"] else None,
        p99_ms=latency.get(99) if data["requests"] else None,
    )
    record(target, result)
    return result


def run_wrk(target: Target, *, alerts_per_request: int, seconds: int, **options: Any) -> Result:
    argv = wrk_argv(target, alerts_per_request=alerts_per_request, seconds=seconds, **options)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    return wrk_result(target, done.stdout + done.stderr, done.returncode, alerts_per_request)


def hey_seconds(text: str, label: str) -> float | None:
    found = re.search(rf"^\s*{re.escape(label)}\s+([\d.]+) secs", text, re.M)
    return float(found.group(1)) if found else None


def run_hey(target: Target, *, seconds: int, work: Path, ends_at: datetime) -> Result:
    """One alert per request at FIXED_RPS. hey sends one body over and over, so this phase
    re-sends a single label set (the same one to every target)."""
    body = work / "hey-alert.json"
    body.write_text(
        json.dumps(
            [
                {
                    "labels": {
                        "alertname": "A0",
                        "service": "svc0",
                        "instance": "host-fixed",
                        "phase": "fixed-rate",
                    },
                    "annotations": {"summary": "bench alert at a fixed rate"},
                    "startsAt": iso(datetime.now(UTC)),
                    "endsAt": iso(ends_at),
                }
            ]
        )
    )
    argv = [
        "hey",
        "-z",
        f"{seconds}s",
        "-c",
        str(HEY_WORKERS),
        "-q",
        str(FIXED_RPS // HEY_WORKERS),
        "-t",
        "10",
        "-m",
        "POST",
        "-T",
        "application/json",
        "-H",
        f"Authorization: Bearer {target.key}",
        "-D",
        str(body),
        f"{target.url}/api/v2/alerts",
    ]
    started = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"hey failed ({done.returncode}): {done.stderr or done.stdout}")
    out = done.stdout
    total = hey_seconds(out, "Total:") or elapsed
    statuses = {code: int(n) for code, n in re.findall(r"\[(\d{3})\]\s+(\d+) responses", out)}
    errors: dict[str, int] = {}
    if "Error distribution:" in out:
        for n, message in re.findall(
            r"^\s*\[(\d+)\]\s+(.+)$", out.split("Error distribution:", 1)[1], re.M
        ):
            kind = "timeout" if "Timeout" in message or "deadline" in message else "other"
            errors[kind] = errors.get(kind, 0) + int(n)
    latency = {
        int(p): float(v) * 1e3 for p, v in re.findall(r"^\s*(\d+)% in ([\d.]+) secs", out, re.M)
    }
    result = Result(
        tool="hey",
        alerts_per_request=1,
        seconds=total,
        requests=sum(statuses.values()),
        statuses=statuses,
        socket_errors=errors,
        p50_ms=latency.get(50),
        p99_ms=latency.get(99),
    )
    record(target, result)
    return result


def record(target: Target, result: Result) -> None:
    target.requests_2xx += result.ok
    target.acked_alerts += result.ok * result.alerts_per_request


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- alert-to-notification latency ------------------------------------------------------


@dataclass
class Arrival:
    path: str
    at: float  # time.monotonic() once the body was read
    wall: float  # time.time() then: compared with the server's own timestamps
    body: bytes


class Receiver:
    """A loopback HTTP server that records every POST and answers 200: Watchkeeper's webhook
    contacts and Alertmanager's webhook receiver both point here. It runs in this process, so
    its clock is the one the probes are sent by."""

    def __init__(self) -> None:
        self.arrivals: list[Arrival] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                at, wall = time.monotonic(), time.time()
                with receiver.lock:
                    receiver.arrivals.append(Arrival(self.path, at, wall, body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{HOST}:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def since(self, index: int) -> list[Arrival]:
        with self.lock:
            return self.arrivals[index:]

    def count(self) -> int:
        with self.lock:
            return len(self.arrivals)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest rank: the smallest value with at least pct % of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


@dataclass
class Probes:
    """One target's probes in one phase: latency from just before the POST of a new alert to
    the arrival of its first notification (Alertmanager's minus its group_wait)."""

    phase: str  # "idle" | "load"
    sent: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # 2xx, but no notification in time
    post_errors: list[str] = field(default_factory=list)  # the alert itself was refused
    repeats: int = 0  # notifications beyond the first for one probe
    unexpected: int = 0  # arrivals that belong to no probe of this phase
    after_load: int = 0  # notifications that arrived after the background load had stopped
    post_ms: list[float] = field(default_factory=list)  # the probe POST's own latency
    load: Result | None = None  # the background load while the probes ran
    load_rate: float | None = None  # what it was paced at (requests/s; None: as fast as can be)
    # probe -> (wall clock at the POST, at the notification): for Watchkeeper's stages
    walls: dict[str, tuple[float, float]] = field(default_factory=dict)
    stages: dict[str, float] = field(default_factory=dict)  # stage -> median ms (Watchkeeper)

    @property
    def median_ms(self) -> float | None:
        return statistics.median(self.latencies_ms) if self.latencies_ms else None

    @property
    def p90_ms(self) -> float | None:
        return percentile(self.latencies_ms, 90)

    @property
    def max_ms(self) -> float | None:
        return max(self.latencies_ms) if self.latencies_ms else None

    @property
    def trouble(self) -> list[str]:
        found = []
        if self.post_errors:
            found.append(f"{len(self.post_errors)} probe alerts refused: {self.post_errors[:3]}")
        if self.missing:
            found.append(f"{len(self.missing)} probes never notified: {self.missing[:5]}")
        if self.repeats:
            found.append(f"{self.repeats} repeated notifications")
        if self.unexpected:
            found.append(f"{self.unexpected} notifications that match no probe")
        if self.after_load:
            found.append(f"{self.after_load} notifications arrived after the load had stopped")
        return found


def probe_names(phase: str, count: int) -> list[str]:
    return [f"{phase}-{i}" for i in range(count)]


def probe_alertname(target: Target, probe: str) -> str:
    side = target.db or "am"
    return f"Probe-{side}-{probe}"


def probe_key(target: Target, arrival: Arrival) -> str | None:
    """Which probe (its alertname) a notification is for: Alertmanager's group label;
    Watchkeeper's contact path, checked against the alert labels in the page."""
    try:
        body = json.loads(arrival.body)
    except ValueError:
        return None
    if not target.is_watchkeeper:
        if arrival.path != "/am":
            return None
        return (body.get("groupLabels") or {}).get("alertname")
    prefix = f"/wk-{target.db}/"
    if not arrival.path.startswith(prefix):
        return None
    name = probe_alertname(target, arrival.path.removeprefix(prefix))
    return name if name in arrival.body.decode(errors="replace") else None


def send_probes(
    target: Target,
    receiver: Receiver,
    probes: Probes,
    names: list[str],
    *,
    spacing: float,
    ends_at: datetime,
    wait: float,
    load_ended: Callable[[], float | None] = lambda: None,
) -> None:
    """Post one new alert per probe, `spacing` seconds apart (on a schedule: a slow answer
    does not delay the next probe's slot more than itself), then wait at most `wait` seconds
    after the last for every notification."""
    group_wait_ms = 0.0 if target.is_watchkeeper else AM_GROUP_WAIT_S * 1000
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {target.key}"}
    mark = receiver.count()
    sent: dict[str, float] = {}
    sent_wall: dict[str, tuple[str, float]] = {}
    started = time.monotonic()
    for n, probe in enumerate(names):
        pause = started + n * spacing - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        alertname = probe_alertname(target, probe)
        body = json.dumps(
            [
                {
                    "labels": {
                        "alertname": alertname,
                        "service": f"probe-{probe}",
                        "bench_probe": "yes",
                        "severity": "critical",
                    },
                    "annotations": {"summary": f"latency probe {alertname}"},
                    "startsAt": iso(datetime.now(UTC)),
                    "endsAt": iso(ends_at),
                }
            ]
        ).encode()
        at, wall = time.monotonic(), time.time()
        try:
            status, answer = http(
                "POST", f"{target.url}/api/v2/alerts", headers=headers, data=body, timeout=30
            )
        except OSError as exc:
            status, answer = 0, str(exc).encode()
        probes.post_ms.append((time.monotonic() - at) * 1000)
        probes.sent += 1
        if 200 <= status < 300:
            sent[alertname] = at
            sent_wall[alertname] = (probe, wall)
            target.requests_2xx += 1
            target.acked_alerts += 1
        else:
            probes.post_errors.append(f"{alertname}: HTTP {status} {answer[:120]!r}")
    deadline = time.monotonic() + wait
    first: dict[str, Arrival] = {}
    while True:
        first.clear()
        repeats = unexpected = 0
        for arrival in receiver.since(mark):
            name = probe_key(target, arrival)
            if name not in sent:
                unexpected += 1
            elif name in first:
                repeats += 1
            else:
                first[name] = arrival
        if len(first) == len(sent) or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    probes.repeats, probes.unexpected = repeats, unexpected
    ended = load_ended()
    for name, at in sent.items():
        page = first.get(name)
        if page is None:
            probes.missing.append(name)
            continue
        probes.latencies_ms.append((page.at - at) * 1000 - group_wait_ms)
        probe, wall = sent_wall[name]
        probes.walls[probe] = (wall, page.wall)
        if ended is not None and page.at > ended:
            probes.after_load += 1


def measure_idle(
    target: Target, receiver: Receiver, count: int, spacing: float, ends_at: datetime
) -> Probes:
    # The first page of a server pays for imports, connection pools and the like: not counted.
    warm = Probes("warm-up")
    send_probes(target, receiver, warm, ["warm"], spacing=spacing, ends_at=ends_at, wait=20)
    if warm.trouble:
        console.print(f"  [yellow]warm-up probe: {'; '.join(warm.trouble)}[/yellow]")
    probes = Probes("idle")
    send_probes(
        target,
        receiver,
        probes,
        probe_names("idle", count),
        spacing=spacing,
        ends_at=ends_at,
        wait=PROBE_WAIT_S,
    )
    return probes


def measure_under_load(
    procs: Procs,
    work: Path,
    target: Target,
    receiver: Receiver,
    *,
    count: int,
    spacing: float,
    rate: float,
    wrk_common: dict[str, Any],
    ends_at: datetime,
) -> Probes:
    """Probes while wrk runs in the background: paced at `rate` requests/s (0: saturating).
    The load runs LOAD_LEAD_S before the first probe and LOAD_TAIL_S after the last."""
    probes = Probes("load", load_rate=rate or None)
    extra = 0.0 if target.is_watchkeeper else AM_GROUP_WAIT_S
    seconds = math.ceil(LOAD_LEAD_S + count * spacing + extra + LOAD_TAIL_S)
    name = "wrk-load-" + (target.db or "am")
    log = work / f"{name}.log"
    argv = wrk_argv(
        target,
        alerts_per_request=1,
        seconds=seconds,
        tag="latency-load",
        rate=rate,
        **wrk_common,
    )
    started = time.monotonic()
    proc = procs.start(name, argv, log, dict(os.environ))
    ended: list[float] = []

    def load_ended() -> float | None:
        if not ended and proc.poll() is not None:
            ended.append(time.monotonic())
        return ended[0] if ended else None

    try:
        time.sleep(LOAD_LEAD_S)
        if proc.poll() is not None:
            raise SystemExit(f"wrk (background load) exited early:\n{tail(log)}")
        send_probes(
            target,
            receiver,
            probes,
            probe_names("load", count),
            spacing=spacing,
            ends_at=ends_at,
            wait=max(PROBE_WAIT_S, seconds - (time.monotonic() - started) + 5),
            load_ended=load_ended,
        )
        proc.wait(timeout=max(1.0, seconds + 60 - (time.monotonic() - started)))
    finally:
        procs.stop(proc)
    probes.load = wrk_result(target, log.read_text(errors="replace"), proc.returncode, 1)
    return probes


# --- what each target holds at the end ---------------------------------------------------


def prometheus_samples(text: str) -> dict[str, float]:
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            with suppress(ValueError):
                samples[name] = float(value)
    return samples


def alertmanager_after(target: Target) -> dict[str, Any]:
    status, body = http("GET", f"{target.url}/metrics")
    m = prometheus_samples(body.decode()) if status == 200 else {}

    def total(prefix: str) -> int:
        return int(sum(v for k, v in m.items() if k.startswith(prefix)))

    return {
        "received": total("alertmanager_alerts_received_total"),
        "invalid": total("alertmanager_alerts_invalid_total"),
        "in_memory": total("alertmanager_alerts{"),
    }


def watchkeeper_metrics(target: Target) -> dict[str, Any]:
    status, body = http("GET", f"{target.url}/metrics", timeout=30)
    m = prometheus_samples(body.decode()) if status == 200 else {}
    batches = int(m.get("watchkeeper_writer_batches_total", 0))
    items = int(m.get("watchkeeper_writer_items_total", 0))
    rejected = int(
        sum(v for k, v in m.items() if k.startswith("watchkeeper_rejected_payloads_total"))
    )
    return {"writer_batches": batches, "writer_items": items, "rejected_payloads": rejected}


def work_counter(target: Target) -> float | None:
    """A counter that grows while the target still works on requests: Watchkeeper's committed
    items (wrk abandons requests in flight when it stops; the server still commits them),
    Alertmanager's received alerts."""
    name = (
        "watchkeeper_writer_items_total"
        if target.is_watchkeeper
        else 'alertmanager_alerts_received_total{status="firing",version="v2"}'
    )
    try:
        status, body = http("GET", f"{target.url}/metrics", timeout=30)
    except OSError:
        return None
    return prometheus_samples(body.decode()).get(name) if status == 200 else None


def drain(target: Target, limit: float = 120.0) -> float:
    """Wait until the target is idle (its work counter still for a second), at most `limit`
    seconds, so that no phase pays for the backlog of the one before. Returns the seconds."""
    started = time.monotonic()
    last = work_counter(target)
    while time.monotonic() - started < limit:
        time.sleep(1.0)
        now = work_counter(target)
        if now is not None and now == last:
            break
        last = now
    else:
        console.print(f"[yellow]  {target.name} still busy after {limit:.0f} s[/yellow]")
    return max(0.0, time.monotonic() - started - 1.0)


def db_rows(target: Target, sql: str) -> list[tuple[Any, ...]]:
    """A query on Watchkeeper's database, read directly once the server has stopped."""
    if target.db == "sqlite":
        path = (target.db_url or "").removeprefix("sqlite:///")
        with sqlite3.connect(path) as conn:
            return list(conn.execute(sql).fetchall())
    import psycopg

    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{target.pg_name}"
    with psycopg.connect(url, connect_timeout=5) as conn:
        return list(conn.execute(sql).fetchall())


def watchkeeper_rows(target: Target) -> dict[str, int]:
    return {
        t: int(db_rows(target, f"SELECT count(*) FROM {t}")[0][0])
        for t in ("events", "alerts", "tickets")
    }


STAGES = (
    ("queue", "POST sent -> writer batch (ticket opened)"),
    ("escalate", "-> escalation step (page recorded)"),
    ("claim", "-> delivery claimed (a page due at once: in the step)"),
    ("hand_off", "-> send started (sender thread)"),
    ("send", "-> webhook received"),
)


def watchkeeper_stages(target: Target, by_phase: dict[str, Probes]) -> None:
    """Where a probe's time went, from the server's own timestamps (read once it stopped):
    the ticket's detected_at (its writer batch), the page's created_at (the escalation step)
    and dispatched_at (the delivery claim), the first attempt's started_at. Both clocks are
    this machine's wall clock."""
    rows = db_rows(
        target,
        "SELECT t.service_id, t.detected_at, n.created_at, n.dispatched_at, min(d.started_at) "
        "FROM tickets t JOIN notifications n ON n.ticket_id = t.id "
        "LEFT JOIN deliveries d ON d.notification_id = n.id "
        "WHERE t.service_id LIKE 'probe-%' AND n.kind = 'page' "
        "GROUP BY t.service_id, t.detected_at, n.created_at, n.dispatched_at",
    )
    server = {str(r[0]).removeprefix("probe-"): r[1:] for r in rows}
    for probes in by_phase.values():
        spans: dict[str, list[float]] = {name: [] for name, _ in STAGES}
        for probe, (sent, arrived) in probes.walls.items():
            stamps = server.get(probe)
            if stamps is None or any(x is None for x in stamps):
                continue
            points = [sent, *(float(x) for x in stamps), arrived]
            for (name, _), a, b in zip(STAGES, points[:-1], points[1:], strict=True):
                spans[name].append((b - a) * 1000)
        probes.stages = {
            name: statistics.median(values) for name, values in spans.items() if values
        }


# --- report ------------------------------------------------------------------------------


def fmt_count(x: Any) -> str:
    return f"{x:,}" if isinstance(x, int) else "?"


def fmt_rate(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f}"


def fmt_ms(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f} ms"


def fmt_ratio(wk: float | None, am: float | None) -> str:
    if wk is None or am is None or am == 0:
        return "-"
    return f"{wk / am:.2f}x"


def report(
    targets: list[Target], results: dict[str, dict[str, Result]], settings: dict[str, Any]
) -> dict[str, Any]:
    am = targets[0]
    wks = targets[1:]
    phases = [
        ("single", "wrk, 1 alert/request"),
        ("batch", f"wrk, {BATCH} alerts/request"),
        ("fixed", f"hey, {FIXED_RPS:,} req/s, 1 alert/request"),
    ]
    table = Table(title="Ingest: Watchkeeper vs Alertmanager (POST /api/v2/alerts)")
    table.add_column("metric")
    table.add_column(am.name, justify="right")
    for wk in wks:
        table.add_column(wk.name, justify="right")
        table.add_column("ratio", justify="right")

    def row(
        phase: str,
        label: str,
        value: Callable[[Result], float | None],
        show: Callable[[float | None], str],
    ) -> None:
        a = value(results[am.name][phase])
        cells = [show(a)]
        for wk in wks:
            w = value(results[wk.name][phase])
            cells += [show(w), fmt_ratio(w, a)]
        table.add_row(label, *cells)

    for phase, title in phases:
        table.add_section()
        table.add_row(f"[bold]{title}[/bold]")
        if phase == "fixed":
            row(phase, "req/s reached (2xx)", lambda r: r.requests_per_s, fmt_rate)
        else:
            row(phase, "alerts/s (2xx)", lambda r: r.alerts_per_s, fmt_rate)
            row(phase, "requests/s (2xx)", lambda r: r.requests_per_s, fmt_rate)
        row(phase, "p50 ack latency", lambda r: r.p50_ms, fmt_ms)
        row(phase, "p99 ack latency", lambda r: r.p99_ms, fmt_ms)
        row(phase, "responses", lambda r: float(r.requests), fmt_rate)
        cells = [str(results[am.name][phase].errors)]
        for wk in wks:
            cells += [str(results[wk.name][phase].errors), ""]
        table.add_row("errors (non-2xx + socket)", *cells)
        cells = [f"{results[am.name][phase].drain_s:.1f} s"]
        for wk in wks:
            cells += [f"{results[wk.name][phase].drain_s:.1f} s", ""]
        table.add_row("busy after the load stopped (~1 s)", *cells)
    console.print(table)

    problems = []
    for t in targets:
        for phase, _ in phases:
            r = results[t.name][phase]
            if r.errors:
                problems.append(f"{t.name}, {phase}: {r.errors} errors ({r.error_text()})")
    if problems:
        console.print("[bold red]Errors (not counted in the rates above):[/bold red]")
        for p in problems:
            console.print(f"  [red]{p}[/red]")
    else:
        console.print("Errors: none (every response was 2xx, no socket errors or timeouts).")

    verdicts: dict[str, Any] = {}
    console.print(
        "\n[bold]First bar[/bold] (single and batched >= 0.5x Alertmanager's maximum "
        f"rate; p99 at {FIXED_RPS:,} req/s <= 2x Alertmanager's):"
    )
    for wk in wks:
        a, w = results[am.name], results[wk.name]
        checks = {
            "single": w["single"].alerts_per_s >= BAR_RATE * a["single"].alerts_per_s,
            "batch": w["batch"].alerts_per_s >= BAR_RATE * a["batch"].alerts_per_s,
            # hey waits for each response: a server that cannot keep up is offered less than
            # the fixed rate, so its latency there is not "the p99 at 2,000 req/s".
            "fixed_rate_reached": w["fixed"].requests_per_s >= 0.95 * a["fixed"].requests_per_s,
            "fixed_p99": (
                w["fixed"].p99_ms is not None
                and a["fixed"].p99_ms is not None
                and w["fixed"].p99_ms <= BAR_P99 * a["fixed"].p99_ms
            ),
        }
        notes = []
        if any(w[p].errors for p in ("single", "batch", "fixed")):
            checks["no_errors"] = False
            notes.append("Watchkeeper answered with errors (see above)")
        if w["fixed"].requests_per_s < 0.95 * FIXED_RPS:
            notes.append(
                f"only {w['fixed'].requests_per_s:,.0f} req/s reached at the fixed rate: "
                "hey waits for each response, so the latency there understates the queueing"
            )
        if a["fixed"].requests_per_s < 0.95 * FIXED_RPS:
            notes.append(f"Alertmanager reached only {a['fixed'].requests_per_s:,.0f} req/s")
        holds = all(checks.values())
        verdicts[wk.name] = {"holds": holds, "checks": checks, "notes": notes}
        mark = "[green]HOLDS[/green]" if holds else "[red]DOES NOT HOLD[/red]"
        detail = ", ".join(f"{k} {'ok' if v else 'FAIL'}" for k, v in checks.items())
        console.print(f"  {wk.name}: {mark} ({detail})")
        for note in notes:
            console.print(f"    [yellow]note: {note}[/yellow]")

    console.print("\n[bold]What was acknowledged, and what is kept[/bold]")
    console.print(
        f"  Alertmanager: {am.acked_alerts:,} alerts in 2xx responses; its metrics count "
        f"{fmt_count(am.after.get('received'))} received, "
        f"{fmt_count(am.after.get('invalid'))} invalid, "
        f"{fmt_count(am.after.get('in_memory'))} alerts in memory. Its 2xx is an in-memory "
        "hand-off (nothing is written to disk)."
    )
    for wk in wks:
        after = wk.after
        events = after.get("events")
        verdict = ""
        if isinstance(events, int):
            if events >= wk.acked_alerts:
                verdict = "[green]every acknowledged alert is stored[/green]"
            else:
                verdict = (
                    f"[bold red]{wk.acked_alerts - events:,} acknowledged alerts are MISSING "
                    "(durable-ack violation)[/bold red]"
                )
        batches = after.get("writer_batches") or 0
        per_batch = f"{after.get('writer_items', 0) / batches:,.1f}" if batches else "-"
        console.print(
            f"  {wk.name}: {wk.acked_alerts:,} alerts in 2xx responses; the database holds "
            f"{fmt_count(events)} events, {fmt_count(after.get('alerts'))} alerts, "
            f"{fmt_count(after.get('tickets'))} tickets; {verdict}. Writer: "
            f"{batches:,} commits, {per_batch} items per commit; "
            f"{after.get('rejected_payloads', 0)} payloads rejected."
        )
    console.print(
        "  Watchkeeper's 2xx is durable: it is sent only after the event and its consequences "
        "are committed. Stored events can exceed the acknowledged ones: when a phase ends, wrk "
        "and hey drop the requests still in flight, and the server commits them anyway (see "
        "'busy after the load stopped')."
    )
    return verdicts


def probes_line(pr: Probes) -> str:
    text = (
        f"median {fmt_ms(pr.median_ms)}, p90 {fmt_ms(pr.p90_ms)}, max {fmt_ms(pr.max_ms)}; "
        f"{len(pr.latencies_ms)}/{pr.sent} notified"
    )
    if pr.load is not None:
        text += f"; background load {pr.load.requests_per_s:,.0f} req/s (2xx)"
    if pr.trouble:
        text += " [red](" + "; ".join(pr.trouble) + ")[/red]"
    return text


def report_latency(
    targets: list[Target], latency: dict[str, dict[str, Probes]]
) -> dict[str, dict[str, Any]]:
    am = targets[0]
    wks = targets[1:]
    table = Table(
        title="Alert to first notification: Watchkeeper's first page (webhook) vs Alertmanager's "
        f"webhook minus its group_wait ({AM_GROUP_WAIT_S:g} s)"
    )
    table.add_column("metric")
    table.add_column(am.name, justify="right")
    for wk in wks:
        table.add_column(wk.name, justify="right")
        table.add_column("ratio", justify="right")

    def row(
        phase: str,
        label: str,
        value: Callable[[Probes], float | None],
        show: Callable[[float | None], str],
    ) -> None:
        a = value(latency[am.name][phase])
        cells = [show(a)]
        for wk in wks:
            w = value(latency[wk.name][phase])
            cells += [show(w), fmt_ratio(w, a)]
        table.add_row(label, *cells)

    def text_row(phase: str, label: str, value: Callable[[Probes], str]) -> None:
        cells = [value(latency[am.name][phase])]
        for wk in wks:
            cells += [value(latency[wk.name][phase]), ""]
        table.add_row(label, *cells)

    for phase, title in (
        ("idle", "idle (no other load)"),
        (
            "load",
            f"under load (Watchkeeper: wrk at {LOAD_SHARE:g}x its maximum; Alertmanager: at its"
            " maximum)",
        ),
    ):
        table.add_section()
        table.add_row(f"[bold]{title}[/bold]")
        row(phase, "median", lambda p: p.median_ms, fmt_ms)
        row(phase, "p90", lambda p: p.p90_ms, fmt_ms)
        row(phase, "max", lambda p: p.max_ms, fmt_ms)
        text_row(phase, "notified / probes", lambda p: f"{len(p.latencies_ms)}/{p.sent}")
        row(phase, "probe POST p50 (ack)", lambda p: percentile(p.post_ms, 50), fmt_ms)
        if phase == "load":
            text_row(
                phase,
                "load offered (req/s)",
                lambda p: "max" if p.load_rate is None else f"{p.load_rate:,.0f}",
            )
            row(
                phase,
                "load reached (2xx req/s)",
                lambda p: p.load.requests_per_s if p.load else None,
                fmt_rate,
            )
            row(
                phase,
                "load p99 ack latency",
                lambda p: p.load.p99_ms if p.load else None,
                fmt_ms,
            )
            text_row(phase, "load errors", lambda p: str(p.load.errors) if p.load else "-")
        table.add_row(f"[dim]Watchkeeper's stages, median ({phase})[/dim]")
        for stage, label in STAGES:
            cells = ["-"]
            for wk in wks:
                cells += [fmt_ms(latency[wk.name][phase].stages.get(stage)), ""]
            table.add_row(f"  {label}", *cells)
    console.print()
    console.print(table)

    problems = [
        f"{t.name}, {phase}: {issue}"
        for t in targets
        for phase, pr in latency[t.name].items()
        for issue in pr.trouble
        + ([f"load errors: {pr.load.error_text()}"] if pr.load and pr.load.errors else [])
    ]
    for problem in problems:
        console.print(f"  [red]{problem}[/red]")

    verdicts: dict[str, dict[str, Any]] = {}
    console.print(
        f"\n[bold]First bar, notifications[/bold] (median idle <= {BAR_IDLE:g}x Alertmanager's "
        f"idle; median under load <= {BAR_LOAD:g}x Alertmanager's under load):"
    )
    a_idle = latency[am.name]["idle"].median_ms
    a_load = latency[am.name]["load"].median_ms
    for wk in wks:
        idle, load = latency[wk.name]["idle"], latency[wk.name]["load"]
        checks = {
            "idle_median": (
                idle.median_ms is not None
                and a_idle is not None
                and idle.median_ms <= BAR_IDLE * a_idle
            ),
            "load_median": (
                load.median_ms is not None
                and a_load is not None
                and load.median_ms <= BAR_LOAD * a_load
            ),
            "every_probe_notified": not (idle.missing or load.missing),
        }
        notes = []
        if load.load is not None and load.load_rate:
            reached = load.load.requests_per_s / load.load_rate
            if reached < 0.9:
                notes.append(f"the background load reached only {reached:.0%} of its paced rate")
        holds = all(checks.values())
        verdicts[wk.name] = {"holds": holds, "checks": checks, "notes": notes}
        mark = "[green]HOLDS[/green]" if holds else "[red]DOES NOT HOLD[/red]"
        detail = ", ".join(f"{k} {'ok' if v else 'FAIL'}" for k, v in checks.items())
        console.print(
            f"  {wk.name}: {mark} ({detail}; idle {fmt_ratio(idle.median_ms, a_idle)}, "
            f"under load {fmt_ratio(load.median_ms, a_load)})"
        )
        for note in notes:
            console.print(f"    [yellow]note: {note}[/yellow]")
    return verdicts


# --- main --------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    p.add_argument("--duration", type=int, default=10, help="seconds per phase (default 10)")
    p.add_argument("--quick", action="store_true", help="3 s per phase: a smoke run")
    p.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    p.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    p.add_argument(
        "--distinct", type=int, default=10_000, help="distinct label sets per phase (10,000)"
    )
    p.add_argument(
        "--probes",
        type=int,
        default=None,
        help=f"alert-to-notification probes per target and phase ({PROBES}; --quick: 10;"
        " 0: skip that measurement)",
    )
    p.add_argument("--json", type=Path, help="also write the results to this file")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (logs)")
    args = p.parse_args()
    if args.quick:
        args.duration = 3
    if args.probes is None:
        args.probes = 10 if args.quick else PROBES
    if not 0 <= args.probes <= 200:
        p.error("--probes: 0 to 200")
    if not 1 <= args.duration <= 600:
        p.error("--duration: 1 to 600 seconds")
    if not 1 <= args.threads <= args.connections <= 1000:
        p.error("need 1 <= --threads <= --connections <= 1000")
    if args.distinct < args.threads * BATCH:
        p.error(f"--distinct must be at least threads x {BATCH}")
    return args


def source_version() -> str:
    """The commit the editable install runs, and whether the tree differs from it: the numbers
    belong to the code as it was on disk."""
    try:
        done = subprocess.run(
            ["git", "-C", str(HERE), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except OSError:
        return "unknown"
    return done.stdout.strip() or "unknown"


def check_tools() -> None:
    missing = [t for t in ("wrk", "hey") if shutil.which(t) is None]
    if not Path(ALERTMANAGER).exists():
        missing.append(ALERTMANAGER)
    if not (VENV_BIN / "watchkeeper").exists():
        missing.append(str(VENV_BIN / "watchkeeper"))
    if missing:
        raise SystemExit(f"missing: {', '.join(missing)}")


def main() -> int:
    args = parse_args()
    check_tools()
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    settings: dict[str, Any] = {
        "duration_s": args.duration,
        "wrk": f"-t{args.threads} -c{args.connections} -d{args.duration}s --timeout 10s",
        "hey": f"-c {HEY_WORKERS} -q {FIXED_RPS // HEY_WORKERS} -z {args.duration}s",
        "distinct_label_sets": args.distinct,
        "groups": GROUPS,
        "probes": args.probes,
        "probe_spacing_s": PROBE_SPACING_S,
        "alertmanager_probe_group_wait_s": AM_GROUP_WAIT_S,
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "source": source_version(),
    }
    if "postgresql" in dbs:
        settings["postgresql"] = postgres_settings()
    console.print(f"[bold]Settings[/bold]: {settings}")
    if settings["load_average_at_start"][0] > 0.5 * (os.cpu_count() or 1):
        console.print(
            "[yellow]The machine is already busy (load average above): numbers will be noisy; "
            "phases are interleaved so the noise falls on every target.[/yellow]"
        )

    # SIGTERM (and SIGHUP) unwind like Ctrl-C, so `finally` stops everything.
    def interrupt(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupt)

    work = Path(tempfile.mkdtemp(prefix="wk-bench-"))
    procs = Procs()
    key = "bench-am-" + secrets.token_hex(16)
    # endsAt must stay in the future for the whole run (else later sends become resolves).
    probe_s = 2 * (args.probes * PROBE_SPACING_S + LOAD_LEAD_S + LOAD_TAIL_S + 5)
    planned = (3 * args.duration + 5 + probe_s) * (1 + len(dbs)) + 120
    ends_at = datetime.now(UTC) + timedelta(seconds=max(300, 2 * planned))
    results: dict[str, dict[str, Result]] = {}
    latency: dict[str, dict[str, Probes]] = {}
    databases = ExitStack()  # PostgreSQL databases to drop
    receiver = Receiver()
    probes = ["warm", *probe_names("idle", args.probes), *probe_names("load", args.probes)]
    try:
        targets = [start_alertmanager(procs, work, key, f"{receiver.url}/am")]
        for db in dbs:
            hook = f"{receiver.url}/wk-{db}"
            if db == "sqlite":
                url = f"sqlite:///{work / 'watchkeeper.db'}"
                targets.append(start_watchkeeper(procs, work, key, db, url, None, hook, probes))
            else:
                name = databases.enter_context(postgres_database())
                url = PG_SERVER_URL.format(db=name)
                targets.append(start_watchkeeper(procs, work, key, db, url, name, hook, probes))
        console.print("Started: " + ", ".join(f"{t.name} at {t.url}" for t in targets))

        wrk_common = {
            "threads": args.threads,
            "connections": args.connections,
            "distinct": args.distinct,
            "ends_at": ends_at,
        }
        for t in targets:  # warm-up: first requests, imports, connection pools
            run_wrk(t, alerts_per_request=1, seconds=1, tag="warmup", **wrk_common)
            drain(t)
            results[t.name] = {}
        for phase, batch in (("single", 1), ("batch", BATCH)):
            for t in targets:
                console.print(f"{phase}: wrk against {t.name} for {args.duration} s ...")
                r = run_wrk(
                    t, alerts_per_request=batch, seconds=args.duration, tag=phase, **wrk_common
                )
                results[t.name][phase] = r
                r.drain_s = drain(t)
                console.print(
                    f"  {r.alerts_per_s:,.0f} alerts/s, p50 {fmt_ms(r.p50_ms)}, "
                    f"p99 {fmt_ms(r.p99_ms)}, errors {r.errors}, busy {r.drain_s:.1f} s after"
                )
        for t in targets:
            console.print(f"fixed: hey against {t.name} for {args.duration} s ...")
            r = run_hey(t, seconds=args.duration, work=work, ends_at=ends_at)
            results[t.name]["fixed"] = r
            r.drain_s = drain(t)
            console.print(
                f"  {r.requests_per_s:,.0f} req/s, p50 {fmt_ms(r.p50_ms)}, "
                f"p99 {fmt_ms(r.p99_ms)}, errors {r.errors}, busy {r.drain_s:.1f} s after"
            )

        if args.probes:
            for t in targets:
                console.print(
                    f"latency, idle: {args.probes} new alerts to {t.name}, "
                    f"{PROBE_SPACING_S:g} s apart ..."
                )
                pr = measure_idle(t, receiver, args.probes, PROBE_SPACING_S, ends_at)
                latency[t.name] = {"idle": pr}
                console.print(f"  {probes_line(pr)}")
            for t in targets:
                if t.is_watchkeeper:
                    rate = LOAD_SHARE * results[t.name]["single"].requests_per_s
                    how = f"wrk paced at {rate:,.0f} req/s ({LOAD_SHARE:g}x its maximum)"
                else:
                    rate = 0.0
                    how = "wrk at its maximum rate"
                console.print(f"latency, under load: {t.name} while {how} ...")
                pr = measure_under_load(
                    procs,
                    work,
                    t,
                    receiver,
                    count=args.probes,
                    spacing=PROBE_SPACING_S,
                    rate=rate,
                    wrk_common=wrk_common,
                    ends_at=ends_at,
                )
                latency[t.name]["load"] = pr
                drain(t)
                console.print(f"  {probes_line(pr)}")

        targets[0].after = alertmanager_after(targets[0])
        procs.stop(targets[0].proc)
        for t in targets[1:]:
            t.after = watchkeeper_metrics(t)
            procs.stop(t.proc)  # graceful: the writer finishes what it holds
            t.after.update(watchkeeper_rows(t))
            if t.name in latency:
                watchkeeper_stages(t, latency[t.name])

        verdicts = report(targets, results, settings)
        if args.probes:
            for name, verdict in report_latency(targets, latency).items():
                verdicts[name]["notification"] = verdict
        else:
            console.print("\nAlert-to-notification latency: skipped (--probes 0).")
        if args.json:
            args.json.write_text(
                json.dumps(
                    {
                        "settings": settings,
                        "results": {
                            name: {
                                p: {**asdict(r), "alerts_per_s": r.alerts_per_s}
                                for p, r in by_phase.items()
                            }
                            for name, by_phase in results.items()
                        },
                        "after": {t.name: t.after for t in targets},
                        "acked_alerts": {t.name: t.acked_alerts for t in targets},
                        "notification_latency": {
                            name: {
                                phase: {
                                    **asdict(pr),
                                    "median_ms": pr.median_ms,
                                    "p90_ms": pr.p90_ms,
                                }
                                for phase, pr in by_phase.items()
                            }
                            for name, by_phase in latency.items()
                        },
                        "first_bar": verdicts,
                    },
                    indent=2,
                )
            )
        return 0
    except KeyboardInterrupt:
        console.print("[yellow]interrupted: stopping everything[/yellow]")
        return 130
    except BaseException:
        for name, proc in procs.running:
            log = work / ("alertmanager.log" if name == "alertmanager" else f"{name}.log")
            console.print(f"[dim]--- {name} (exit {proc.poll()}) log tail ---\n{tail(log)}[/dim]")
        raise
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        procs.stop_all()
        receiver.close()
        databases.close()
        if args.keep:
            console.print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
