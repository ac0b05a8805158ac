"""The route stage: which service an event belongs to, and why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from watchkeeper.domain.event import NormalizedEvent
from watchkeeper.pipeline.snapshot import Integration, Snapshot


@dataclass(frozen=True, slots=True)
class Routed:
    service_id: str | None
    reason: str
    ctx: dict[str, Any]  # what rules match against: labels (with service), summary, severity...


def match_context(
    event: NormalizedEvent, integration: Integration, service_id: str | None
) -> dict[str, Any]:
    labels = dict(event.labels)
    labels.setdefault("severity", event.severity)
    labels["integration"] = integration.id
    if service_id is not None:
        labels["service"] = service_id
    return {
        "labels": labels,
        "annotations": event.annotations,
        "summary": event.summary,
        "severity": event.severity,
        "source": event.source or "",
        "service": service_id or "",
        "details": event.details,
        "integration": integration.id,
    }


def route(snapshot: Snapshot, integration: Integration, event: NormalizedEvent) -> Routed:
    """Routing rules first (first match wins), then the service the payload names, then the
    integration's default service."""
    ctx = match_context(event, integration, None)
    for rule in integration.routes:
        if rule.predicate(ctx) and rule.service in snapshot.services:
            return _routed(event, integration, rule.service, f"route {rule.text}")
    named = event.service or event.labels.get("service")
    if named and named in snapshot.services:
        return _routed(event, integration, named, f"service named by the event: {named}")
    if integration.service_id:
        why = f"default service of integration {integration.id}"
        if named:
            why += f" (the event names unknown service {named!r})"
        return _routed(event, integration, integration.service_id, why)
    return _routed(event, integration, None, "no service: the integration has no default")


def _routed(
    event: NormalizedEvent, integration: Integration, service_id: str | None, reason: str
) -> Routed:
    return Routed(service_id, reason, match_context(event, integration, service_id))
