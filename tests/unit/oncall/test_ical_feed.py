"""The iCalendar feed of shifts: one event per shift, UTC times, UIDs stable per user and start."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from watchkeeper.oncall.ical import ical_feed
from watchkeeper.oncall.model import Shift

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
MONDAY = datetime(2026, 3, 2, 14, tzinfo=UTC)
DAY = timedelta(days=1)


def shift(user: str, start: datetime, hours: int = 24) -> Shift:
    return Shift(user, start, start + timedelta(hours=hours), ("layers[0]",))


def events(feed: bytes) -> list[dict[str, str]]:
    """Each VEVENT's properties as written in the feed."""
    calendar = Calendar.from_ical(feed)
    return [
        {key: _text(component[key].to_ical()) for key in ("UID", "DTSTART", "DTEND", "SUMMARY")}
        for component in calendar.walk("VEVENT")
    ]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def test_one_event_per_shift_in_utc() -> None:
    berlin_start = MONDAY.astimezone(ZoneInfo("Europe/Berlin"))
    feed = ical_feed(
        [shift("alice", berlin_start), shift("bob", MONDAY + DAY, hours=23)],
        name="payments-primary",
        now=NOW,
    )
    found = events(feed)
    assert [(e["DTSTART"], e["DTEND"], e["SUMMARY"]) for e in found] == [
        ("20260302T140000Z", "20260303T140000Z", "On call: alice"),
        ("20260303T140000Z", "20260304T130000Z", "On call: bob"),
    ]
    calendar = Calendar.from_ical(feed)
    assert str(calendar["X-WR-CALNAME"]) == "payments-primary"
    assert str(calendar["VERSION"]) == "2.0"
    assert b"DTSTAMP:20260301T120000Z" in feed
    assert feed.startswith(b"BEGIN:VCALENDAR\r\n")


def uid(user: str, start: datetime, hours: int = 24, name: str = "payments") -> str:
    (event,) = events(ical_feed([shift(user, start, hours)], name=name, now=NOW))
    return event["UID"]


@pytest.mark.parametrize(
    ("other", "same"),
    [
        (uid("alice", MONDAY, hours=12), True),
        (uid("alice", MONDAY.astimezone(ZoneInfo("Asia/Kolkata"))), True),
        (uid("bob", MONDAY), False),
        (uid("alice", MONDAY + DAY), False),
        (uid("alice", MONDAY, name="billing"), False),
    ],
    ids=[
        "same-user-and-start-new-end",
        "same-instant-other-zone",
        "other-user",
        "other-start",
        "other-calendar",
    ],
)
def test_uid_is_stable_per_calendar_user_and_start(other: str, same: bool) -> None:
    assert (uid("alice", MONDAY) == other) is same


def test_an_empty_feed_is_still_a_calendar() -> None:
    calendar = Calendar.from_ical(ical_feed([], name="quiet", now=NOW))
    assert calendar.walk("VEVENT") == []
    assert str(calendar["PRODID"])


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^now: needs a timezone-aware"):
        ical_feed([], name="quiet", now=datetime(2026, 3, 1))
