"""Rotations: who holds each turn, hand-offs at local wall time across DST, arithmetic look-ups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from watchkeeper.oncall.model import Schedule
from watchkeeper.oncall.parsing import parse_schedule
from watchkeeper.oncall.timeline import oncall_at, shifts


def one_layer(zone: str, rotation: dict[str, Any], users: list[str]) -> Schedule:
    return parse_schedule(
        {"id": "s", "time_zone": zone, "layers": [{"rotation": rotation, "users": users}]}
    )


def local(zone: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """The instant (UTC) of a wall time that exists exactly once in `zone`."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone)).astimezone(UTC)


NY = "America/New_York"
DAILY = {"type": "daily", "handoff": "09:00", "start": "2026-03-01"}
WEEKLY = {"type": "weekly", "handoff": "09:00", "start": "2026-03-02"}
HOURLY = {"type": "hourly", "handoff": "00:30", "start": "2026-03-01"}
HALF_DAYS = {"type": "custom", "length": "12h", "handoff": "09:00", "start": "2026-03-07"}
ABC = ["alice", "bob", "carol"]

WHO_CASES = [
    (DAILY, ABC, local(NY, 2026, 3, 1, 8, 59), []),
    (DAILY, ABC, local(NY, 2026, 3, 1, 9), ["alice"]),
    (DAILY, ABC, local(NY, 2026, 3, 2, 8, 59), ["alice"]),
    (DAILY, ABC, local(NY, 2026, 3, 2, 9), ["bob"]),
    (DAILY, ABC, local(NY, 2026, 3, 4, 9), ["alice"]),
    (DAILY, ABC, local(NY, 2026, 3, 8, 8, 30), ["alice"]),
    (DAILY, ABC, local(NY, 2026, 3, 8, 9), ["bob"]),
    (DAILY, ABC, local(NY, 2027, 3, 1, 9), ["carol"]),
    (WEEKLY, ["alice", "bob"], local(NY, 2026, 3, 9, 8, 59), ["alice"]),
    (WEEKLY, ["alice", "bob"], local(NY, 2026, 3, 9, 9), ["bob"]),
    (WEEKLY, ["alice", "bob"], local(NY, 2026, 3, 15, 23), ["bob"]),
    (WEEKLY, ["alice", "bob"], local(NY, 2026, 3, 16, 9), ["alice"]),
    (HOURLY, ABC, local(NY, 2026, 3, 1, 0, 29), []),
    (HOURLY, ABC, local(NY, 2026, 3, 1, 1, 29), ["alice"]),
    (HOURLY, ABC, local(NY, 2026, 3, 1, 1, 30), ["bob"]),
    (HOURLY, ABC, local(NY, 2026, 3, 8, 1, 30), ["bob"]),
    (HOURLY, ABC, local(NY, 2026, 3, 8, 3, 30), ["carol"]),
    (HALF_DAYS, ["alice", "bob"], local(NY, 2026, 3, 7, 21), ["bob"]),
    (HALF_DAYS, ["alice", "bob"], local(NY, 2026, 3, 8, 9, 30), ["bob"]),
    (HALF_DAYS, ["alice", "bob"], local(NY, 2026, 3, 8, 10), ["alice"]),
]
WHO_IDS = [
    "daily-before-start-nobody",
    "daily-first-turn-first-user",
    "daily-first-turn-until-next-handoff",
    "daily-second-user-at-handoff",
    "daily-wraps-around",
    "daily-spring-forward-day-before-handoff",
    "daily-spring-forward-day-handoff-at-0900-edt",
    "daily-a-year-later",
    "weekly-last-minute-of-first-week",
    "weekly-second-week",
    "weekly-sunday-night-still-second-week",
    "weekly-wraps-around",
    "hourly-before-first-handoff",
    "hourly-first-turn",
    "hourly-second-turn",
    "hourly-before-spring-forward",
    "hourly-counts-elapsed-hours-over-the-gap",
    "custom-12h-second-turn",
    "custom-12h-elapsed-so-not-yet-at-0930-edt",
    "custom-12h-hands-off-at-1000-edt-after-spring-forward",
]


@pytest.mark.parametrize(("rotation", "users", "at", "expected"), WHO_CASES, ids=WHO_IDS)
def test_who_holds_the_turn(
    rotation: dict[str, Any], users: list[str], at: datetime, expected: list[str]
) -> None:
    assert oncall_at(one_layer(NY, rotation, users), at) == expected


def daily(handoff: str, start: str) -> dict[str, Any]:
    return {"type": "daily", "handoff": handoff, "start": start}


DST_CASES = [
    # zone, rotation, a hand-off instant (UTC), the shift's length from there
    (NY, daily("09:00", "2026-03-01"), local(NY, 2026, 3, 7, 9), 23),
    (NY, daily("09:00", "2026-03-01"), local(NY, 2026, 10, 31, 9), 25),
    ("Europe/Berlin", daily("09:00", "2026-03-01"), local("Europe/Berlin", 2026, 3, 28, 9), 23),
    ("Europe/Berlin", daily("09:00", "2026-03-01"), local("Europe/Berlin", 2026, 10, 24, 9), 25),
    (
        "Australia/Sydney",
        daily("09:00", "2026-03-01"),
        local("Australia/Sydney", 2026, 10, 3, 9),
        23,
    ),
    (
        "Australia/Sydney",
        daily("09:00", "2026-03-01"),
        local("Australia/Sydney", 2026, 4, 4, 9),
        25,
    ),
    ("Asia/Kolkata", daily("09:00", "2026-03-01"), local("Asia/Kolkata", 2026, 3, 7, 9), 24),
    ("Asia/Kolkata", daily("09:00", "2026-03-01"), local("Asia/Kolkata", 2026, 10, 31, 9), 24),
    (NY, WEEKLY, local(NY, 2026, 3, 2, 9), 7 * 24 - 1),
    (NY, daily("02:30", "2026-03-01"), local(NY, 2026, 3, 7, 2, 30), 23.5),
    (NY, daily("02:30", "2026-03-01"), datetime(2026, 3, 8, 7, tzinfo=UTC), 23.5),
    (NY, daily("01:30", "2026-03-01"), datetime(2026, 10, 31, 5, 30, tzinfo=UTC), 24),
    (NY, daily("01:30", "2026-03-01"), datetime(2026, 11, 1, 5, 30, tzinfo=UTC), 25),
    ("Europe/Berlin", daily("02:30", "2026-03-01"), datetime(2026, 3, 29, 1, tzinfo=UTC), 23.5),
    ("Europe/Berlin", daily("02:30", "2026-03-01"), datetime(2026, 10, 25, 0, 30, tzinfo=UTC), 25),
    ("Australia/Sydney", daily("02:30", "2026-03-01"), datetime(2026, 10, 3, 16, tzinfo=UTC), 23.5),
    (
        "Australia/Sydney",
        daily("02:30", "2026-03-01"),
        datetime(2026, 4, 4, 15, 30, tzinfo=UTC),
        25,
    ),
    ("Asia/Kolkata", daily("02:30", "2026-03-01"), datetime(2026, 3, 7, 21, tzinfo=UTC), 24),
]
DST_IDS = [
    "new-york-spring-forward-23h",
    "new-york-fall-back-25h",
    "berlin-spring-forward-23h",
    "berlin-fall-back-25h",
    "sydney-october-spring-forward-23h",
    "sydney-april-fall-back-25h",
    "kolkata-march-24h",
    "kolkata-october-24h",
    "new-york-weekly-over-spring-forward-167h",
    "new-york-0230-day-before-gap-ends-at-0300-edt",
    "new-york-0230-handoff-in-gap-is-0300-edt",
    "new-york-0130-day-before-repeat-ends-at-first-0130",
    "new-york-0130-repeated-handoff-at-first-0130-edt",
    "berlin-0230-handoff-in-gap-is-0300-cest",
    "berlin-0230-repeated-handoff-at-first-0230-cest",
    "sydney-0230-handoff-in-october-gap-is-0300-aedt",
    "sydney-0230-repeated-handoff-at-first-0230-aedt",
    "kolkata-0230-every-day",
]


@pytest.mark.parametrize(("zone", "rotation", "handoff", "hours"), DST_CASES, ids=DST_IDS)
def test_shift_lengths_across_dst(
    zone: str, rotation: dict[str, Any], handoff: datetime, hours: float
) -> None:
    schedule = one_layer(zone, rotation, ["alice", "bob", "carol"])
    found = shifts(schedule, handoff - timedelta(days=2), handoff + timedelta(days=9))
    starting = [shift for shift in found if shift.start == handoff]
    assert len(starting) == 1, [(s.user, s.start) for s in found]
    assert starting[0].end - starting[0].start == timedelta(hours=hours)


def test_consecutive_daily_shifts_leave_no_gap_or_overlap_across_dst() -> None:
    schedule = one_layer(NY, daily("02:30", "2026-03-01"), ["alice", "bob"])
    found = shifts(schedule, local(NY, 2026, 3, 1), local(NY, 2026, 11, 30))
    assert all(a.end == b.start for a, b in pairwise(found))
    assert [s.user for s in found[:4]] == ["alice", "bob", "alice", "bob"]


@pytest.mark.timeout(5)
@pytest.mark.parametrize(
    ("rotation", "expected"),
    [
        ({"type": "hourly", "handoff": "00:00", "start": "0001-01-02"}, "alice"),
        ({"type": "daily", "handoff": "00:00", "start": "0001-01-02"}, "bob"),
        ({"type": "custom", "length": "1m", "handoff": "00:00", "start": "0001-01-02"}, "alice"),
    ],
    ids=["hourly", "daily", "custom-one-minute"],
)
def test_a_window_millennia_after_the_start_is_computed_not_iterated(
    rotation: dict[str, Any], expected: str
) -> None:
    # Billions of turns separate start and window: walking them would take hours, not seconds.
    schedule = one_layer("UTC", rotation, ABC)
    start = datetime(9998, 1, 1, tzinfo=UTC)
    week = shifts(schedule, start, start + timedelta(days=7))
    assert week[0].user == expected
    assert week[0].start == start
    assert week[-1].end == start + timedelta(days=7)
    assert oncall_at(schedule, start) == [expected]
