"""The schedules section: the shapes of the issue's YAML validate, every mistake names its YAML
path, and what `apply` stores (the model dumped as JSON) is what oncall.parse_schedule reads."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml

from watchkeeper.config import check_config, load_config
from watchkeeper.oncall import (
    AddOverride,
    RemoveOverride,
    ReplaceOverride,
    SwapOverride,
    oncall_at,
    parse_schedule,
)

ISSUE_YAML = """\
users:
  - {id: alice, name: Alice, email: alice@example.com, time_zone: Europe/Berlin}
  - {id: bob, name: Bob, email: bob@example.com, time_zone: America/New_York}
  - {id: carol, name: Carol, email: carol@example.com, time_zone: America/New_York}
  - {id: dave, name: Dave, email: dave@example.com, time_zone: America/New_York}
  - {id: erin, name: Erin, email: erin@example.com, time_zone: America/New_York}
  - {id: frank, name: Frank, email: frank@example.com, time_zone: UTC}  # on no schedule
  - {id: gina, name: Gina, email: gina@example.com, time_zone: UTC}  # on no schedule
schedules:
  - id: payments-primary
    time_zone: America/New_York
    layers:
      - rotation: {type: daily, handoff: "09:00", start: "2026-03-01"}
        users: [alice, bob, carol]
        restrictions: [{days: [mon, tue, wed, thu, fri], from: "09:00", to: "18:00"}]
    overrides:                   # add dave; replace alice by erin; remove bob
      - {user: dave, from: "2026-03-10T00:00:00-05:00", to: "2026-03-11T00:00:00-05:00"}
      - {user: erin, replaces: alice,
         from: "2026-03-12T09:00:00-05:00", to: "2026-03-13T09:00:00-05:00"}
      - {remove: bob, from: "2026-03-14T00:00:00-05:00", to: "2026-03-15T00:00:00-05:00"}
      - {swap: [alice, bob], from: "2026-03-16T09:00:00-04:00", to: "2026-03-17T09:00:00-04:00"}
"""


def _data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(ISSUE_YAML)
    return data


def _errors(data: dict[str, Any]) -> list[tuple[str, str]]:
    return check_config(yaml.safe_dump(data, sort_keys=False), source="t.yaml")


def test_the_issues_shapes_validate() -> None:
    config = load_config(ISSUE_YAML, source="issue.yaml")
    (schedule,) = config.schedules
    assert schedule.name is None  # optional: people see the id
    assert [o.kind for o in schedule.overrides] == ["add", "replace", "remove", "swap"]
    assert schedule.overrides[2].remove == "bob" and schedule.overrides[2].user is None
    assert schedule.overrides[3].swap == ["alice", "bob"]


def test_the_stored_spec_is_parse_schedules_input() -> None:
    config = load_config(ISSUE_YAML, source="issue.yaml")
    stored = config.model_dump(mode="json", by_alias=True)["schedules"][0]
    # No null keys: each override has exactly the keys of its shape, a rotation no `length`.
    assert [sorted(o) for o in stored["overrides"]] == [
        ["from", "to", "user"],
        ["from", "replaces", "to", "user"],
        ["from", "remove", "to"],
        ["from", "swap", "to"],
    ]
    assert stored["layers"][0]["rotation"] == {
        "type": "daily",
        "handoff": "09:00",
        "start": "2026-03-01",
    }
    schedule = parse_schedule(stored, path="schedules[0]")
    assert schedule.name == "payments-primary"
    assert [type(o) for o in schedule.overrides] == [
        AddOverride,
        ReplaceOverride,
        RemoveOverride,
        SwapOverride,
    ]
    assert oncall_at(schedule, datetime(2026, 3, 10, 16, tzinfo=UTC)) == ["alice", "dave"]
    # And the file read back from storage is the same configuration.
    assert load_config(yaml.safe_dump({"users": _data()["users"], "schedules": [stored]}),
                       source="stored") == config  # fmt: skip


def test_restrictions_without_days_mean_every_day() -> None:
    data = _data()
    data["schedules"][0]["layers"][0]["restrictions"] = [{"from": "18:00", "to": "09:00"}]
    config = load_config(yaml.safe_dump(data), source="t.yaml")
    restriction = config.schedules[0].layers[0].restrictions[0]
    assert restriction.days == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    stored = config.model_dump(mode="json", by_alias=True)["schedules"][0]
    parse_schedule(stored)


def test_custom_rotation_keeps_its_length() -> None:
    data = _data()
    data["schedules"][0]["layers"][0]["rotation"] = {
        "type": "custom",
        "length": "12h",
        "handoff": "08:00",
        "start": "2026-03-02",
    }
    config = load_config(yaml.safe_dump(data), source="t.yaml")
    stored = config.model_dump(mode="json", by_alias=True)["schedules"][0]
    assert stored["layers"][0]["rotation"]["length"] == "12h"
    assert parse_schedule(stored).layers[0].rotation.length is not None


P = "schedules[0].overrides"
CASES: list[tuple[str, int, dict[str, Any], str, str]] = [
    # (id, override index, replacement keys, expected path, part of the message)
    ("old-remove-true", 2, {"user": "bob", "remove": True}, f"{P}[2].remove", "names the user"),
    ("remove-and-user", 2, {"user": "dave", "remove": "bob"}, f"{P}[2]", "only `from` and `to`"),
    ("nobody", 0, {}, f"{P}[0]", "an override is one of"),
    ("replaces-alone", 1, {"replaces": "alice"}, f"{P}[1]", "`replaces` needs `user`"),
    ("swap-of-one", 3, {"swap": ["alice"]}, f"{P}[3].swap", "at least 2"),
    ("swap-of-three", 3, {"swap": ["alice", "bob", "carol"]}, f"{P}[3].swap", "at most 2"),
    ("swap-with-self", 3, {"swap": ["bob", "bob"]}, f"{P}[3].swap", "two different users"),
    ("swap-and-user", 3, {"swap": ["alice", "bob"], "user": "dave"}, f"{P}[3]", "not `user`"),
    ("unknown-user", 0, {"user": "zed"}, f"{P}[0].user", "unknown user 'zed'"),
    ("unknown-replaced", 1, {"user": "erin", "replaces": "alise"}, f"{P}[1].replaces",
     "did you mean 'alice'"),
    ("unknown-removed", 2, {"remove": "zed"}, f"{P}[2].remove", "unknown user 'zed'"),
    ("unknown-swapped", 3, {"swap": ["alice", "zed"]}, f"{P}[3].swap[1]", "unknown user 'zed'"),
    ("replaces-off-schedule", 1, {"user": "alice", "replaces": "frank"}, f"{P}[1].replaces",
     "never on call in this schedule"),
    ("remove-off-schedule", 2, {"remove": "frank"}, f"{P}[2].remove", "never on call"),
    ("swap-off-schedule", 3, {"swap": ["frank", "zed"]}, f"{P}[3].swap[1]", "unknown user"),
    ("swap-of-outsiders", 3, {"swap": ["frank", "gina"]}, f"{P}[3].swap",
     "neither 'frank' nor 'gina'"),
    ("swap-with-an-outsider", 3, {"swap": ["alice", "frank"]}, "", ""),
]  # fmt: skip


@pytest.mark.parametrize(
    ("index", "keys", "path", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_each_override_mistake_names_its_path(
    index: int, keys: dict[str, Any], path: str, message: str
) -> None:
    data = copy.deepcopy(_data())
    old = data["schedules"][0]["overrides"][index]
    data["schedules"][0]["overrides"][index] = {"from": old["from"], "to": old["to"], **keys}
    if not path:
        assert _errors(data) == []
        return
    found = [m for p, m in _errors(data) if p == path]
    assert any(message in m for m in found), (found, _errors(data))


def test_removing_someone_an_override_added_is_fine() -> None:
    data = _data()
    data["schedules"][0]["overrides"].append(
        {"remove": "dave", "from": "2026-03-10T12:00:00-05:00", "to": "2026-03-11T00:00:00-05:00"}
    )
    assert _errors(data) == []


def test_override_times_need_an_offset_and_an_order() -> None:
    data = _data()
    data["schedules"][0]["overrides"][0]["from"] = "2026-03-10T00:00:00"
    data["schedules"][0]["overrides"][1]["to"] = "2026-03-12T09:00:00-05:00"
    errors = dict(_errors(data))
    assert "no UTC offset" in errors[f"{P}[0].from"]
    assert "`to` must be after `from`" in errors[f"{P}[1]"]
