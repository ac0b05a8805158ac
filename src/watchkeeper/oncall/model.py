"""The duty-schedule types: Schedule, Layer, Rotation, Restriction, overrides and Shift."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final, Literal
from zoneinfo import ZoneInfo

RotationType = Literal["hourly", "daily", "weekly", "custom"]
ROTATION_TYPES: Final[tuple[RotationType, ...]] = ("hourly", "daily", "weekly", "custom")


@dataclass(frozen=True)
class Rotation:
    """When hand-offs happen: the first at `handoff` local time on `start`, then every turn.

    Daily and weekly turns follow the local calendar (a hand-off stays at its wall time across
    DST); hourly and custom turns are elapsed time (`length`, only for custom) from the first.
    """

    type: RotationType
    handoff: time
    start: date
    length: timedelta | None = None

    def __post_init__(self) -> None:
        if (self.type == "custom") != (self.length is not None):
            raise ValueError("a rotation has a length exactly when its type is custom")
        if self.length is not None and self.length <= timedelta():
            raise ValueError("a custom rotation's length must be positive")


@dataclass(frozen=True)
class Restriction:
    """A daily window (local wall times) on some weekdays when a layer's user is on duty.

    `days` are weekday numbers (Monday is 0). A window whose `end` is not after its `start`
    crosses midnight and belongs to the day it starts on; `start == end` is a whole day.
    """

    days: frozenset[int]
    start: time
    end: time


@dataclass(frozen=True)
class Layer:
    rotation: Rotation
    users: tuple[str, ...]
    restrictions: tuple[Restriction, ...] = ()

    def __post_init__(self) -> None:
        if not self.users:
            raise ValueError("a layer needs at least one user")


@dataclass(frozen=True)
class AddOverride:
    """`user` is on duty during [start, end) in addition to whoever else is."""

    user: str
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        _check_interval(self.start, self.end)


@dataclass(frozen=True)
class ReplaceOverride:
    """`user` takes `replaces`'s place during [start, end), only while `replaces` is on duty."""

    user: str
    replaces: str
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        _check_interval(self.start, self.end)


@dataclass(frozen=True)
class RemoveOverride:
    """`user` is off duty during [start, end) whatever the layers say."""

    user: str
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        _check_interval(self.start, self.end)


@dataclass(frozen=True)
class SwapOverride:
    """A shift swap: during [start, end) `first`'s duty goes to `second` and the other way round.

    Its own type rather than two replaces because the exchange is simultaneous: applying "first
    by second" and then "second by first" one after the other would hand everything back.
    """

    first: str
    second: str
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        _check_interval(self.start, self.end)
        if self.first == self.second:
            raise ValueError("a swap needs two different users")


def _check_interval(start: datetime, end: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("an override's instants must be timezone-aware")
    if end <= start:
        raise ValueError("an override must end after it starts")


Override = AddOverride | ReplaceOverride | RemoveOverride | SwapOverride


@dataclass(frozen=True)
class Schedule:
    """Who is on duty when. Later layers win where they have someone; overrides apply in order.

    Override instants are timezone-aware (UTC after parsing). `name` is for people (calendar
    titles); parsing defaults it to the id.
    """

    id: str
    time_zone: ZoneInfo
    layers: tuple[Layer, ...]
    overrides: tuple[Override, ...] = ()
    name: str = ""


@dataclass(frozen=True)
class Shift:
    """One person on duty over [start, end) (UTC), with the YAML paths that put them there.

    `sources` names the layers and overrides in the order they contributed, e.g.
    ("layers[0]", "overrides[2]") when an override extended a layer's shift.
    """

    user: str
    start: datetime
    end: datetime
    sources: tuple[str, ...]
