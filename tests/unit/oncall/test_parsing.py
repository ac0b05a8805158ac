"""Schedules from YAML: the public contract, and errors that name the bad field."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from watchkeeper.oncall.fields import InvalidSchedule
from watchkeeper.oncall.model import (
    AddOverride,
    Layer,
    RemoveOverride,
    ReplaceOverride,
    Restriction,
    Rotation,
    SwapOverride,
)
from watchkeeper.oncall.parsing import parse_schedule

ISSUE_EXAMPLE = """
schedules:
  - id: payments-primary
    time_zone: America/New_York
    layers:
      - rotation: {type: daily, handoff: "09:00", start: "2026-03-01"}
        users: [alice, bob, carol]
        restrictions: [{days: [mon, tue, wed, thu, fri], from: "09:00", to: "18:00"}]
    overrides:
      - {user: dave, from: "2026-03-10T00:00:00-05:00", to: "2026-03-11T00:00:00-05:00"}
      - {user: erin, replaces: alice,
         from: "2026-03-12T09:00:00-05:00", to: "2026-03-13T09:00:00-05:00"}
      - {remove: bob, from: "2026-03-14T00:00:00-05:00", to: "2026-03-15T00:00:00-05:00"}
"""


def utc(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def test_the_issue_example_parses_into_domain_types() -> None:
    (data,) = yaml.safe_load(ISSUE_EXAMPLE)["schedules"]
    schedule = parse_schedule(data)
    assert schedule.id == "payments-primary"
    assert schedule.name == "payments-primary"  # no name given: the id stands in
    assert schedule.time_zone == ZoneInfo("America/New_York")
    assert schedule.layers == (
        Layer(
            rotation=Rotation(type="daily", handoff=time(9), start=date(2026, 3, 1)),
            users=("alice", "bob", "carol"),
            restrictions=(Restriction(days=frozenset(range(5)), start=time(9), end=time(18)),),
        ),
    )
    assert schedule.overrides == (
        AddOverride("dave", utc(2026, 3, 10, 5), utc(2026, 3, 11, 5)),
        ReplaceOverride("erin", "alice", utc(2026, 3, 12, 14), utc(2026, 3, 13, 14)),
        RemoveOverride("bob", utc(2026, 3, 14, 5), utc(2026, 3, 15, 5)),
    )


@pytest.mark.parametrize(
    ("rotation", "expected"),
    [
        (
            {"type": "custom", "length": "12h", "handoff": "21:30", "start": "2026-03-01"},
            Rotation("custom", time(21, 30), date(2026, 3, 1), timedelta(hours=12)),
        ),
        (
            {"type": "weekly", "handoff": "9:05", "start": date(2026, 3, 2)},
            Rotation("weekly", time(9, 5), date(2026, 3, 2)),
        ),
        (
            {"type": "custom", "length": "1d12h", "handoff": "00:00", "start": "2026-03-01"},
            Rotation("custom", time(0), date(2026, 3, 1), timedelta(hours=36)),
        ),
        (
            {
                "type": "custom",
                "length": timedelta(hours=6),
                "handoff": time(6, 30),
                "start": date(2026, 3, 1),
            },
            Rotation("custom", time(6, 30), date(2026, 3, 1), timedelta(hours=6)),
        ),
    ],
    ids=[
        "custom-with-length",
        "yaml-date-and-one-digit-hour",
        "length-in-two-units",
        "python-values-from-a-dumped-model",
    ],
)
def test_rotations(rotation: dict[str, Any], expected: Rotation) -> None:
    data = {"id": "s", "time_zone": "UTC", "layers": [{"rotation": rotation, "users": ["a"]}]}
    assert parse_schedule(data).layers[0].rotation == expected


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (
            {"swap": ["alice", "bob"], "from": "2026-03-02T09:00", "to": "2026-03-03T09:00"},
            SwapOverride("alice", "bob", utc(2026, 3, 2, 14), utc(2026, 3, 3, 14)),
        ),
        (
            {"user": "dave", "from": "2026-03-08T02:30", "to": "2026-03-08T12:00Z"},
            AddOverride("dave", utc(2026, 3, 8, 7), utc(2026, 3, 8, 12)),
        ),
        (
            {"remove": "bob", "from": date(2026, 3, 2), "to": datetime(2026, 3, 3, tzinfo=UTC)},
            RemoveOverride("bob", utc(2026, 3, 2, 5), utc(2026, 3, 3)),
        ),
    ],
    ids=["swap-in-local-time", "local-time-in-the-gap-and-z-suffix", "yaml-date-and-datetime"],
)
def test_overrides(override: dict[str, Any], expected: object) -> None:
    data = {"id": "s", "time_zone": "America/New_York", "layers": [], "overrides": [override]}
    assert parse_schedule(data).overrides == (expected,)


def example() -> Any:
    (data,) = yaml.safe_load(ISSUE_EXAMPLE)["schedules"]
    return copy.deepcopy(data)


def broken(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """The issue example with one field set to `value` (or removed, when `value` is DELETE)."""
    data: dict[str, Any] = example()
    target: Any = data
    for step in path[:-1]:
        target = target[step]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


DELETE = object()
ROTATION = ("layers", 0, "rotation")
RESTRICTION = ("layers", 0, "restrictions", 0)
CUSTOM = {"type": "custom", "handoff": "09:00", "start": "2026-03-01"}

ERRORS = [
    (("id",), "", "id", "non-empty string"),
    (("name",), 42, "name", "non-empty string"),
    (("time_zone",), "Mars/Olympus_Mons", "time_zone", "unknown time zone"),
    (("time_zone",), "../../etc/passwd", "time_zone", "unknown time zone"),
    (("layers",), DELETE, "layers", "required"),
    (("layer",), [], "layer", "unknown field; allowed: id, time_zone, layers, name, overrides"),
    ((*ROTATION, "type"), "monthly", "layers[0].rotation.type", "allowed: hourly, daily"),
    ((*ROTATION, "type"), "custom", "layers[0].rotation.length", "required for a custom"),
    ((*ROTATION, "length"), "2d", "layers[0].rotation.length", "only for type custom"),
    (("layers", 0, "rotation"), {**CUSTOM, "length": "1.5h"}, "layers[0].rotation.length", "1h30m"),
    (
        ("layers", 0, "rotation"),
        {**CUSTOM, "length": "0s"},
        "layers[0].rotation.length",
        "positive",
    ),
    (
        ("layers", 0, "rotation"),
        {**CUSTOM, "length": 12},
        "layers[0].rotation.length",
        "needs a unit",
    ),
    ((*ROTATION, "handoff"), "9am", "layers[0].rotation.handoff", '"HH:MM"'),
    ((*ROTATION, "handoff"), "24:00", "layers[0].rotation.handoff", '"HH:MM"'),
    ((*ROTATION, "handoff"), 540, "layers[0].rotation.handoff", "quoted"),
    ((*ROTATION, "start"), "March 1st", "layers[0].rotation.start", "YYYY-MM-DD"),
    ((*ROTATION, "start"), DELETE, "layers[0].rotation.start", "required"),
    (("layers", 0, "users"), [], "layers[0].users", "at least one user"),
    (("layers", 0, "users"), ["alice", 7], "layers[0].users[1]", "user name"),
    ((*RESTRICTION, "days"), ["mon", "funday"], "layers[0].restrictions[0].days[1]", "funday"),
    ((*RESTRICTION, "from"), "25:00", "layers[0].restrictions[0].from", '"HH:MM"'),
    ((*RESTRICTION, "to"), DELETE, "layers[0].restrictions[0].to", "required"),
    (("overrides", 0, "to"), "2026-03-09T00:00:00-05:00", "overrides[0].to", "after from"),
    (("overrides", 0, "to"), "2026-03-10T00:00:00-05:00", "overrides[0].to", "after from"),
    (("overrides", 1, "from"), "yesterday", "overrides[1].from", "ISO 8601"),
    (("overrides", 2, "user"), "zoe", "overrides[2].user", "unknown field"),
    (("overrides", 0), {"from": "2026-03-10", "to": "2026-03-11"}, "overrides[0]", "{remove}"),
    (("overrides", 0, "user"), ["a", "b"], "overrides[0].user", "user name"),
]
ERROR_IDS = [
    "empty-id",
    "name-not-text",
    "unknown-zone",
    "zone-path-traversal",
    "missing-layers",
    "misspelt-field",
    "unknown-rotation-type",
    "custom-without-length",
    "length-on-a-daily-rotation",
    "length-with-a-fraction",
    "length-zero",
    "length-a-bare-number",
    "handoff-not-hh-mm",
    "handoff-24-00",
    "handoff-read-by-yaml-as-a-number",
    "bad-start-date",
    "missing-start",
    "no-users",
    "user-not-a-string",
    "unknown-day",
    "bad-restriction-time",
    "restriction-without-to",
    "override-to-before-from",
    "override-to-equal-from",
    "override-bad-from",
    "remove-with-a-user",
    "override-of-no-kind",
    "override-user-a-list",
]


@pytest.mark.parametrize(("path", "value", "field", "reason"), ERRORS, ids=ERROR_IDS)
def test_bad_input_names_the_field(
    path: tuple[str | int, ...], value: Any, field: str, reason: str
) -> None:
    with pytest.raises(InvalidSchedule) as caught:
        parse_schedule(broken(path, value), path="schedules[0]")
    assert caught.value.field == f"schedules[0].{field}"
    assert reason in caught.value.reason
    assert str(caught.value).startswith(f"schedules[0].{field}: ")
    assert isinstance(caught.value, ValueError)


def test_a_display_name_is_kept() -> None:
    data = example() | {"name": "Payments (primary)"}
    assert parse_schedule(data).name == "Payments (primary)"


def test_a_schedule_that_is_not_a_mapping() -> None:
    with pytest.raises(InvalidSchedule, match=r"^schedule: expected a mapping"):
        parse_schedule(["not", "a", "schedule"])
