"""Prometheus Alertmanager (the real binary) as a sender of webhooks to a real Watchkeeper, and
Prometheus-style senders posting straight to Watchkeeper's Alertmanager API v2."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.processes import (
    ServerProcess,
    Servers,
    child_env,
    free_port,
    wait_for,
)

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
AM_KEY = "am-key-0123456789abcdef"  # the `am` integration of shop.yaml

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(module_db_url: str, module_servers: Servers) -> ServerProcess:
    """One server per database for this module; each test uses its own services."""
    return module_servers.start(module_db_url)


class Alertmanager:
    """A real Alertmanager on loopback: its own storage dir, no clustering."""

    def __init__(self, workdir: Path, webhook_url: str) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "data").mkdir(exist_ok=True)
        self.config = workdir / "alertmanager.yml"
        self.config.write_text(
            "route:\n"
            "  receiver: watchkeeper\n"
            "  group_by: [service]\n"
            "  group_wait: 1s\n"
            "  group_interval: 1s\n"
            "  repeat_interval: 1h\n"
            "receivers:\n"
            "  - name: watchkeeper\n"
            "    webhook_configs:\n"
            f"      - url: {webhook_url}\n"
            "        send_resolved: true\n"
        )
        self.log = workdir / "alertmanager.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [
                    ALERTMANAGER,
                    f"--config.file={self.config}",
                    f"--storage.path={self.workdir / 'data'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--cluster.listen-address=",
                    "--log.level=info",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=child_env(),
                cwd=self.workdir,
            )

        def ready() -> bool:
            assert self.proc is not None
            assert self.proc.poll() is None, f"alertmanager exited:\n{self.log_tail()}"
            try:
                return httpx.get(f"{self.url}/-/ready", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(ready, timeout=30, what="Alertmanager ready")

    def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        response = httpx.post(f"{self.url}/api/v2/alerts", json=alerts, timeout=10)
        assert response.status_code == 200, response.text

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


@pytest.fixture
def alertmanager(server: ServerProcess, tmp_path: Path) -> Iterator[Alertmanager]:
    if not shutil.which(ALERTMANAGER):
        pytest.fail(f"{ALERTMANAGER} is required (Debian package prometheus-alertmanager)")
    am = Alertmanager(
        tmp_path / "alertmanager",
        f"{server.base_url}/integrations/{AM_KEY}/alertmanager",
    )
    am.start()
    try:
        yield am
    finally:
        am.stop()


def rfc3339(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def tickets_of(server: ServerProcess, service: str) -> list[dict[str, Any]]:
    response = server.api("GET", "/api/v1/tickets", params={"service": service})
    assert response.status_code == 200, response.text
    return sorted(response.json()["tickets"], key=lambda t: t["id"])


def ticket_alerts(server: ServerProcess, ticket_id: int) -> list[dict[str, Any]]:
    response = server.api("GET", f"/api/v1/tickets/{ticket_id}")
    assert response.status_code == 200, response.text
    return list(response.json()["alerts"])


CHECKOUT = {
    "CheckoutErrorRate": "critical",
    "CheckoutLatencyHigh": "warning",
    "PaymentGatewayTimeouts": "page",
    "CheckoutPodsRestarting": "warning",
}
CART = {"CartLatencyHigh": "warning", "CartRedisDown": "critical", "CartErrorRate": "major"}


def am_alerts(starts: datetime, ends: datetime | None = None) -> list[dict[str, Any]]:
    alerts = []
    for service, names in (("checkout", CHECKOUT), ("cart", CART)):
        for name, severity in names.items():
            alert: dict[str, Any] = {
                "labels": {
                    "alertname": name,
                    "service": service,
                    "severity": severity,
                    "instance": f"{service}-0",
                },
                "annotations": {"summary": f"{name} on {service}"},
                "startsAt": rfc3339(starts),
                "generatorURL": f"http://prometheus.example.com/graph?g0.expr={name}",
            }
            if ends is not None:
                alert["endsAt"] = rfc3339(ends)
            alerts.append(alert)
    return alerts


def test_alertmanager_groups_converge_into_one_ticket_per_service_and_recover(
    server: ServerProcess, alertmanager: Alertmanager
) -> None:
    started = datetime.now(UTC) - timedelta(minutes=2)
    alertmanager.post_alerts(am_alerts(started))

    def converged() -> dict[str, dict[str, Any]]:
        out = {}
        for service, names in (("checkout", CHECKOUT), ("cart", CART)):
            open_tickets = [t for t in tickets_of(server, service) if t["status"] == "triggered"]
            assert len(open_tickets) == 1, (service, open_tickets)
            [ticket] = open_tickets
            held = {a["labels"]["alertname"] for a in ticket_alerts(server, ticket["id"])}
            assert held == set(names), (service, held)
            out[service] = ticket
        return out

    found = wait_for(converged, timeout=30, what="one ticket per service holding its alerts")
    assert found["checkout"]["alert_count"] == len(CHECKOUT)
    assert found["checkout"]["severity"] == "critical"  # critical and page -> critical
    assert found["cart"]["alert_count"] == len(CART)
    assert found["cart"]["severity"] == "critical"
    for service in ("checkout", "cart"):
        assert len(tickets_of(server, service)) == 1  # nothing else was opened
        alerts = ticket_alerts(server, found[service]["id"])
        assert all(a["status"] == "firing" and a["integration"] == "am" for a in alerts)
        assert all(a["channel"] == "prometheus" for a in alerts)
        assert all(a["details"]["receiver"] == "watchkeeper" for a in alerts)
    cart_alerts = {a["labels"]["alertname"]: a for a in ticket_alerts(server, found["cart"]["id"])}
    assert cart_alerts["CartErrorRate"]["severity"] == "high"  # major -> high

    # Alertmanager re-sends groups; nothing new opens. Now the alerts end.
    alertmanager.post_alerts(am_alerts(started, ends=datetime.now(UTC) - timedelta(seconds=1)))

    def recovered() -> bool:
        for service in ("checkout", "cart"):
            [ticket] = tickets_of(server, service)
            assert ticket["status"] == "resolved", (service, ticket["status"])
            assert all(a["status"] == "resolved" for a in ticket_alerts(server, ticket["id"]))
        return True

    wait_for(recovered, timeout=30, what="both tickets auto-resolved")
    for service in ("checkout", "cart"):
        [ticket] = tickets_of(server, service)
        assert ticket["resolved_by"] is None  # resolved by its alerts, not by a person
        assert ticket["mitigated"] is not None


def test_api_v2_alert_resolves_when_its_ends_at_passes_without_a_resend(
    server: ServerProcess,
) -> None:
    """Prometheus posts to Watchkeeper as if it were an Alertmanager, with a bearer key."""
    headers = {"Authorization": f"Bearer {AM_KEY}"}
    now = datetime.now(UTC)
    once = {
        "labels": {"alertname": "QueueBacklog", "service": "payments-api", "severity": "critical"},
        "annotations": {"summary": "Payment queue backlog above 10k"},
        "startsAt": rfc3339(now - timedelta(minutes=1)),
        "endsAt": rfc3339(now + timedelta(seconds=3)),
        "generatorURL": "http://prometheus.example.com/graph?g0.expr=queue_backlog",
    }
    kept = {
        "labels": {"alertname": "SettlementLag", "service": "payments-api", "severity": "warning"},
        "annotations": {"summary": "Settlement lag above 5 minutes"},
        "startsAt": rfc3339(now - timedelta(minutes=1)),
    }

    def send(alerts: list[dict[str, Any]]) -> None:
        with server.client() as client:
            response = client.post("/api/v2/alerts", json=alerts, headers=headers)
        assert response.status_code == 200, response.text

    def alert_named(name: str) -> dict[str, Any]:
        response = server.api(
            "GET", "/api/v1/alerts", params={"service": "payments-api", "limit": 1000}
        )
        assert response.status_code == 200, response.text
        matching = [a for a in response.json()["alerts"] if a["labels"]["alertname"] == name]
        assert len(matching) == 1, matching
        return dict(matching[0])

    send([once, {**kept, "endsAt": rfc3339(now + timedelta(seconds=15))}])
    [ticket] = tickets_of(server, "payments-api")
    assert ticket["status"] == "triggered" and ticket["severity"] == "critical"
    assert alert_named("QueueBacklog")["status"] == "firing"

    # Prometheus keeps re-sending the alert that still fires, each time with a later endsAt;
    # the other one is never sent again.
    deadline = time.monotonic() + 20
    while alert_named("QueueBacklog")["status"] == "firing":
        assert time.monotonic() < deadline, "QueueBacklog did not resolve after its endsAt"
        send([{**kept, "endsAt": rfc3339(datetime.now(UTC) + timedelta(seconds=15))}])
        time.sleep(0.5)  # the re-send cadence of this fake Prometheus, not an assertion
    resolved = alert_named("QueueBacklog")
    assert resolved["resolved_at"] is not None
    assert datetime.fromisoformat(resolved["resolved_at"]) >= datetime.fromisoformat(once["endsAt"])
    assert "endsAt" in (resolved["resolved_by"] or "")
    assert alert_named("SettlementLag")["status"] == "firing"
    assert tickets_of(server, "payments-api")[0]["status"] == "triggered"  # one alert still fires

    # Prometheus sends the end of the last one: the ticket resolves.
    send([{**kept, "endsAt": rfc3339(datetime.now(UTC) - timedelta(seconds=1))}])
    assert alert_named("SettlementLag")["status"] == "resolved"
    [ticket] = tickets_of(server, "payments-api")
    assert ticket["status"] == "resolved"
