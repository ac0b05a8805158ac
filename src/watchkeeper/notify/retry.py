"""The retry policy: whether and when the engine tries a failed delivery again."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Final

from watchkeeper.notify.result import DeliveryResult

# Seconds to wait after attempt 1, 2, ...; deterministic so a timeline test can expect it.
SCHEDULE: Final[tuple[float, ...]] = (10, 30, 60, 120, 300, 600, 900)
MAX_ATTEMPTS: Final = len(SCHEDULE) + 1
# A receiver may ask for a pause, but a page waiting longer than this is no longer a page.
MAX_RETRY_AFTER: Final = 3600.0
HONOURS_RETRY_AFTER: Final = frozenset({429, 503})


def next_delay(result: DeliveryResult, attempt: int, *, now: datetime) -> float | None:
    """Seconds until the next attempt, or None to give up.

    `attempt` counts the attempts made so far, including the one that gave `result` (1-based).
    """
    if result.ok or not result.retryable or attempt >= MAX_ATTEMPTS:
        return None
    if result.status_code in HONOURS_RETRY_AFTER:
        asked = _asked_delay(result, now)
        if asked is not None:
            return min(max(asked, 0.0), MAX_RETRY_AFTER)
    return SCHEDULE[max(attempt, 1) - 1]


def parse_retry_after(value: str | None) -> float | datetime | None:
    """A Retry-After header: delay-seconds, or an HTTP-date (returned as an aware instant)."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    # HTTP-dates are GMT; a zone-less parse must not be read as local time.
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _asked_delay(result: DeliveryResult, now: datetime) -> float | None:
    if result.retry_after_seconds is not None:
        return result.retry_after_seconds
    if result.retry_after_at is not None:
        return (result.retry_after_at - now).total_seconds()
    return None
