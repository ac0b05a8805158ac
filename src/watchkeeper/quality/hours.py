"""Which part of a person's day an interruption fell in: business, off or sleep hours."""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

HourClass = Literal["business", "off", "sleep"]

BUSINESS_START: Final = 8  # Mon–Fri 08:00 up to 18:00
BUSINESS_END: Final = 18
SLEEP_START: Final = 22  # every day 22:00 up to 08:00
SLEEP_END: Final = BUSINESS_START


def classify_local_time(local: datetime) -> HourClass:
    """Class of a wall-clock time as the person saw it; any tzinfo is ignored."""
    hour = local.hour
    if hour >= SLEEP_START or hour < SLEEP_END:
        return "sleep"
    if local.weekday() < 5 and hour < BUSINESS_END:
        return "business"
    return "off"


def classify(instant: datetime, time_zone: str) -> HourClass:
    """Class of an aware instant for a person living in IANA zone `time_zone`."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"instant must be timezone-aware, got naive {instant.isoformat()}")
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {time_zone!r}; expected an IANA name such as 'Europe/Berlin'"
        ) from exc
    return classify_local_time(instant.astimezone(zone))
