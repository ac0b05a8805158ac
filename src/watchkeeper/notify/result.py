"""The outcome of one delivery attempt, which the engine records and feeds to the retry policy."""

from __future__ import annotations

from datetime import datetime

import msgspec


class DeliveryResult(msgspec.Struct, frozen=True, kw_only=True):
    """One attempt's outcome.

    `status_code` is the HTTP status, or the SMTP reply code for email. `retry_after_seconds`
    and `retry_after_at` carry a receiver's Retry-After (seconds, or an HTTP-date kept as an
    instant because only the retry policy knows `now`).
    """

    ok: bool
    retryable: bool = False
    status_code: int | None = None
    retry_after_seconds: float | None = None
    retry_after_at: datetime | None = None
    error: str | None = None
    response_excerpt: str | None = None


def delivered(status_code: int | None = None, excerpt: str | None = None) -> DeliveryResult:
    return DeliveryResult(ok=True, status_code=status_code, response_excerpt=excerpt)


def failed(
    error: str,
    *,
    retryable: bool,
    status_code: int | None = None,
    excerpt: str | None = None,
    retry_after_seconds: float | None = None,
    retry_after_at: datetime | None = None,
) -> DeliveryResult:
    return DeliveryResult(
        ok=False,
        retryable=retryable,
        status_code=status_code,
        error=error,
        response_excerpt=excerpt,
        retry_after_seconds=retry_after_seconds,
        retry_after_at=retry_after_at,
    )
