"""Restricted layers: users on duty only inside their windows, including windows over midnight."""

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


def restricted(
    restrictions: list[dict[str, Any]], *, users: list[str], handoff: str = "00:00"
) -> Schedule:
    rotation = {"type": "daily", "handoff": handoff, "start": "2026-03-01"}
    layer = {"rotation": rotation, "users": users, "restrictions": restrictions}
    return parse_schedule({"id": "s", "time_zone": NY, "layers": [layer]})


FRIDAY_NIGHT = [{"days": ["fri"], "from": "18:00", "to": "09:00"}]


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (local(2026, 3, 6, 17, 59), []),
        (local(2026, 3, 6, 18), ["alice"]),
        (local(2026, 3, 6, 23, 59), ["alice"]),
        (local(2026, 3, 7, 0, 0), ["alice"]),
        (local(2026, 3, 7, 8, 59), ["alice"]),
        (local(2026, 3, 7, 9), []),
        (local(2026, 3, 7, 20), []),
        (local(2026, 3, 5, 20), []),
        (local(2026, 3, 6, 2), []),
    ],
    ids=[
        "friday-before-window",
        "friday-1800-opens",
        "friday-before-midnight",
        "saturday-midnight-still-fridays-window",
        "saturday-morning",
        "saturday-0900-closes",
        "saturday-evening-not-a-listed-day",
        "thursday-evening-not-a-listed-day",
        "friday-early-morning-belongs-to-thursday",
    ],
)
def test_window_crossing_midnight_belongs_to_the_day_it_starts(
    at: datetime, expected: list[str]
) -> None:
    assert oncall_at(restricted(FRIDAY_NIGHT, users=["alice"]), at) == expected


@pytest.mark.parametrize(
    ("restrictions", "start", "end", "expected"),
    [
        (
            FRIDAY_NIGHT,
            local(2026, 3, 2),
            local(2026, 3, 9),
            [("alice", local(2026, 3, 6, 18), local(2026, 3, 7, 9))],
        ),
        (
            [{"days": ["sat"], "from": "18:00", "to": "09:00"}],
            local(2026, 3, 2),
            local(2026, 3, 9),
            [("alice", local(2026, 3, 7, 18), local(2026, 3, 8, 9))],
        ),
        (
            [{"days": ["sun"], "from": "00:00", "to": "00:00"}],
            local(2026, 3, 2),
            local(2026, 3, 9),
            [("alice", local(2026, 3, 8), local(2026, 3, 9))],
        ),
        (
            [{"days": ["sun"], "from": "02:30", "to": "04:00"}],
            local(2026, 3, 2),
            local(2026, 3, 9),
            [("alice", local(2026, 3, 8, 3), local(2026, 3, 8, 4))],
        ),
        (
            [{"days": ["mon"], "from": "09:00", "to": "13:00"}, {"from": "12:00", "to": "18:00"}],
            local(2026, 3, 2),
            local(2026, 3, 3),
            [("alice", local(2026, 3, 2, 9), local(2026, 3, 2, 18))],
        ),
        (
            FRIDAY_NIGHT,
            local(2026, 3, 7, 6),
            local(2026, 3, 7, 12),
            [("alice", local(2026, 3, 7, 6), local(2026, 3, 7, 9))],
        ),
    ],
    ids=[
        "friday-night-into-saturday",
        "saturday-night-over-spring-forward-is-14h",
        "from-equal-to-is-a-whole-day",
        "window-opening-in-the-dst-gap-opens-at-0300",
        "overlapping-windows-merge-and-no-days-means-every-day",
        "window-already-open-when-the-range-starts-is-clipped",
    ],
)
def test_restricted_shifts(
    restrictions: list[dict[str, Any]],
    start: datetime,
    end: datetime,
    expected: list[tuple[str, datetime, datetime]],
) -> None:
    found = shifts(restricted(restrictions, users=["alice"]), start, end)
    assert [(s.user, s.start, s.end) for s in found] == expected


def test_handoff_inside_business_hours_splits_the_window_between_users() -> None:
    business = [{"days": ["mon", "tue", "wed", "thu", "fri"], "from": "09:00", "to": "18:00"}]
    schedule = restricted(business, users=["alice", "bob"], handoff="12:00")
    found = shifts(schedule, local(2026, 3, 2), local(2026, 3, 4))
    assert [(s.user, s.start, s.end) for s in found] == [
        ("alice", local(2026, 3, 2, 9), local(2026, 3, 2, 12)),
        ("bob", local(2026, 3, 2, 12), local(2026, 3, 2, 18)),
        ("bob", local(2026, 3, 3, 9), local(2026, 3, 3, 12)),
        ("alice", local(2026, 3, 3, 12), local(2026, 3, 3, 18)),
    ]
