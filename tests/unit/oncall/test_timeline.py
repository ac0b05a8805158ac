"""Whole schedules: layer precedence, follow-the-sun, merging and clipping of final shifts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from watchkeeper.oncall.model import Schedule
from watchkeeper.oncall.parsing import parse_schedule
from watchkeeper.oncall.timeline import oncall_at, shifts

NY = "America/New_York"
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(NY)).astimezone(UTC)


def layer(
    users: list[str], *, start: str = "2026-03-01", window: dict[str, Any] | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rotation": {"type": "daily", "handoff": "09:00", "start": start},
        "users": users,
    }
    if window is not None:
        out["restrictions"] = [window]
    return out


def schedule(*layers: dict[str, Any], zone: str = NY) -> Schedule:
    return parse_schedule({"id": "s", "time_zone": zone, "layers": list(layers)})


BUSINESS: dict[str, Any] = {"days": WEEKDAYS, "from": "09:00", "to": "18:00"}


@pytest.mark.parametrize(
    ("layers", "at", "expected"),
    [
        ([layer(["alice"]), layer(["bob"], window=BUSINESS)], local(2026, 3, 2, 10), ["bob"]),
        ([layer(["alice"]), layer(["bob"], window=BUSINESS)], local(2026, 3, 2, 20), ["alice"]),
        ([layer(["alice"]), layer(["bob"], window=BUSINESS)], local(2026, 3, 7, 10), ["alice"]),
        ([layer(["bob"], window=BUSINESS), layer(["alice"])], local(2026, 3, 2, 10), ["alice"]),
        ([layer(["alice"]), layer(["bob"], start="2026-04-01")], local(2026, 3, 20), ["alice"]),
        ([layer(["alice"]), layer(["bob"], start="2026-04-01")], local(2026, 4, 2), ["bob"]),
        ([layer(["alice"], start="2026-04-01")], local(2026, 3, 20), []),
        ([], local(2026, 3, 20), []),
    ],
    ids=[
        "later-layer-wins-inside-its-window",
        "earlier-layer-shows-through-outside-the-window",
        "earlier-layer-shows-through-on-the-weekend",
        "a-later-unrestricted-layer-hides-the-earlier-one",
        "earlier-layer-shows-through-before-the-later-one-starts",
        "later-layer-wins-once-started",
        "nobody-before-the-only-layer-starts",
        "no-layers-nobody",
    ],
)
def test_layer_precedence(layers: list[dict[str, Any]], at: datetime, expected: list[str]) -> None:
    assert oncall_at(schedule(*layers), at) == expected


def test_follow_the_sun_layers_hand_over_around_the_clock() -> None:
    sun = schedule(
        layer(["apac"], window={"from": "00:00", "to": "08:00"}),
        layer(["emea"], window={"from": "08:00", "to": "16:00"}),
        layer(["amer"], window={"from": "16:00", "to": "00:00"}),
        zone="UTC",
    )
    day = datetime(2026, 3, 3, tzinfo=UTC)
    found = shifts(sun, day, day + timedelta(days=1))
    assert [(s.user, s.start.hour, s.end - s.start) for s in found] == [
        ("apac", 0, timedelta(hours=8)),
        ("emea", 8, timedelta(hours=8)),
        ("amer", 16, timedelta(hours=8)),
    ]
    assert [s.sources for s in found] == [("layers[0]",), ("layers[1]",), ("layers[2]",)]


def test_the_same_users_touching_pieces_merge_into_one_shift_across_layers() -> None:
    both = schedule(layer(["alice"]), layer(["alice", "bob"], window=BUSINESS))
    found = shifts(both, local(2026, 3, 2), local(2026, 3, 3))
    # Monday: layer 0 (alice) until 09:00, layer 1 (its 2nd turn: bob) 09-18, then alice again.
    assert [(s.user, s.start, s.end, s.sources) for s in found] == [
        ("alice", local(2026, 3, 2), local(2026, 3, 2, 9), ("layers[0]",)),
        ("bob", local(2026, 3, 2, 9), local(2026, 3, 2, 18), ("layers[1]",)),
        ("alice", local(2026, 3, 2, 18), local(2026, 3, 3), ("layers[0]",)),
    ]
    found = shifts(both, local(2026, 3, 3), local(2026, 3, 4))
    assert [(s.user, s.start, s.end, s.sources) for s in found] == [
        ("alice", local(2026, 3, 3), local(2026, 3, 4), ("layers[0]", "layers[1]")),
    ]


def test_a_single_users_daily_turns_merge_and_are_clipped_to_the_window() -> None:
    found = shifts(schedule(layer(["alice"])), local(2026, 3, 1), local(2026, 3, 10, 12))
    assert [(s.user, s.start, s.end) for s in found] == [
        ("alice", local(2026, 3, 1, 9), local(2026, 3, 10, 12))
    ]


def test_shifts_are_clipped_to_a_window_inside_a_turn() -> None:
    found = shifts(schedule(layer(["alice", "bob"])), local(2026, 3, 2, 1), local(2026, 3, 2, 2))
    assert [(s.user, s.start, s.end) for s in found] == [
        ("alice", local(2026, 3, 2, 1), local(2026, 3, 2, 2))
    ]


def test_an_empty_window_has_no_shifts() -> None:
    assert shifts(schedule(layer(["alice"])), local(2026, 3, 2), local(2026, 3, 2)) == []


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (local(2026, 3, 3), local(2026, 3, 2), r"^end: must not be before start"),
        (datetime(2026, 3, 2), local(2026, 3, 3), r"^start: needs a timezone-aware"),
    ],
    ids=["end-before-start", "naive-start"],
)
def test_bad_windows_are_refused(start: datetime, end: datetime, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        shifts(schedule(layer(["alice"])), start, end)


def test_oncall_at_takes_any_zone_for_the_instant() -> None:
    berlin = datetime(2026, 3, 2, 16, tzinfo=ZoneInfo("Europe/Berlin"))  # 10:00 in New York
    assert oncall_at(schedule(layer(["alice", "bob"])), berlin) == ["bob"]
