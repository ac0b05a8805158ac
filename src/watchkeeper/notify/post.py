"""One JSON POST through the vetted outbound connections, turned into a DeliveryResult."""

from __future__ import annotations

import base64
import ssl
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Final
from urllib.parse import SplitResult, unquote, urlsplit

from watchkeeper.notify.outbound import (
    Answer,
    ConnectFailed,
    ExchangeFailed,
    Outbound,
    OutboundRefused,
    OutboundTimeout,
    RequestInvalid,
)
from watchkeeper.notify.render import clip
from watchkeeper.notify.result import DeliveryResult, delivered, failed
from watchkeeper.notify.retry import HONOURS_RETRY_AFTER, parse_retry_after

DELIVERY_HEADER: Final = "X-Watchkeeper-Delivery"
USER_AGENT: Final = "Watchkeeper"
EXCERPT_BYTES: Final = 1024
EXCERPT_SECONDS: Final = 2.0  # a body trickling in byte by byte must not hold a worker
# Names a contact's own headers may not set: framing, and our delivery and signature headers.
_RESERVED: Final = frozenset(
    {"host", "content-length", "content-type", "transfer-encoding", "connection", "user-agent"}
)
# Sent unless the contact's headers say otherwise.
_DEFAULTS: Final = (("Accept", "*/*"), ("Connection", "keep-alive"))


def contact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A contact's own headers, minus those that framing or our signatures depend on."""
    return {
        name: value
        for name, value in headers.items()
        if name.lower() not in _RESERVED and not name.lower().startswith("x-watchkeeper-")
    }


def post_json(
    outbound: Outbound,
    url: str,
    body: bytes,
    *,
    delivery_id: str,
    headers: Mapping[str, str] | None = None,
) -> DeliveryResult:
    """POST `body` (JSON bytes, sent exactly as given) and classify the answer.

    `headers` are sent as given (callers pass a contact's through `contact_headers`); the
    content type, user agent and delivery id are always ours.
    """
    try:
        parts = urlsplit(url)
    except ValueError:  # a bracketed host that is not an IPv6 address
        parts = SplitResult("", "", "", "", "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return failed(f"not an http(s) URL: {url!r}", retryable=False)
    sent = _headers(parts, headers or {}, delivery_id)
    host = parts.hostname
    try:
        with outbound.post(parts, sent, body) as answer:
            return _classify(answer, _excerpt(answer))
    except OutboundRefused as exc:
        return failed(str(exc), retryable=False)
    except OutboundTimeout as exc:
        return failed(f"{exc.phase} timed out for {host}", retryable=True)
    except ConnectFailed as exc:
        if _certificate_problem(exc):
            return failed(f"TLS certificate of {host} not accepted: {exc}", retryable=False)
        return failed(f"could not connect to {host}: {exc}", retryable=True)
    except RequestInvalid as exc:
        return failed(f"request to {host} cannot be sent: {exc}", retryable=False)
    except ExchangeFailed as exc:
        return failed(f"connection to {host} failed: {exc}", retryable=True)


def _headers(
    url: SplitResult, headers: Mapping[str, str], delivery_id: str
) -> list[tuple[str, str]]:
    """The headers after Host: defaults, the contact's, then ours, which no contact replaces."""
    ours = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        # An excerpt is read by the byte; a compressed answer would be unreadable there.
        "Accept-Encoding": "identity",
        DELIVERY_HEADER: delivery_id,
    }
    taken = {name.lower() for name in ours}
    theirs = [(name, value) for name, value in headers.items() if name.lower() not in taken]
    if url.username or url.password:
        # Credentials in the URL are sent as Basic auth, over an Authorization header.
        pair = f"{unquote(url.username or '')}:{unquote(url.password or '')}".encode()
        theirs = [h for h in theirs if h[0].lower() != "authorization"]
        theirs.append(("Authorization", "Basic " + base64.b64encode(pair).decode("ascii")))
    named = {name.lower() for name, _ in theirs}
    defaults = [h for h in _DEFAULTS if h[0].lower() not in named]
    return [*defaults, *theirs, *ours.items()]


def _classify(response: Answer, excerpt: str) -> DeliveryResult:
    status = response.status
    if 200 <= status < 300:
        return delivered(status, excerpt)
    said = f"{status} {response.reason}".strip()
    if 300 <= status < 400:
        location = clip(response.headers.get("location", "(no Location)"), 300)
        return failed(
            f"receiver answered {said}, a redirect to {location}; redirects are not followed",
            retryable=False,
            status_code=status,
            excerpt=excerpt,
        )
    retry_after: float | datetime | None = None
    if status in HONOURS_RETRY_AFTER:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
    return failed(
        f"receiver answered {said}",
        retryable=status >= 500 or status == 429,
        status_code=status,
        excerpt=excerpt,
        retry_after_seconds=retry_after if isinstance(retry_after, float) else None,
        retry_after_at=retry_after if isinstance(retry_after, datetime) else None,
    )


def _excerpt(response: Answer) -> str:
    """The start of the answer, for the delivery log; a body that stalls keeps what came.

    Reading stops at EXCERPT_BYTES, at the end of the body, when the connection fails (the
    status line already arrived; the body is only for people to read) or after EXCERPT_SECONDS.
    """
    data = b""
    deadline = time.monotonic() + EXCERPT_SECONDS
    while len(data) < EXCERPT_BYTES:
        chunk = response.read1(EXCERPT_BYTES - len(data), deadline)
        if not chunk:
            break
        data += chunk
    return data[:EXCERPT_BYTES].decode("utf-8", "replace").strip()


def _certificate_problem(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
