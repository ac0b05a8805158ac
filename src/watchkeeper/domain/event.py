"""The normalized event: what every ingest adapter produces and the pipeline consumes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

from watchkeeper.domain.severity import Severity

Action = Literal["trigger", "acknowledge", "resolve"]
Kind = Literal["alert", "heartbeat", "feedback"]


class Link(msgspec.Struct, frozen=True):
    href: str
    text: str = ""


class NormalizedEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One received occurrence, in our words, before dedup and routing.

    `dedup_key` is the format's default key (FORMATS.md); None means "generate one"
    (a PagerDuty trigger without a key, each feedback report). An integration's dedup
    template may replace it in the pipeline.
    """

    action: Action
    summary: str
    severity: Severity = "warning"
    dedup_key: str | None = None
    labels: dict[str, str] = msgspec.field(default_factory=dict)
    annotations: dict[str, str] = msgspec.field(default_factory=dict)
    details: dict[str, Any] = msgspec.field(default_factory=dict)
    source: str | None = None
    service: str | None = None  # a service the payload names (field or `service` label)
    occurred_at: datetime | None = None  # startsAt / timestamp / reporter's impact start
    ends_at: datetime | None = None  # Alertmanager API v2: resolves when passed without re-send
    links: tuple[Link, ...] = ()
    idempotency_key: str | None = None  # CloudEvents source+id: a repeat is dropped
    kind: Kind = "alert"
    raw: Any = None  # the sender's item as received (stored on the event row)


class ChangeEvent(msgspec.Struct, frozen=True, kw_only=True):
    """A deploy or configuration change (PagerDuty change events); never pages."""

    summary: str
    source: str | None = None
    occurred_at: datetime | None = None
    details: dict[str, Any] = msgspec.field(default_factory=dict)
    links: tuple[Link, ...] = ()
    service: str | None = None
    raw: Any = None
