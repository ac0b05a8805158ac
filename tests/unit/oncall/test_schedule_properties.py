"""Properties over random schedules in DST-heavy zones: tiling, hand-off wall times, agreement."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from watchkeeper.oncall.model import (
    AddOverride,
    Layer,
    Override,
    RemoveOverride,
    ReplaceOverride,
    Restriction,
    Rotation,
    Schedule,
    SwapOverride,
)
from watchkeeper.oncall.timeline import oncall_at, shifts

ZONES = [
    "America/New_York",
    "Europe/Berlin",
    "Australia/Sydney",
    "Asia/Kolkata",
    "America/Sao_Paulo",
    "Pacific/Chatham",
    "Europe/London",
    "Australia/Lord_Howe",
    "America/St_Johns",
    "UTC",
]
PEOPLE = ["alice", "bob", "carol", "dave", "erin"]
LENGTHS = [timedelta(minutes=30), timedelta(hours=8), timedelta(hours=12), timedelta(hours=36)]
HOUR = timedelta(hours=1)
TICK = timedelta(microseconds=1)


def budget(examples: int) -> settings:
    return settings(
        max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )


# Mostly wall times in the small hours, where these zones' gaps and repeated hours fall.
SMALL_HOURS = [time(hour, minute) for hour in (0, 1, 2, 3) for minute in (0, 15, 30, 45)]
wall_times = st.one_of(
    st.sampled_from([*SMALL_HOURS, time(23, 30)]),
    st.sampled_from([*SMALL_HOURS, time(23, 30)]),
    st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45])),
)
rotations = st.builds(
    lambda kind, handoff, start, length: Rotation(
        kind, handoff, start, length if kind == "custom" else None
    ),
    # Daily turns meet every transition of a year; weekly ones only when the weekday matches.
    st.sampled_from(["hourly", "daily", "daily", "daily", "weekly", "custom"]),
    wall_times,
    st.dates(date(2015, 1, 1), date(2027, 12, 31)),
    st.sampled_from(LENGTHS),
)


@st.composite
def windows(
    draw: st.DrawFn, rotation: Rotation, zone: ZoneInfo, *, days: tuple[int, int]
) -> tuple[datetime, datetime]:
    """A window of so many days, starting somewhere in the year and a half after the rotation."""
    origin = datetime.combine(rotation.start, time(), tzinfo=zone).astimezone(UTC)
    start = origin + timedelta(days=draw(st.integers(2, 540)), minutes=draw(st.integers(0, 1439)))
    length = timedelta(days=draw(st.integers(*days)), minutes=draw(st.integers(1, 1439)))
    return start, start + length


@given(
    zone=st.sampled_from(ZONES).map(ZoneInfo),
    rotation=rotations,
    users=st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=4, unique=True),
    data=st.data(),
)
@budget(100)
def test_a_single_unrestricted_layer_tiles_the_window_with_handoffs_at_wall_time(
    zone: ZoneInfo, rotation: Rotation, users: list[str], data: st.DataObject
) -> None:
    start, end = data.draw(windows(rotation, zone, days=(330, 366)))
    schedule = Schedule("s", zone, (Layer(rotation, tuple(users)),))
    found = shifts(schedule, start, end)

    assert found[0].start == start
    assert found[-1].end == end
    for before, after in pairwise(found):
        assert before.end == after.start
        assert before.user != after.user  # touching pieces of one user are merged
    if len(users) == 1:
        assert len(found) == 1
    for shift in found[1:]:
        assert_handoff_instant(shift.start, rotation, zone)
    for shift in found[1:-1]:
        assert_turn_length(shift.end - shift.start, rotation)


def assert_handoff_instant(instant: datetime, rotation: Rotation, zone: ZoneInfo) -> None:
    """Checked against the zone itself, not against the code under test."""
    if rotation.type in ("hourly", "custom"):
        return  # elapsed-time turns: their lengths are checked exactly instead
    local = instant.astimezone(zone)
    if local.time() == rotation.handoff:
        assert local.fold == 0, f"{local} is the second occurrence of {rotation.handoff}"
        return
    # Otherwise the hand-off's wall time was skipped: `instant` must end a forward gap that
    # swallowed it, i.e. be the first valid instant after it.
    just_before = (instant - TICK).astimezone(zone)
    assert local.utcoffset() != just_before.utcoffset(), f"{local} is neither hand-off nor gap end"
    gap_start = just_before.replace(tzinfo=None) + TICK
    gap_end = local.replace(tzinfo=None)
    days = {gap_start.date(), gap_end.date()}
    assert any(gap_start <= datetime.combine(day, rotation.handoff) < gap_end for day in days)


def assert_turn_length(length: timedelta, rotation: Rotation) -> None:
    if rotation.type == "hourly":
        assert length == HOUR
    elif rotation.type == "custom":
        assert length == rotation.length
    else:
        nominal = timedelta(days=1 if rotation.type == "daily" else 7)
        # One DST change at most per turn in these zones, of an hour or less.
        assert nominal - HOUR <= length <= nominal + HOUR


@functools.cache
def transitions(zone: ZoneInfo, year: int) -> list[tuple[datetime, timedelta, timedelta]]:
    """(instant, offset before, offset after) of each change in `zone` during `year`, found by
    sampling every 30 minutes and bisecting to the second: independent of the code under test."""
    found = []
    step = timedelta(minutes=30)
    moment = datetime(year, 1, 1, tzinfo=UTC)
    offset = moment.astimezone(zone).utcoffset()
    while moment.year == year:
        following = moment + step
        changed = following.astimezone(zone).utcoffset()
        if changed != offset:
            low, high = moment, following
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                if middle.astimezone(zone).utcoffset() == offset:
                    low = middle
                else:
                    high = middle
            assert offset is not None and changed is not None
            found.append((high, offset, changed))
            offset = changed
        moment = following
    return found


@given(
    zone=st.sampled_from([name for name in ZONES if name not in ("Asia/Kolkata", "UTC")]),
    year=st.integers(2016, 2027),
    weekly=st.booleans(),
    data=st.data(),
)
@budget(60)
def test_handoffs_in_a_gap_or_a_repeated_hour(
    zone: str, year: int, weekly: bool, data: st.DataObject
) -> None:
    """A hand-off whose wall time a transition skips or repeats, every time."""
    tz = ZoneInfo(zone)
    changes = transitions(tz, year)
    assume(changes)
    instant, before, after = data.draw(st.sampled_from(changes))
    # The wall times in [instant + smaller offset, instant + larger offset) are skipped when the
    # clock springs forward and happen twice when it falls back.
    first_wall = (instant + min(before, after)).replace(tzinfo=None)
    span = abs(after - before)
    wall = first_wall + data.draw(st.sampled_from(range(0, span // timedelta(minutes=15)))) * (
        timedelta(minutes=15)
    )
    if weekly:
        start = wall.date() - timedelta(weeks=data.draw(st.integers(1, 4)))
    else:
        start = wall.date() - timedelta(days=data.draw(st.integers(3, 30)))
    rotation = Rotation("weekly" if weekly else "daily", wall.time(), start)
    schedule = Schedule("s", tz, (Layer(rotation, ("alice", "bob")),))
    found = shifts(schedule, instant - timedelta(days=2), instant + timedelta(days=9))

    skipped = after > before
    expected = instant if skipped else (wall - before).replace(tzinfo=UTC)
    assert expected in [shift.start for shift in found]
    for shift in found[1:]:
        assert_handoff_instant(shift.start, rotation, tz)


restrictions = st.builds(
    Restriction,
    st.frozensets(st.integers(0, 6), min_size=1),
    wall_times,
    wall_times,
)
layers = st.builds(
    Layer,
    rotations,
    st.lists(st.sampled_from(PEOPLE[:4]), min_size=1, max_size=4).map(tuple),
    st.lists(restrictions, max_size=2).map(tuple),
)


@st.composite
def schedules(draw: st.DrawFn) -> tuple[Schedule, datetime, datetime]:
    zone = ZoneInfo(draw(st.sampled_from(ZONES)))
    drawn = tuple(draw(st.lists(layers, min_size=1, max_size=3)))
    start, end = draw(windows(drawn[0].rotation, zone, days=(0, 366)))
    overrides: list[Override] = []
    for _ in range(draw(st.integers(0, 4))):
        begins = start + (end - start) * draw(st.floats(-0.1, 1.0))
        ends = begins + timedelta(minutes=draw(st.integers(1, 10 * 24 * 60)))
        first, second = draw(st.lists(st.sampled_from(PEOPLE), min_size=2, max_size=2, unique=True))
        kind = draw(st.sampled_from([AddOverride, ReplaceOverride, RemoveOverride, SwapOverride]))
        if kind is ReplaceOverride:
            overrides.append(ReplaceOverride(first, second, begins, ends))
        elif kind is SwapOverride:
            overrides.append(SwapOverride(first, second, begins, ends))
        else:
            overrides.append(kind(first, begins, ends))
    return Schedule("s", zone, drawn, tuple(overrides)), start, end


@given(drawn=schedules(), fractions=st.lists(st.floats(0, 1, exclude_max=True), max_size=20))
@budget(60)
def test_oncall_at_agrees_with_shifts(
    drawn: tuple[Schedule, datetime, datetime], fractions: list[float]
) -> None:
    schedule, start, end = drawn
    found = shifts(schedule, start, end)
    for shift in found:
        assert start <= shift.start < shift.end <= end
    instants = [min(start + (end - start) * fraction, end - TICK) for fraction in fractions]
    # Boundaries are where off-by-one mistakes live: probe both sides of some of them.
    for shift in found[:: max(1, len(found) // 20)]:
        instants += [shift.start, shift.end - TICK]
    for instant in instants:
        covering = [shift.user for shift in found if shift.start <= instant < shift.end]
        on_duty = oncall_at(schedule, instant)
        assert len(set(covering)) == len(covering), f"{instant}: one user in overlapping shifts"
        assert len(set(on_duty)) == len(on_duty)
        assert sorted(on_duty) == sorted(covering), instant
