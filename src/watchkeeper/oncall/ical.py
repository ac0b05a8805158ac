"""Shifts as an iCalendar (RFC 5545) feed that people subscribe to in their calendar app."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime

from icalendar import Calendar, Event

from watchkeeper.oncall.model import Shift
from watchkeeper.oncall.wall_clock import as_utc

PRODUCT_ID = "-//Watchkeeper//On-call schedule//EN"


def ical_feed(
    shifts: Iterable[Shift], *, name: str, now: datetime, uid_scope: str | None = None
) -> bytes:
    """One VEVENT per shift, times in UTC; `now` is the DTSTAMP.

    A shift's UID depends only on `uid_scope` (default: `name`), its user and its start, so a
    calendar app updates the event in place when the shift's end moves, and two schedules'
    feeds never share a UID.
    """
    stamp = as_utc(now, "now")
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    for shift in shifts:
        start, end = shift.start.astimezone(UTC), shift.end.astimezone(UTC)
        event = Event()
        event.add("uid", shift_uid(uid_scope if uid_scope is not None else name, shift.user, start))
        event.add("dtstamp", stamp)
        event.add("dtstart", start)
        event.add("dtend", end)
        event.add("summary", f"On call: {shift.user}")
        if shift.sources:
            event.add("description", "From " + ", ".join(shift.sources))
        calendar.add_component(event)
    feed: bytes = calendar.to_ical()
    return feed


def shift_uid(scope: str, user: str, start: datetime) -> str:
    """A UID that stays the same for the same scope, user and start instant."""
    key = "\n".join((scope, user, start.astimezone(UTC).isoformat()))
    return hashlib.sha256(key.encode()).hexdigest()[:32] + "@watchkeeper"
