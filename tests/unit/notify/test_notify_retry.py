"""The retry policy, table-driven: when the engine tries again and when it gives up."""

from __future__ import annotations

from datetime import timedelta

import pytest
from notify_samples import START

from watchkeeper.notify.result import DeliveryResult, delivered, failed
from watchkeeper.notify.retry import MAX_ATTEMPTS, SCHEDULE, next_delay, parse_retry_after

IN_90_S = START + timedelta(seconds=90)

CASES = [
    ("delivered", delivered(200), 1, None),
    (
        "429 Retry-After 7",
        failed("x", retryable=True, status_code=429, retry_after_seconds=7),
        1,
        7,
    ),
    ("503 HTTP-date", failed("x", retryable=True, status_code=503, retry_after_at=IN_90_S), 1, 90),
    ("503 date passed", failed("x", retryable=True, status_code=503, retry_after_at=START), 2, 0),
    ("429 no header", failed("x", retryable=True, status_code=429), 2, 30),
    (
        "429 asks a day",
        failed("x", retryable=True, status_code=429, retry_after_seconds=86400),
        1,
        3600,
    ),
    (
        "500 ignores Retry-After",
        failed("x", retryable=True, status_code=500, retry_after_seconds=7),
        1,
        10,
    ),
    ("404 no retry", failed("x", retryable=False, status_code=404), 1, None),
    ("redirect no retry", failed("x", retryable=False, status_code=302), 1, None),
    ("500 first", failed("x", retryable=True, status_code=500), 1, 10),
    ("500 third", failed("x", retryable=True, status_code=500), 3, 60),
    ("timeout", failed("timed out", retryable=True), 1, 10),
    ("connection refused fifth", failed("refused", retryable=True), 5, 300),
    ("last attempt", failed("x", retryable=True, status_code=500), MAX_ATTEMPTS, None),
]


@pytest.mark.parametrize(
    ("result", "attempt", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_next_delay(result: DeliveryResult, attempt: int, expected: float | None) -> None:
    assert next_delay(result, attempt, now=START) == expected


def test_the_schedule_grows_and_ends() -> None:
    timeout = failed("timed out", retryable=True)
    delays = [next_delay(timeout, n, now=START) for n in range(1, MAX_ATTEMPTS + 1)]
    assert delays == [*SCHEDULE, None]
    assert list(SCHEDULE) == sorted(SCHEDULE)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("7", 7.0),
        (" 120 ", 120.0),
        ("Mon, 02 Mar 2026 09:01:30 GMT", IN_90_S),
        ("soon", None),
        (None, None),
        ("-5", None),
    ],
    ids=["seconds", "spaces", "http-date", "junk", "missing", "negative"],
)
def test_parse_retry_after(header: str | None, expected: object) -> None:
    assert parse_retry_after(header) == expected
