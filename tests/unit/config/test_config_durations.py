"""Durations as written in configuration: what is read, what is refused, how they render."""

from __future__ import annotations

from datetime import timedelta

import pytest

from watchkeeper.config.durations import format_duration, parse_duration

GOOD = [
    ("30s", timedelta(seconds=30)),
    ("5m", timedelta(minutes=5)),
    ("1h", timedelta(hours=1)),
    ("2d", timedelta(days=2)),
    ("1w", timedelta(weeks=1)),
    ("1h30m", timedelta(hours=1, minutes=30)),
    ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
    ("90m", timedelta(minutes=90)),
    (" 10m ", timedelta(minutes=10)),
    ("0s", timedelta(0)),
    ("0", timedelta(0)),
    (0, timedelta(0)),
]


@pytest.mark.parametrize(("text", "expected"), GOOD, ids=[repr(g[0]) for g in GOOD])
def test_parse(text: str | int, expected: timedelta) -> None:
    assert parse_duration(text) == expected


BAD = [
    ("", "is empty"),
    ("5", "needs a unit"),
    (300, "needs a unit"),
    ("5 minutes", "not understood"),
    ("1.5h", "no fractions"),
    ("-5m", "negative"),
    ("5x", "unknown unit 'x'"),
    ("5ms", "unknown unit 'ms'"),
    ("30m1h", "largest first"),
    ("1h1h", "largest first"),
    ("h", "not understood"),
    ("1h 30m", "not understood"),
    (True, "must be text"),
    (1.5, "must be text"),
]


@pytest.mark.parametrize(("text", "message"), BAD, ids=[repr(b[0]) for b in BAD])
def test_refuses_garbage_clearly(text: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(text)  # type: ignore[arg-type]
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(0), "0s"),
        (timedelta(seconds=45), "45s"),
        (timedelta(minutes=90), "1h30m"),
        (timedelta(days=28), "4w"),
        (timedelta(days=1, seconds=1), "1d1s"),
    ],
    ids=["zero", "seconds", "mixed", "weeks", "day-and-second"],
)
def test_format_round_trips(value: timedelta, text: str) -> None:
    assert format_duration(value) == text
    assert parse_duration(text) == value


def test_format_refuses_sub_seconds() -> None:
    with pytest.raises(ValueError):
        format_duration(timedelta(milliseconds=1500))
