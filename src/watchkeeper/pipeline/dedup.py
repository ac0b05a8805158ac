"""The dedup stage: the key that names an alert inside its integration's scope (invariant 3)."""

from __future__ import annotations

import uuid
from typing import Any

from watchkeeper.domain.event import NormalizedEvent
from watchkeeper.pipeline.snapshot import Integration


def template_context(
    event: NormalizedEvent, integration: Integration, service: str | None
) -> dict[str, Any]:
    return {
        "labels": event.labels,
        "annotations": event.annotations,
        "service": service or event.service or integration.service_id or "",
        "summary": event.summary,
        "severity": event.severity,
        "source": event.source or "",
        "integration": integration.id,
    }


def dedup_key(event: NormalizedEvent, integration: Integration) -> str:
    """The integration's template wins; else the format's default; else a fresh key."""
    if integration.dedup is not None and event.kind == "alert":
        key = integration.dedup.render(template_context(event, integration, None))
        if key:
            return key
    if event.dedup_key:
        return event.dedup_key
    return uuid.uuid4().hex
