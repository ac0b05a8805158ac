"""Timestamps as real clients send them, quirks included."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from watchkeeper.errors import InvalidPayload
from watchkeeper.ingest.adapters.decoding import parse_time


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-02T09:00:00Z", datetime(2026, 3, 2, 9, tzinfo=UTC)),
        # the PagerDuty Python client appends "Z" to an isoformat() that has an offset
        ("2026-03-02T09:00:00+00:00Z", datetime(2026, 3, 2, 9, tzinfo=UTC)),
        ("2026-03-02T11:00:00+02:00Z", datetime(2026, 3, 2, 9, tzinfo=UTC)),
    ],
    ids=["zulu", "offset-and-z", "non-utc-offset-and-z"],
)
def test_accepted(text: str, expected: datetime) -> None:
    assert parse_time(text, "payload.timestamp") == expected


@pytest.mark.parametrize("text", ["2026-03-02TZZ", "Z", "+00:00Z"], ids=["zz", "z", "offset-only"])
def test_refused_with_the_field_named(text: str) -> None:
    with pytest.raises(InvalidPayload) as caught:
        parse_time(text, "payload.timestamp")
    assert caught.value.field == "payload.timestamp"
