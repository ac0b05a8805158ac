"""`watchkeeper report --html` against a real `watchkeeper serve`, opened in a real browser
(Debian's Chromium through Playwright): the page renders offline, its charts are there, the
browser logs no error and requests nothing from the network, and it prints.

Set WATCHKEEPER_REPORT_SCREENSHOT=docs/report.png to save a screenshot of the page.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Request
from tests.support.processes import ServerProcess, child_env, serving, watchkeeper_command

GENERIC = "/integrations/gen-key-0123456789abcdef/generic"
FEEDBACK = "/integrations/fb-key-0123456789abcdef/feedback"
SCREENSHOT = "WATCHKEEPER_REPORT_SCREENSHOT"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp("report")
    with serving(f"sqlite:///{workdir / 'watchkeeper.db'}", workdir / "server") as started:
        yield started


def _post(server: ServerProcess, path: str, body: dict[str, Any]) -> dict[str, Any]:
    with server.client() as client:
        response = client.post(path, json=body)
    assert response.status_code == 202, response.text
    out: dict[str, Any] = response.json()
    return out


def seed(server: ServerProcess) -> None:
    """A few incidents through the ingest endpoints and the ticket API."""
    tickets = []
    for i, service in enumerate(("checkout", "cart", "search", "checkout")):
        event = _post(
            server,
            GENERIC,
            {"summary": f"{service} errors", "dedup": f"e{i}", "service": service,
             "severity": ("critical", "high", "warning", "high")[i],
             "labels": {"alertname": f"{service.title()}Errors"}},
        )["events"][0]  # fmt: skip
        tickets.append(event["ticket_id"])
    _post(server, FEEDBACK, {"description": "payments fail at checkout", "service": "payments-api"})
    for ticket_id in tickets[:3]:
        assert server.api("POST", f"/api/v1/tickets/{ticket_id}/acknowledge").status_code == 200
    for ticket_id in tickets[:2]:
        assert server.api("POST", f"/api/v1/tickets/{ticket_id}/resolve").status_code == 200
    edit = {"false_alarm": True, "root_cause": {"service": "search", "category": "config"}}
    assert server.api("PATCH", f"/api/v1/tickets/{tickets[2]}", json=edit).status_code == 200


def cli(server: ServerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    env = child_env({"WATCHKEEPER_URL": server.base_url, "WATCHKEEPER_TOKEN": server.admin_token})
    return subprocess.run(
        [*watchkeeper_command(), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_html_report_opens_offline_with_its_charts_and_prints(
    server: ServerProcess, browser: Browser, tmp_path: Path
) -> None:
    seed(server)
    html = tmp_path / "report.html"
    csv_dir = tmp_path / "csv"
    done = cli(server, "report", "--html", str(html), "--csv", str(csv_dir), "--compare-to",
               "previous")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Quality report" in done.stdout and "TTR (resolve)" in done.stdout
    assert "automatic-discovery rate" in done.stdout
    assert (csv_dir / "durations.csv").read_text().startswith("metric,n,median_s")
    assert (csv_dir / "comparison.csv").exists()

    as_json = cli(server, "report", "--json")
    assert as_json.returncode == 0, as_json.stderr
    body = json.loads(as_json.stdout)
    assert body["quality"]["counts"]["tickets"] == 4  # the second checkout alert joined
    assert body["channel"]["miss_rate"]["misses"][0]["service"] == "payments-api"

    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors: list[str] = []
    requests: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    def request(req: Request) -> None:
        if not req.url.startswith("file://"):
            requests.append(req.url)

    page.on("console", console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", request)
    page.goto(html.as_uri())
    assert page.locator("h1").inner_text() == "Quality report"
    for heading in ("1 · SLO data", "2 · Operational data", "3 · Channel data", "4 · Quality data"):
        assert page.get_by_role("heading", name=heading).count() == 1
    charts = page.locator("svg.chart")
    # pager load, coverage map, five distributions, weekly trend
    assert charts.count() >= 8
    assert page.locator("svg.chart rect").count() > 20
    assert page.get_by_text("Change from the previous window").count() == 1
    assert not errors, errors
    assert not requests, requests  # self-contained: nothing fetched

    page.emulate_media(media="print")
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    if target := os.environ.get(SCREENSHOT):
        page.emulate_media(media="screen")
        page.screenshot(path=target, full_page=True)
    page.close()


def test_okr_command_without_objectives(server: ServerProcess) -> None:
    done = cli(server, "okr")
    assert done.returncode == 0, done.stderr
    assert "no objectives are configured" in done.stdout
    bad = cli(server, "report", "--service", "nope")
    assert bad.returncode == 1 and "unknown service" in bad.stderr
