"""Business, off and sleep hours at their boundaries and across time zones."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from watchkeeper.quality.hours import HourClass, classify, classify_local_time

# 2026-03-02 is a Monday, 2026-03-06 a Friday, 2026-03-07 and 08 the weekend.
MON, FRI, SAT, SUN = 2, 6, 7, 8


@pytest.mark.parametrize(
    ("day", "hour", "minute", "expected"),
    [
        (MON, 0, 0, "sleep"),
        (MON, 7, 59, "sleep"),
        (MON, 8, 0, "business"),
        (MON, 17, 59, "business"),
        (MON, 18, 0, "off"),
        (MON, 21, 59, "off"),
        (MON, 22, 0, "sleep"),
        (FRI, 12, 0, "business"),
        (FRI, 18, 0, "off"),
        (FRI, 23, 30, "sleep"),
        (SAT, 7, 59, "sleep"),
        (SAT, 8, 0, "off"),
        (SAT, 10, 0, "off"),
        (SUN, 21, 59, "off"),
        (SUN, 23, 0, "sleep"),
    ],
    ids=["mon-00:00", "mon-07:59", "mon-08:00", "mon-17:59", "mon-18:00", "mon-21:59",
         "mon-22:00", "fri-12:00", "fri-18:00", "fri-23:30", "sat-07:59", "sat-08:00",
         "sat-10:00", "sun-21:59", "sun-23:00"],
)  # fmt: skip
def test_classify_local_time(day: int, hour: int, minute: int, expected: HourClass) -> None:
    assert classify_local_time(datetime(2026, 3, day, hour, minute)) == expected


@pytest.mark.parametrize(
    ("instant", "zone", "expected"),
    [
        (datetime(2026, 3, 2, 15, 0, tzinfo=UTC), "Asia/Tokyo", "sleep"),  # Tue 00:00 JST
        (datetime(2026, 3, 2, 15, 0, tzinfo=UTC), "America/New_York", "business"),  # 10:00
        (datetime(2026, 3, 2, 15, 0, tzinfo=UTC), "UTC", "business"),
        (datetime(2026, 3, 2, 3, 0, tzinfo=UTC), "America/Los_Angeles", "off"),  # Sun 19:00
        # Berlin changes to summer time on 2026-03-29: the same UTC hour moves an hour later.
        (datetime(2026, 3, 23, 6, 30, tzinfo=UTC), "Europe/Berlin", "sleep"),  # 07:30 CET
        (datetime(2026, 3, 30, 6, 30, tzinfo=UTC), "Europe/Berlin", "business"),  # 08:30 CEST
    ],
    ids=["tokyo-midnight", "new-york-morning", "utc", "los-angeles-sunday-evening",
         "berlin-winter", "berlin-summer"],
)  # fmt: skip
def test_classify_in_the_persons_zone(instant: datetime, zone: str, expected: HourClass) -> None:
    assert classify(instant, zone) == expected


def test_classify_rejects_naive_instant() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        classify(datetime(2026, 3, 2, 15, 0), "UTC")


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "../etc"], ids=["unknown", "empty", "path"])
def test_classify_names_an_unknown_zone(zone: str) -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        classify(datetime(2026, 3, 2, 15, 0, tzinfo=UTC), zone)
