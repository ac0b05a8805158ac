"""Heartbeat pings (POST or GET /integrations/{key}/heartbeat): proof of life from a job."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from watchkeeper.domain.event import NormalizedEvent
from watchkeeper.errors import UnsupportedMediaType
from watchkeeper.ingest.adapters.base import Parsed
from watchkeeper.ingest.adapters.decoding import (
    FORM,
    check_size,
    decode_json,
    is_json,
    media_type,
    parse_form,
)

__all__ = ["DEDUP_KEY", "MAX_BODY", "parse"]

MAX_BODY: Final = 512 * 1024
DEDUP_KEY: Final = "heartbeat"


def parse(body: bytes, content_type: str | None, *, now: datetime) -> Parsed:
    """One ping. A ping resolves the missed-heartbeat alert; the body is optional (cron
    jobs send none, or an empty form from `curl -d ''`) and, if JSON or a form, is kept
    in details."""
    check_size(body, MAX_BODY)
    details: dict[str, Any] = {}
    if body.strip():
        mtype = media_type(content_type)
        if mtype == "" or is_json(mtype):
            value = decode_json(body)
            details = dict(value) if isinstance(value, dict) else {"body": value}
        elif mtype == FORM:
            details = dict(parse_form(body))
        else:
            raise UnsupportedMediaType(
                f"content type {mtype[:100]!r} is not accepted here",
                field="content-type",
                allowed=f"no body, application/json or {FORM}",
            )
    return Parsed(
        events=[
            NormalizedEvent(
                action="resolve",
                summary="heartbeat ping",
                dedup_key=DEDUP_KEY,
                details=details,
                occurred_at=now,
                kind="heartbeat",
            )
        ]
    )
