"""An on-call day as operators see it through `watchkeeper oncall` and `watchkeeper shifts`,
against a real HTTP server (uvicorn on loopback) over the test's database and fake clock.

Sunday 8 March 2026, New York springs forward at 02:00. alice holds the pager from Saturday
09:00 EST; bob takes over at 09:00 EDT (13:00 UTC, an hour earlier in UTC than the day before);
bob asks erin to stand in from 10:00 to 12:00, and takes it back by deleting the override.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import uvicorn
from rich.console import Console
from tests.support.harness import ADMIN, Harness, running
from tests.support.processes import free_port
from typer.testing import CliRunner

from watchkeeper.api.app import create_app
from watchkeeper.cli import oncall as oncall_cli
from watchkeeper.cli.main import app as cli_app

CONFIG = """\
users:
  - {id: alice, name: Alice, email: alice@example.com, time_zone: America/New_York}
  - {id: bob, name: Bob, email: bob@example.com, time_zone: America/New_York}
  - {id: carol, name: Carol, email: carol@example.com, time_zone: Europe/Berlin}
  - {id: erin, name: Erin, email: erin@example.com, time_zone: America/New_York}
schedules:
  - id: nyc-daily
    name: NYC daily
    time_zone: America/New_York
    layers:
      - rotation: {type: daily, handoff: "09:00", start: "2026-03-01"}
        users: [alice, bob, carol]
  - id: business-hours
    time_zone: America/New_York
    layers:
      - rotation: {type: weekly, handoff: "09:00", start: "2026-03-02"}
        users: [carol]
        restrictions: [{days: [mon, tue, wed, thu, fri], from: "09:00", to: "18:00"}]
"""


@pytest.fixture
def wk(db_url: str) -> Iterator[Harness]:
    with running(db_url, CONFIG) as h:
        yield h


@pytest.fixture
def cli(wk: Harness, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Runs `watchkeeper ...` against the harness's runtime served over real HTTP."""
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(wk.rt, start_background=False),
            host="127.0.0.1",
            port=free_port(),
            log_level="warning",
            lifespan="off",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    monkeypatch.setattr(oncall_cli, "out", Console(width=200, no_color=True))
    env = {"WATCHKEEPER_URL": f"http://127.0.0.1:{server.config.port}", "WATCHKEEPER_TOKEN": ADMIN}
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> Any:
        result = runner.invoke(cli_app, list(args), env=env)
        assert result.exit_code == code, result.output
        return result

    try:
        yield run
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_spring_forward_handoff_and_a_stand_in(wk: Harness, cli: Any) -> None:
    wk.clock.set(at("2026-03-08T08:30:00-04:00"))
    shown = cli("oncall", "nyc-daily").output
    assert "alice" in shown and "bob" not in shown
    assert "Sat 2026-03-07 09:00 EST" in shown and "Sun 2026-03-08 09:00 EDT" in shown

    wk.clock.set(at("2026-03-08T13:00:00Z"))  # 09:00 EDT
    now = json.loads(cli("oncall", "nyc-daily", "--json").output)
    assert now["users"] == ["bob"] and now["at"] == "2026-03-08T09:00:00-04:00"

    created = wk.api(
        "POST",
        "/api/v1/schedules/nyc-daily/overrides",
        json={
            "user": "erin",
            "replaces": "bob",
            "from": "2026-03-08T10:00:00-04:00",
            "to": "2026-03-08T12:00:00-04:00",
        },
    )
    assert created.status_code == 201, created.text
    override = created.json()["id"]

    wk.clock.advance(timedelta(hours=1, minutes=30))  # 10:30 EDT
    shown = cli("oncall", "nyc-daily").output
    assert "erin" in shown and f"override:{override}" in shown and "bob" not in shown
    # Asked about a moment in the past, in local time without an offset: read as the local time
    # of the machine the CLI runs on, so give an offset here to stay independent of it.
    past = json.loads(
        cli("oncall", "nyc-daily", "--at", "2026-03-08T09:59:00-04:00", "--json").output
    )
    assert past["users"] == ["bob"]

    day = json.loads(
        cli(
            "shifts",
            "nyc-daily",
            "--from",
            "2026-03-08T00:00:00-05:00",
            "--to",
            "2026-03-09T00:00:00-04:00",
            "--json",
        ).output
    )
    assert [(s["user"], s["start"][11:16], s["end"][11:16]) for s in day["shifts"]] == [
        ("alice", "00:00", "09:00"),
        ("bob", "09:00", "10:00"),
        ("erin", "10:00", "12:00"),
        ("bob", "12:00", "00:00"),
    ]
    table = cli(
        "shifts",
        "nyc-daily",
        "--from",
        "2026-03-07T00:00:00-05:00",
        "--to",
        "2026-03-09T00:00:00-04:00",
    ).output
    assert "23h" in table  # Saturday 09:00 EST to Sunday 09:00 EDT

    deleted = wk.api("DELETE", f"/api/v1/schedules/nyc-daily/overrides/{override}")
    assert deleted.status_code == 200, deleted.text
    assert json.loads(cli("oncall", "nyc-daily", "--json").output)["users"] == ["bob"]


def test_nobody_on_call_and_mistakes(wk: Harness, cli: Any) -> None:
    wk.clock.set(at("2026-03-07T12:00:00-05:00"))  # a Saturday
    assert "nobody is on call in business-hours" in cli("oncall", "business-hours").output
    monday = cli("oncall", "business-hours", "--at", "2026-03-09T09:00:00-04:00").output
    assert "carol" in monday
    weekend = cli(
        "shifts", "business-hours", "--from", "2026-03-07T00:00:00Z", "--to", "2026-03-08T00:00:00Z"
    ).output
    assert "nobody is on call in this window" in weekend

    unknown = cli("oncall", "nope", code=1)
    assert "no schedule 'nope'" in unknown.output and "nyc-daily" in unknown.output
    too_long = cli(
        "shifts",
        "nyc-daily",
        "--from",
        "2026-03-01T00:00:00Z",
        "--to",
        "2026-07-01T00:00:00Z",
        code=1,
    )
    assert "field: to" in too_long.output
    assert "not an ISO 8601" in cli("oncall", "nyc-daily", "--at", "noon", code=2).output
