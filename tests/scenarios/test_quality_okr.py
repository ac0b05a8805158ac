"""Objectives from the YAML file, measured: baseline, current value, target, progress, and
whether the change from the baseline is significant yet (GET /api/v1/objectives)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from tests.support.harness import SHOP, Harness, running
from tests.support.processes import scratch_database

from watchkeeper.storage import tables

OBJECTIVES = """
objectives:
  - id: faster
    title: Resolve checkout incidents faster, and find them first
    owner: payments
    key_results:
      - {id: ttr, metric: ttr, statistic: median, scope: {service: checkout},
         baseline: {from: "2026-01-01", to: "2026-01-31"}, target: {relative: "-30%"},
         deadline: "2026-03-31"}
      - {id: ack, metric: tta, statistic: p90, scope: {team: payments},
         baseline: {from: "2026-01-01", to: "2026-01-31"}, target: {absolute: 5m},
         deadline: "2026-03-31"}
      - {id: machines-first, metric: automatic_discovery_rate, statistic: rate,
         baseline: {from: "2026-01-01", to: "2026-01-31"}, target: {absolute: 0.9},
         deadline: "2026-03-31"}
      - {id: fewer, metric: tickets, statistic: value,
         baseline: {from: "2026-01-01", to: "2026-01-31"}, target: {relative: "-50%"},
         deadline: "2026-03-31"}
      - {id: next-quarter, metric: ttr, statistic: median,
         baseline: {from: "2026-03-01", to: "2026-03-31"}, target: {relative: "-10%"},
         deadline: "2026-06-30"}
"""
JAN = datetime(2026, 1, 2, tzinfo=UTC).timestamp()
FEB = datetime(2026, 2, 2, tzinfo=UTC).timestamp()


def _rows() -> list[dict[str, Any]]:
    rows = []
    for period, start in (("baseline", JAN), ("current", FEB)):
        for i in range(40):
            detected = start + i * 15 * 3600.0
            if period == "baseline":
                ttr, tta, automatic = 3000 + 30 * i, 600 + 10 * i, i % 4 != 0  # 30 of 40
            else:
                ttr, tta, automatic = 1500 + 15 * i, 200 + 5 * i, i % 10 != 0  # 36 of 40
            rows.append(
                {
                    "service_id": "checkout", "group_key": f"{period}{i}", "grouping": False,
                    "status": "resolved", "title": "t", "severity": "high",
                    "impact_start": detected - 60, "detected_at": detected,
                    "acknowledged_at": detected + tta, "acknowledged_by": "alice",
                    "mitigated_at": detected + ttr, "resolved_at": detected + ttr,
                    "channel_kind": "automatic" if automatic else "feedback",
                    "channel_id": "prometheus" if automatic else "support",
                    "responders": [], "last_alert_at": detected, "updated_at": detected,
                }
            )  # fmt: skip
    return rows


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def wk(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Harness]:
    template = request.getfixturevalue("pg_template") if request.param == "postgresql" else None
    with (
        scratch_database(request.param, tmp_path_factory.mktemp("db"), template) as url,
        running(url, SHOP.read_text() + OBJECTIVES) as h,
    ):
        with h.rt.db.begin() as conn:
            conn.execute(tables.tickets.insert(), _rows())
        yield h


@pytest.fixture(scope="module")
def key_results(wk: Harness) -> dict[str, dict[str, Any]]:
    r = wk.api("GET", "/api/v1/objectives")
    assert r.status_code == 200, r.text
    [objective] = r.json()["objectives"]
    assert objective["owner"] == "payments"
    return {kr["id"]: kr for kr in objective["key_results"]}


def test_a_relative_target_on_a_median(key_results: dict[str, dict[str, Any]]) -> None:
    kr = key_results["ttr"]
    # baseline 3000, 3030 … 4170: median (3570 + 3600) / 2; now 1500 … 2085
    assert kr["baseline"]["value"] == 3585 and kr["baseline"]["n"] == 40
    assert kr["baseline"]["to"] == "2026-02-01T00:00:00Z"  # the `to` day is included
    assert kr["current"]["value"] == 1792.5 and kr["current"]["n"] == 40
    assert kr["current"]["from"] == "2026-02-01T00:00:00Z"
    assert kr["current"]["to"] == "2026-03-02T09:00:00Z"  # now: the deadline is ahead
    assert kr["target"]["value"] == pytest.approx(3585 * 0.7)
    assert kr["progress_percent"] == pytest.approx((1792.5 - 3585) / (3585 * 0.7 - 3585) * 100)
    assert kr["met"] is True and kr["direction"] == "lower is better"
    assert kr["significant"] is True  # every value now is below every value then
    assert kr["change"]["ci95"][1] < 0


def test_an_absolute_target_on_a_p90_scoped_to_a_team(
    key_results: dict[str, dict[str, Any]],
) -> None:
    kr = key_results["ack"]
    assert kr["scope"]["team"] == "payments"
    # 600 … 990 then: p90 at h = 35.1 → 950 + 0.1·10; 200 … 395 now: 375 + 0.1·5
    assert kr["baseline"]["value"] == pytest.approx(951)
    assert kr["current"]["value"] == pytest.approx(375.5)
    assert kr["target"]["value"] == 300  # 5m
    assert kr["met"] is False
    assert 0 < kr["progress_percent"] < 100
    assert kr["significant"] is True


def test_a_rate_whose_change_is_not_significant_yet(
    key_results: dict[str, dict[str, Any]],
) -> None:
    kr = key_results["machines-first"]
    assert kr["baseline"]["value"] == 0.75 and kr["current"]["value"] == 0.9
    assert kr["progress_percent"] == pytest.approx(100)
    assert kr["met"] is True and kr["direction"] == "higher is better"
    assert kr["significant"] is False and kr["note"] == "not significant"  # 30/40 → 36/40


def test_a_count_per_week(key_results: dict[str, dict[str, Any]]) -> None:
    kr = key_results["fewer"]
    week = 7 * 86400
    assert kr["baseline"]["value"] == pytest.approx(40 / (31 * 86400 / week))
    assert kr["current"]["n"] == 40
    assert kr["met"] is False and kr["progress_percent"] < 0  # more per week, not fewer
    assert kr["significant"] is False


def test_a_baseline_still_running(key_results: dict[str, dict[str, Any]]) -> None:
    kr = key_results["next-quarter"]
    assert kr["current"] is None and kr["progress_percent"] is None
    assert kr["note"] == "the baseline period has not ended yet"
