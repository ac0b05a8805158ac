"""An override made at run time (API) pages the person it puts on duty, not only the answers of
`oncall`; deleting it pages the scheduled person again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from tests.support.oncall import OnCall, oncall

MONDAY_10_UTC = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

CONFIG = """
teams: [{id: ops, name: Ops, members: [ana, ben]}]
users:
  - id: ana
    name: Ana
    email: ana@example.com
    time_zone: UTC
    contacts: [{id: ana-hook, type: webhook, url: "{hook}/ana"}]
    notification_rules: [{contact: ana-hook, after: 0s}]
  - id: ben
    name: Ben
    email: ben@example.com
    time_zone: UTC
    contacts: [{id: ben-hook, type: webhook, url: "{hook}/ben"}]
    notification_rules: [{contact: ben-hook, after: 0s}]
schedules:
  - id: primary
    time_zone: UTC
    layers:
      - rotation: {type: weekly, handoff: "09:00", start: "2026-03-02"}
        users: [ana]
escalation_policies:
  - id: ops
    name: Ops
    levels: [{role: first-line, targets: ["schedule:primary"], delay: 30m}]
channels: [{id: scripts, name: Scripts, kind: automatic}]
services: [{id: web, name: Web, team: ops, escalation_policy: ops}]
integrations:
  - {id: gen, name: Scripts, type: generic, key: gen-key-0123456789abcdef, channel: scripts,
     service: web, group_by: "{source}"}
outbound: {allow: ["127.0.0.0/8"]}
"""


@pytest.fixture
def oc(db_url: str) -> Iterator[OnCall]:
    with oncall(db_url, CONFIG, start=MONDAY_10_UTC) as o:
        yield o


def test_a_runtime_override_pages_its_person_and_deleting_it_restores_the_schedule(
    oc: OnCall,
) -> None:
    made = oc.h.api(
        "POST",
        "/api/v1/schedules/primary/overrides",
        json={
            "user": "ben",
            "replaces": "ana",
            "from": "2026-03-02T09:30:00Z",
            "to": "2026-03-02T12:00:00Z",
        },
    )
    assert made.status_code == 201, made.text
    oc.alert("disk")
    assert [r.path for r in oc.http.requests] == ["/ben"]

    override_id = made.json()["id"]
    assert (
        oc.h.api("DELETE", f"/api/v1/schedules/primary/overrides/{override_id}").status_code == 200
    )
    oc.alert("cpu")  # another source: another ticket
    assert [r.path for r in oc.http.requests] == ["/ben", "/ana"]
