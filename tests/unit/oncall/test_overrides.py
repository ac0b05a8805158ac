"""Overrides: add, replace (only while the replaced person is on duty), remove, swap, in order."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from watchkeeper.oncall.model import Schedule
from watchkeeper.oncall.parsing import parse_schedule
from watchkeeper.oncall.timeline import oncall_at, shifts

NY = "America/New_York"


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(NY)).astimezone(UTC)


def with_overrides(*overrides: dict[str, Any]) -> Schedule:
    """Daily 09:00 turns from Sunday 1 March 2026: alice, bob (Mon 2nd), carol (Tue 3rd), ..."""
    rotation = {"type": "daily", "handoff": "09:00", "start": "2026-03-01"}
    return parse_schedule(
        {
            "id": "s",
            "time_zone": NY,
            "layers": [{"rotation": rotation, "users": ["alice", "bob", "carol"]}],
            "overrides": list(overrides),
        }
    )


def span(start: str, end: str, **what: Any) -> dict[str, Any]:
    return {**what, "from": start, "to": end}  # wall times without offset: New York local


MONDAY_NOON_TO_TWO = ("2026-03-02T12:00", "2026-03-02T14:00")
MONDAY_TO_TUESDAY_NOON = ("2026-03-02T12:00", "2026-03-03T12:00")

CASES = [
    ([span(*MONDAY_NOON_TO_TWO, user="dave")], local(2026, 3, 2, 13), ["bob", "dave"]),
    ([span(*MONDAY_NOON_TO_TWO, user="dave")], local(2026, 3, 2, 11, 59), ["bob"]),
    ([span(*MONDAY_NOON_TO_TWO, user="dave")], local(2026, 3, 2, 14), ["bob"]),
    ([span(*MONDAY_NOON_TO_TWO, user="bob")], local(2026, 3, 2, 13), ["bob"]),
    ([span("2026-02-27", "2026-03-01", user="dave")], local(2026, 2, 28), ["dave"]),
    (
        [span(*MONDAY_TO_TUESDAY_NOON, user="erin", replaces="bob")],
        local(2026, 3, 2, 13),
        ["erin"],
    ),
    (
        [span(*MONDAY_TO_TUESDAY_NOON, user="erin", replaces="bob")],
        local(2026, 3, 3, 10),
        ["carol"],
    ),
    (
        [
            span(*MONDAY_NOON_TO_TWO, user="dave"),
            span(*MONDAY_NOON_TO_TWO, user="dave", replaces="bob"),
        ],
        local(2026, 3, 2, 13),
        ["dave"],
    ),
    (
        [
            span(*MONDAY_NOON_TO_TWO, user="dave"),
            span(*MONDAY_NOON_TO_TWO, user="erin", replaces="dave"),
        ],
        local(2026, 3, 2, 13),
        ["bob", "erin"],
    ),
    ([span(*MONDAY_NOON_TO_TWO, remove="bob")], local(2026, 3, 2, 13), []),
    ([span(*MONDAY_NOON_TO_TWO, remove="alice")], local(2026, 3, 2, 13), ["bob"]),
    (
        [span(*MONDAY_NOON_TO_TWO, remove="dave"), span(*MONDAY_NOON_TO_TWO, user="dave")],
        local(2026, 3, 2, 13),
        ["bob", "dave"],
    ),
    (
        [span(*MONDAY_NOON_TO_TWO, user="dave"), span(*MONDAY_NOON_TO_TWO, remove="dave")],
        local(2026, 3, 2, 13),
        ["bob"],
    ),
    (
        [span("2026-03-02T09:00", "2026-03-05T09:00", swap=["alice", "bob"])],
        local(2026, 3, 2, 10),
        ["alice"],
    ),
    (
        [span("2026-03-02T09:00", "2026-03-05T09:00", swap=["alice", "bob"])],
        local(2026, 3, 3, 10),
        ["carol"],
    ),
    (
        [span("2026-03-02T09:00", "2026-03-05T09:00", swap=["alice", "bob"])],
        local(2026, 3, 4, 10),
        ["bob"],
    ),
    (
        [span("2026-03-02T09:00", "2026-03-05T09:00", swap=["alice", "bob"])],
        local(2026, 3, 5, 10),
        ["bob"],
    ),
    (
        [span(*MONDAY_NOON_TO_TWO, user="alice"), span(*MONDAY_NOON_TO_TWO, swap=["alice", "bob"])],
        local(2026, 3, 2, 13),
        ["alice", "bob"],
    ),
]
IDS = [
    "add-is-on-duty-in-addition",
    "add-not-yet-started",
    "add-has-ended-at-its-to",
    "add-someone-already-on-duty-lists-them-once",
    "add-when-nobody-is-on-duty",
    "replace-while-the-replaced-person-is-on-duty",
    "replace-does-nothing-while-the-replaced-person-is-off",
    "replace-by-someone-already-on-duty-lists-them-once",
    "replace-an-added-person",
    "remove-the-person-on-duty-leaves-nobody",
    "remove-someone-off-duty-changes-nothing",
    "overrides-apply-in-order-remove-then-add",
    "overrides-apply-in-order-add-then-remove",
    "swap-alice-takes-bobs-turn",
    "swap-leaves-others-alone",
    "swap-bob-takes-alices-turn",
    "swap-has-ended",
    "swap-of-two-people-both-on-duty-keeps-both",
]


@pytest.mark.parametrize(("overrides", "at", "expected"), CASES, ids=IDS)
def test_who_is_on_duty_with_overrides(
    overrides: list[dict[str, Any]], at: datetime, expected: list[str]
) -> None:
    assert oncall_at(with_overrides(*overrides), at) == expected


def test_replace_in_the_middle_of_a_turn_splits_the_shift() -> None:
    schedule = with_overrides(span(*MONDAY_NOON_TO_TWO, user="erin", replaces="bob"))
    found = shifts(schedule, local(2026, 3, 2, 9), local(2026, 3, 3, 9))
    assert [(s.user, s.start, s.end, s.sources) for s in found] == [
        ("bob", local(2026, 3, 2, 9), local(2026, 3, 2, 12), ("layers[0]",)),
        ("erin", local(2026, 3, 2, 12), local(2026, 3, 2, 14), ("overrides[0]",)),
        ("bob", local(2026, 3, 2, 14), local(2026, 3, 3, 9), ("layers[0]",)),
    ]


def test_replace_reaching_past_the_replaced_turn_stops_with_it() -> None:
    schedule = with_overrides(span(*MONDAY_TO_TUESDAY_NOON, user="erin", replaces="bob"))
    found = shifts(schedule, local(2026, 3, 2, 9), local(2026, 3, 3, 18))
    assert [(s.user, s.start, s.end) for s in found] == [
        ("bob", local(2026, 3, 2, 9), local(2026, 3, 2, 12)),
        ("erin", local(2026, 3, 2, 12), local(2026, 3, 3, 9)),
        ("carol", local(2026, 3, 3, 9), local(2026, 3, 3, 18)),
    ]


def test_an_added_person_gets_a_shift_beside_the_layers() -> None:
    schedule = with_overrides(span(*MONDAY_NOON_TO_TWO, user="dave"))
    found = shifts(schedule, local(2026, 3, 2, 10), local(2026, 3, 2, 16))
    assert [(s.user, s.start, s.end, s.sources) for s in found] == [
        ("bob", local(2026, 3, 2, 10), local(2026, 3, 2, 16), ("layers[0]",)),
        ("dave", local(2026, 3, 2, 12), local(2026, 3, 2, 14), ("overrides[0]",)),
    ]


def test_a_swap_exchanges_whole_turns() -> None:
    schedule = with_overrides(span("2026-03-02T09:00", "2026-03-05T09:00", swap=["alice", "bob"]))
    found = shifts(schedule, local(2026, 3, 2, 9), local(2026, 3, 5, 9))
    assert [(s.user, s.start, s.end, s.sources) for s in found] == [
        ("alice", local(2026, 3, 2, 9), local(2026, 3, 3, 9), ("overrides[0]",)),
        ("carol", local(2026, 3, 3, 9), local(2026, 3, 4, 9), ("layers[0]",)),
        ("bob", local(2026, 3, 4, 9), local(2026, 3, 5, 9), ("overrides[0]",)),
    ]


def test_the_issue_example_as_written() -> None:
    """The product issue's overrides, taken literally (their -05:00 offsets included)."""
    schedule = parse_schedule(
        {
            "id": "payments-primary",
            "time_zone": NY,
            "layers": [
                {
                    "rotation": {"type": "daily", "handoff": "09:00", "start": "2026-03-01"},
                    "users": ["alice", "bob", "carol"],
                }
            ],
            "overrides": [
                {
                    "user": "dave",
                    "from": "2026-03-10T00:00:00-05:00",
                    "to": "2026-03-11T00:00:00-05:00",
                },
                {
                    "user": "erin",
                    "replaces": "alice",
                    "from": "2026-03-12T09:00:00-05:00",
                    "to": "2026-03-13T09:00:00-05:00",
                },
                {
                    "remove": "bob",
                    "from": "2026-03-14T00:00:00-05:00",
                    "to": "2026-03-15T00:00:00-05:00",
                },
            ],
        }
    )
    # -05:00 is EST; after 8 March New York is on EDT, so these instants fall an hour later.
    assert oncall_at(schedule, local(2026, 3, 10, 12)) == ["alice", "dave"]
    assert oncall_at(schedule, local(2026, 3, 11, 0, 30)) == ["alice", "dave"]
    # Carol, not alice, holds 12 March, so erin only covers alice's first hour on the 13th.
    assert oncall_at(schedule, local(2026, 3, 12, 12)) == ["carol"]
    assert oncall_at(schedule, local(2026, 3, 13, 9, 30)) == ["erin"]
    assert oncall_at(schedule, local(2026, 3, 13, 10)) == ["alice"]
    # Bob holds 14 March from 09:00; he is removed until 01:00 EDT on the 15th.
    assert oncall_at(schedule, local(2026, 3, 14, 12)) == []
    assert oncall_at(schedule, local(2026, 3, 15, 1)) == ["bob"]
