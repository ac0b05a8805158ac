"""Configuration as code: `apply` is idempotent, deletes only with --prune, leaves run-time
objects alone, and refuses a broken file whole, naming every YAML path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.harness import SHOP, Harness, running
from typer.testing import CliRunner

from watchkeeper.cli.main import app
from watchkeeper.storage import tables

YAML = {"Content-Type": "application/yaml"}


@pytest.fixture
def wk(db_url: str) -> Iterator[Harness]:
    with running(db_url) as h:
        yield h


def put(wk: Harness, text: str, **params: str) -> dict[str, object]:
    response = wk.api("PUT", "/api/v1/config", content=text, params=params, headers=YAML)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def without_payments_api() -> str:
    """The shop without its payments-api service (and the references to it)."""
    lines = [
        line
        for line in SHOP.read_text().splitlines()
        if not line.startswith("  - {id: payments-api,")
    ]
    text = "\n".join(lines) + "\n"
    text = text.replace("depends_on: [payments-api]", "depends_on: []")
    return text.replace(
        "channel: pagerduty, service: payments-api", "channel: pagerduty, service: checkout"
    )


def test_applying_the_same_file_twice_changes_nothing(wk: Harness) -> None:
    report = put(wk, SHOP.read_text())  # the harness applied it once already
    assert report["created"] == {} and report["updated"] == {} and report["deleted"] == {}
    assert report["unchanged"] > 20


def test_a_service_dropped_from_the_file_stays_until_prune(wk: Harness) -> None:
    trimmed = without_payments_api()
    kept = put(wk, trimmed)
    assert kept["deleted"] == {}
    assert wk.count(tables.services, tables.services.c.id == "payments-api") == 1
    pruned = put(wk, trimmed, prune="true")
    assert pruned["deleted"] == {"services": ["payments-api"]}
    assert wk.count(tables.services, tables.services.c.id == "payments-api") == 0


def test_prune_leaves_silences_made_at_run_time_alone(wk: Harness) -> None:
    made = wk.api(
        "POST",
        "/api/v1/silences",
        json={"matchers": ["service=cart"], "duration": "2h", "comment": "disk swap"},
    )
    assert made.status_code == 201, made.text
    put(wk, SHOP.read_text(), prune="true")
    listed = wk.api("GET", "/api/v1/silences").json()["silences"]
    assert [s["id"] for s in listed] == [made.json()["id"]]


def test_a_dry_run_reports_and_stores_nothing(wk: Harness) -> None:
    report = put(wk, without_payments_api(), prune="true", dry_run="true")
    assert report["dry_run"] is True and report["deleted"] == {"services": ["payments-api"]}
    assert wk.count(tables.services, tables.services.c.id == "payments-api") == 1


def test_a_broken_file_is_refused_whole_with_every_yaml_path(wk: Harness) -> None:
    broken = SHOP.read_text().replace("team: payments, depends_on", "team: nobody, depends_on")
    broken = broken.replace("interval: 10m", "interval: ten minutes")
    response = wk.api("PUT", "/api/v1/config", content=broken, headers=YAML)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    paths = [e["path"] for e in response.json()["errors"]]
    assert any(p.startswith("services[0].team") for p in paths), paths
    assert any(p.startswith("integrations[") and p.endswith("interval") for p in paths), paths
    assert wk.api("GET", "/api/v1/config").json()["version"] == 1  # nothing applied


def test_check_config_names_the_yaml_path_and_fails(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(SHOP.read_text().replace("kind: automatic}", "kind: robotic}", 1))
    result = CliRunner().invoke(app, ["check-config", str(bad)])
    assert result.exit_code == 1
    assert "channels[0].kind" in result.output
    good = CliRunner().invoke(app, ["check-config", str(SHOP)])
    assert good.exit_code == 0 and "OK" in good.output
