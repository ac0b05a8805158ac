"""Webhook body signatures: `X-Watchkeeper-Signature: t=<unix time>,v1=<hex HMAC-SHA256>`."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Final

SIGNATURE_HEADER: Final = "X-Watchkeeper-Signature"
DEFAULT_TOLERANCE: Final = 300


def sign_body(secret: str | bytes, body: bytes, timestamp: int) -> str:
    """The header value for `body` (the exact bytes sent) signed at `timestamp`."""
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def verify_signature(
    secret: str | bytes,
    header: str,
    body: bytes,
    now: datetime,
    tolerance: int = DEFAULT_TOLERANCE,
) -> bool:
    """True when `header` signs exactly `body` with `secret` and its time is within `tolerance`
    seconds of `now` (either side: an old one is a replay, a future one a forgery's reserve).

    Several `v1=` entries are accepted so a sender can sign with an old and a new secret while
    receivers rotate.
    """
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    if abs(now.timestamp() - timestamp) > tolerance:
        return False
    expected = _digest(secret, timestamp, body).encode()
    # Compare every candidate so the time taken says nothing about which one matched; bytes,
    # because compare_digest refuses non-ASCII text a sender might put in the header.
    matches = [hmac.compare_digest(expected, candidate.encode()) for candidate in candidates]
    return any(matches)


def _digest(secret: str | bytes, timestamp: int, body: bytes) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
