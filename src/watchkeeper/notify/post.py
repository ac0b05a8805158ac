"""One JSON POST through the vetted outbound client, turned into a DeliveryResult."""

from __future__ import annotations

import ssl
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Final
from urllib.parse import urlsplit

import httpx

from watchkeeper.notify.outbound import Outbound, OutboundRefused
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
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return failed(f"not an http(s) URL: {url!r}", retryable=False)
    sent = {
        **(headers or {}),
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        # An excerpt is read by the byte; a compressed answer would be unreadable there.
        "Accept-Encoding": "identity",
        DELIVERY_HEADER: delivery_id,
    }
    host = parts.hostname
    try:
        with (
            outbound.client() as client,
            client.stream("POST", url, content=body, headers=sent) as r,
        ):
            return _classify(r, _excerpt(r))
    except OutboundRefused as exc:
        return failed(str(exc), retryable=False)
    except httpx.TimeoutException as exc:
        return failed(f"{_phase(exc)} timed out for {host}", retryable=True)
    except httpx.ConnectError as exc:
        if _certificate_problem(exc):
            return failed(f"TLS certificate of {host} not accepted: {exc}", retryable=False)
        return failed(f"could not connect to {host}: {exc}", retryable=True)
    except (httpx.LocalProtocolError, httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        return failed(f"request to {host} cannot be sent: {exc}", retryable=False)
    except httpx.TransportError as exc:
        return failed(f"connection to {host} failed: {exc}", retryable=True)


def _classify(response: httpx.Response, excerpt: str) -> DeliveryResult:
    status = response.status_code
    if 200 <= status < 300:
        return delivered(status, excerpt)
    said = f"{status} {response.reason_phrase}".strip()
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


def _excerpt(response: httpx.Response) -> str:
    """The start of the answer, for the delivery log; a body that stalls keeps what came."""
    data = b""
    deadline = time.monotonic() + EXCERPT_SECONDS
    try:
        for chunk in response.iter_raw():
            data += chunk
            if len(data) >= EXCERPT_BYTES or time.monotonic() > deadline:
                break
    except httpx.TransportError:
        pass  # the status line already arrived; the body is only for people to read
    return data[:EXCERPT_BYTES].decode("utf-8", "replace").strip()


def _phase(exc: httpx.TimeoutException) -> str:
    phases: tuple[tuple[type[httpx.TimeoutException], str], ...] = (
        (httpx.ConnectTimeout, "connecting"),
        (httpx.ReadTimeout, "waiting for the answer"),
        (httpx.WriteTimeout, "sending"),
        (httpx.PoolTimeout, "waiting for a connection"),
    )
    return next((name for kind, name in phases if isinstance(exc, kind)), "the request")


def _certificate_problem(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
