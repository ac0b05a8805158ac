"""Parsers for single schedule fields (times, days, dates, instants, zones), naming the field."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from watchkeeper.config.durations import parse_duration
from watchkeeper.oncall.wall_clock import local_instant

DAY_NAMES: Final[tuple[str, ...]] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAY_NAMES: Final = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
_WEEKDAYS: Final[dict[str, int]] = {
    **{name: number for number, name in enumerate(DAY_NAMES)},
    **{name: number for number, name in enumerate(_FULL_DAY_NAMES)},
}
_WALL_TIME: Final = re.compile(r"(\d{1,2}):(\d{2})")


class InvalidSchedule(ValueError):
    """A schedule field with a bad value; `field` is its path, e.g. "layers[0].rotation.type"."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def parse_wall_time(value: object, field: str) -> time:
    """A local time of day written "HH:MM" (00:00 to 23:59), or a naive time from Python callers."""
    if isinstance(value, time) and value.tzinfo is None:
        return value.replace(fold=0)
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 18:00 as the base-60 number 1080.
        raise InvalidSchedule(field, f'expected a quoted "HH:MM" string, got the number {value}')
    match = _WALL_TIME.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise InvalidSchedule(field, f'expected "HH:MM" from 00:00 to 23:59, got {value!r}')
    return time(int(match[1]), int(match[2]))


def parse_days(value: object, field: str) -> frozenset[int]:
    """Weekday names ("mon".."sun" or in full) to weekday numbers, Monday being 0."""
    if not isinstance(value, list) or not value:
        raise InvalidSchedule(field, f"expected a non-empty list of days, got {value!r}")
    days: set[int] = set()
    for position, name in enumerate(value):
        number = _WEEKDAYS.get(name.strip().lower()) if isinstance(name, str) else None
        if number is None:
            raise InvalidSchedule(
                f"{field}[{position}]", f"unknown day {name!r}; allowed: {', '.join(DAY_NAMES)}"
            )
        days.add(number)
    return frozenset(days)


def parse_date(value: object, field: str) -> date:
    """A calendar date "YYYY-MM-DD" (YAML may already have made it a date)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InvalidSchedule(field, f'expected a date "YYYY-MM-DD", got {value!r}')


def parse_instant(value: object, field: str, zone: ZoneInfo) -> datetime:
    """An ISO 8601 instant; without an offset a wall time in `zone`, a bare date its midnight."""
    instant: datetime | None = None
    if isinstance(value, datetime):
        instant = value
    elif isinstance(value, date):
        instant = datetime.combine(value, time())
    elif isinstance(value, str):
        try:
            instant = datetime.fromisoformat(value.strip())
        except ValueError:
            instant = None
    if instant is None:
        raise InvalidSchedule(
            field,
            f'expected an ISO 8601 date-time such as "2026-03-10T00:00:00-05:00", got {value!r}',
        )
    if instant.tzinfo is None:
        return local_instant(instant.date(), instant.time(), zone)
    return instant.astimezone(UTC)


def parse_zone(value: object, field: str) -> ZoneInfo:
    """An IANA time zone name such as "America/New_York"."""
    if isinstance(value, str) and value.strip():
        try:
            return ZoneInfo(value.strip())
        except (ZoneInfoNotFoundError, ValueError):
            pass
    raise InvalidSchedule(
        field, f'unknown time zone {value!r}; expected an IANA name like "Europe/Berlin"'
    )


def parse_length(value: object, field: str) -> timedelta:
    """A positive duration such as "12h" (the configuration's one duration syntax)."""
    if isinstance(value, timedelta):
        length = value
    else:
        try:
            length = parse_duration(value) if isinstance(value, str | int) else timedelta()
        except ValueError as error:
            raise InvalidSchedule(field, str(error)) from None
    if length <= timedelta():
        raise InvalidSchedule(field, f'expected a positive duration such as "12h", got {value!r}')
    return length
