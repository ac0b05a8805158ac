"""Rotation turns: the turn running at an instant and the turns over a window, by arithmetic."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from watchkeeper.oncall.model import Rotation
from watchkeeper.oncall.wall_clock import local_instant

_HOUR = timedelta(hours=1)
_CALENDAR_DAYS = {"daily": 1, "weekly": 7}


@dataclass(frozen=True)
class Turn:
    """Turn number `index` (0 is the first, for the first user) over [start, end), in UTC."""

    index: int
    start: datetime
    end: datetime


def first_handoff(rotation: Rotation, zone: ZoneInfo) -> datetime:
    return local_instant(rotation.start, rotation.handoff, zone)


def turn_at(rotation: Rotation, zone: ZoneInfo, at: datetime) -> Turn | None:
    """The turn running at `at` (UTC), or None before the first hand-off."""
    days = _CALENDAR_DAYS.get(rotation.type)
    if days is None:
        origin, length = first_handoff(rotation, zone), _elapsed_length(rotation)
        if at < origin:
            return None
        return _elapsed_turn(origin, length, (at - origin) // length)
    # Guess the turn from the local date, then correct it: the guess is off by at most one when
    # the hand-off has not happened yet that day, and the loops guard odd zones.
    index = max((at.astimezone(zone).date() - rotation.start).days // days, -1)
    while index >= 0 and _calendar_handoff(rotation, zone, days, index) > at:
        index -= 1
    while _calendar_handoff(rotation, zone, days, index + 1) <= at:
        index += 1
    if index < 0:
        return None
    return _calendar_turn(rotation, zone, days, index)


def turns(rotation: Rotation, zone: ZoneInfo, start: datetime, end: datetime) -> Iterator[Turn]:
    """The non-empty turns that overlap [start, end), unclipped, in order."""
    turn = turn_at(rotation, zone, start)
    index = 0 if turn is None else turn.index
    days = _CALENDAR_DAYS.get(rotation.type)
    origin, length = first_handoff(rotation, zone), _elapsed_length(rotation)
    while True:
        if days is None:
            turn = _elapsed_turn(origin, length, index)
        else:
            turn = _calendar_turn(rotation, zone, days, index)
        if turn.start >= end:
            return
        if turn.end > turn.start:  # a turn can only vanish in a zone that skips a whole day
            yield turn
        index += 1


def _elapsed_length(rotation: Rotation) -> timedelta:
    return rotation.length if rotation.length is not None else _HOUR


def _elapsed_turn(origin: datetime, length: timedelta, index: int) -> Turn:
    return Turn(index, origin + index * length, origin + (index + 1) * length)


def _calendar_handoff(rotation: Rotation, zone: ZoneInfo, days: int, index: int) -> datetime:
    return local_instant(rotation.start + timedelta(days=days * index), rotation.handoff, zone)


def _calendar_turn(rotation: Rotation, zone: ZoneInfo, days: int, index: int) -> Turn:
    start = _calendar_handoff(rotation, zone, days, index)
    return Turn(index, start, _calendar_handoff(rotation, zone, days, index + 1))
