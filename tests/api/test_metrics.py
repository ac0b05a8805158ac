"""/metrics: what an SRE alerts on — rejections, firing alerts, and timers no engine advanced."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.support.harness import Harness, running

CONFIG = """
teams: [{id: ops, name: Ops, members: [ana]}]
users:
  - id: ana
    name: Ana
    email: ana@example.com
    time_zone: UTC
    contacts: [{id: ana-mail, type: email, address: ana@example.com}]
escalation_policies:
  - id: ops
    name: Ops
    levels:
      - {role: first-line, targets: ["user:ana"], delay: 5m}
      - {role: second-line, targets: ["schedule:empty"], delay: 5m}
schedules:
  - id: empty
    time_zone: UTC
    layers: [{rotation: {type: weekly, handoff: "09:00", start: "2030-01-01"}, users: [ana]}]
channels: [{id: mon, name: Monitoring, kind: automatic}]
services: [{id: web, name: Web, team: ops, escalation_policy: ops}]
integrations:
  - id: gen
    name: Scripts
    type: generic
    key: gen-key-0123456789abcdef
    channel: mon
    service: web
"""


@pytest.fixture
def wk(db_url: str) -> Iterator[Harness]:
    with running(db_url, CONFIG) as h:
        yield h


def metric(wk: Harness, line_start: str) -> float:
    text = wk.client.get("/metrics").text
    for line in text.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{line_start} not in /metrics:\n{text}")


def test_timers_no_engine_advanced_show_as_overdue(wk: Harness) -> None:
    wk.generic(summary="web down", dedup="down")
    assert metric(wk, 'watchkeeper_timers_overdue{kind="escalate"}') == 0
    wk.clock.advance(120)  # nobody ran the engine for two minutes
    assert metric(wk, 'watchkeeper_timers_overdue{kind="escalate"}') == 1
    wk.engine.tick()
    assert metric(wk, 'watchkeeper_timers_overdue{kind="escalate"}') == 0
    assert metric(wk, "watchkeeper_alerts_firing") == 1


def test_a_level_that_resolves_to_nobody_is_counted(wk: Harness) -> None:
    wk.generic(summary="web down", dedup="down")
    wk.advance(0)  # first line paged
    wk.advance(6 * 60)  # second line: a schedule that starts in 2030
    assert metric(wk, 'watchkeeper_escalation_problems_total{policy="ops",level=') >= 1
