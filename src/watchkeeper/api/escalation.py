"""What paging did and what stops it: a ticket's notifications with their delivery attempts,
and the escalation levels that resolved to nobody (configuration errors)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from watchkeeper.api.deps import CallerDep, ReadConn
from watchkeeper.api.serialize import iso
from watchkeeper.storage import notifications as notifications_q

router = APIRouter(prefix="/api/v1", tags=["escalation"])


@router.get("/escalation/problems")
def list_problems(conn: ReadConn, _who: CallerDep) -> dict[str, Any]:
    """Levels of escalation policies that resolved to nobody when a ticket reached them."""
    return {
        "problems": [
            {
                "policy": row.policy_id,
                "level": row.level + 1,
                "reason": row.reason,
                "count": row.count,
                "first_seen": iso(row.first_at),
                "last_seen": iso(row.last_at),
                "last_ticket": row.last_ticket_id,
            }
            for row in notifications_q.problems(conn)
        ]
    }


@router.get("/tickets/{ticket_id}/notifications")
def ticket_notifications(ticket_id: int, conn: ReadConn, _who: CallerDep) -> dict[str, Any]:
    out = []
    for row in notifications_q.for_ticket(conn, ticket_id):
        out.append(
            {
                "id": row.id,
                "kind": row.kind,
                "round": row.round,
                "level": row.level + 1 if row.level >= 0 else None,
                "user": row.user_id,
                "contact": row.contact_id,
                "contact_type": row.contact_type,
                "status": row.status,
                "paging": bool(row.paging),
                "delivery_id": row.delivery_id,
                "due": iso(row.due_at),
                "sent": iso(row.sent_at),
                "hour_class": row.hour_class,
                "time_zone": row.time_zone,
                "bundle": row.bundle_id,
                "attempts": [
                    {
                        "attempt": d.attempt,
                        "started": iso(d.started_at),
                        "ok": bool(d.ok),
                        "status_code": d.status_code,
                        "error": d.error,
                        "retry_at": iso(d.retry_at),
                    }
                    for d in notifications_q.deliveries_of(conn, row.id)
                ],
            }
        )
    return {"ticket_id": ticket_id, "notifications": out}
