"""Durations as written in configuration."""

from __future__ import annotations

from datetime import timedelta

import pytest

from watchkeeper.oncall.durations import parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("5m", timedelta(minutes=5)),
        ("12h", timedelta(hours=12)),
        ("1d", timedelta(hours=24)),
        ("2w", timedelta(days=14)),
        ("1h30m", timedelta(minutes=90)),
        (" 12H ", timedelta(hours=12)),
        ("0s", timedelta()),
    ],
    ids=["seconds", "minutes", "hours", "days", "weeks", "combined", "spaces-and-case", "zero"],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "12", "h", "1.5h", "-5m", "12 h", "1y", "12h junk"],
    ids=["empty", "no-unit", "no-number", "fraction", "negative", "inner-space", "years", "junk"],
)
def test_bad_durations_say_what_is_expected(text: str) -> None:
    with pytest.raises(ValueError, match=r'expected a duration such as "30s"'):
        parse_duration(text)
