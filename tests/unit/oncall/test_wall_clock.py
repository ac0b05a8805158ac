"""Wall times to instants: ordinary, in a DST gap (first instant after) and repeated (earlier)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from watchkeeper.oncall.wall_clock import as_utc, local_instant

CASES = [
    # zone, day, wall time, expected instant (UTC)
    ("America/New_York", date(2026, 3, 2), time(9), datetime(2026, 3, 2, 14, tzinfo=UTC)),
    ("America/New_York", date(2026, 3, 8), time(2, 30), datetime(2026, 3, 8, 7, tzinfo=UTC)),
    ("America/New_York", date(2026, 3, 8), time(2, 0), datetime(2026, 3, 8, 7, tzinfo=UTC)),
    ("America/New_York", date(2026, 3, 8), time(3, 0), datetime(2026, 3, 8, 7, tzinfo=UTC)),
    ("America/New_York", date(2026, 11, 1), time(1, 30), datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),
    ("Europe/Berlin", date(2026, 3, 29), time(2, 30), datetime(2026, 3, 29, 1, tzinfo=UTC)),
    ("Europe/Berlin", date(2026, 10, 25), time(2, 30), datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
    ("Australia/Sydney", date(2026, 10, 4), time(2, 30), datetime(2026, 10, 3, 16, tzinfo=UTC)),
    ("Australia/Sydney", date(2026, 4, 5), time(2, 30), datetime(2026, 4, 4, 15, 30, tzinfo=UTC)),
    ("Asia/Kolkata", date(2026, 3, 8), time(2, 30), datetime(2026, 3, 7, 21, tzinfo=UTC)),
    ("Pacific/Chatham", date(2026, 9, 27), time(3), datetime(2026, 9, 26, 14, tzinfo=UTC)),
    (
        "Australia/Lord_Howe",
        date(2026, 10, 4),
        time(2, 15),
        datetime(2026, 10, 3, 15, 30, tzinfo=UTC),
    ),
    (
        "Australia/Lord_Howe",
        date(2026, 4, 5),
        time(1, 45),
        datetime(2026, 4, 4, 14, 45, tzinfo=UTC),
    ),
    ("America/Sao_Paulo", date(2018, 11, 4), time(0, 30), datetime(2018, 11, 4, 3, tzinfo=UTC)),
    ("Pacific/Apia", date(2011, 12, 30), time(12), datetime(2011, 12, 30, 10, tzinfo=UTC)),
]
IDS = [
    "new-york-ordinary",
    "new-york-0230-in-gap-is-0300",
    "new-york-0200-gap-start-is-0300",
    "new-york-0300-after-gap",
    "new-york-0130-repeated-is-first",
    "berlin-0230-in-gap-is-0300",
    "berlin-0230-repeated-is-first",
    "sydney-0230-in-october-gap-is-0300",
    "sydney-0230-repeated-in-april-is-first",
    "kolkata-no-dst",
    "chatham-0300-in-gap-is-0345",
    "lord-howe-half-hour-gap",
    "lord-howe-half-hour-repeat-is-first",
    "sao-paulo-midnight-gap",
    "apia-skipped-day-is-next-midnight",
]


@pytest.mark.parametrize(("zone", "day", "wall", "expected"), CASES, ids=IDS)
def test_local_instant(zone: str, day: date, wall: time, expected: datetime) -> None:
    assert local_instant(day, wall, ZoneInfo(zone)) == expected


def test_as_utc_refuses_naive_datetimes_naming_the_field() -> None:
    with pytest.raises(ValueError, match=r"^at: needs a timezone-aware"):
        as_utc(datetime(2026, 3, 1, 9), "at")
