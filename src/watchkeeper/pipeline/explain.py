"""`route test`: where an event would go and why, without storing anything."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from watchkeeper.domain.event import NormalizedEvent
from watchkeeper.errors import NotFound
from watchkeeper.pipeline import mute as mute_stage
from watchkeeper.pipeline.dedup import dedup_key, template_context
from watchkeeper.pipeline.route import route
from watchkeeper.pipeline.snapshot import Snapshot
from watchkeeper.storage import alerts as alerts_q
from watchkeeper.storage import tickets as tickets_q


def explain(
    conn: Connection,
    snap: Snapshot,
    *,
    integration_id: str,
    event: NormalizedEvent,
    now: float,
) -> dict[str, Any]:
    integration = snap.integrations_by_id.get(integration_id)
    if integration is None:
        raise NotFound(
            f"no integration {integration_id!r}",
            field="integration",
            allowed=", ".join(sorted(snap.integrations_by_id)),
        )
    key = dedup_key(event, integration)
    out: dict[str, Any] = {"integration": integration.id, "dedup_key": key}
    open_alert = alerts_q.find_open(conn, integration.id, key)
    if open_alert is not None:
        out["outcome"] = "deduplicated"
        out["explanation"] = (
            f"alert {open_alert.id} is open with this key: the event would add to it"
            + (f" (ticket {open_alert.ticket_id})" if open_alert.ticket_id else "")
        )
        out["alert_id"] = open_alert.id
        out["ticket_id"] = open_alert.ticket_id
        return out
    routed = route(snap, integration, event)
    out["service"] = routed.service_id
    out["route"] = routed.reason
    decision = mute_stage.decide(snap.muters, routed.ctx, now)
    if decision is not None:
        out["outcome"] = "dropped" if decision.action == "drop" else "muted"
        out["explanation"] = decision.reason
        return out
    service = snap.services.get(routed.service_id or "")
    if service is None:
        out["outcome"] = "unrouted"
        out["explanation"] = routed.reason
        return out
    template = integration.group_by or service.group_by
    group_key = service.id
    if template is not None:
        group_key = template.render(template_context(event, integration, service.id)) or service.id
    out["group_key"] = group_key
    ticket = tickets_q.find_grouping(conn, service.id, group_key)
    if ticket is not None and ticket.last_alert_at + service.max_group_age > now:
        out["outcome"] = "join"
        out["ticket_id"] = ticket.id
        out["explanation"] = f"joins open ticket {ticket.id} of {service.id}/{group_key}"
    else:
        out["outcome"] = "open"
        out["explanation"] = f"opens a new ticket for {service.id}/{group_key}"
    policy = service.escalation_policy
    out["escalation_policy"] = policy
    return out
