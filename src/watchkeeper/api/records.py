"""Alerts, events and change events: filterable lists for "what happened, and why"."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from watchkeeper.api import serialize
from watchkeeper.api.deps import CallerDep, ReadConn, RuntimeDep
from watchkeeper.errors import NotFound
from watchkeeper.storage import alerts as alerts_q
from watchkeeper.storage import events as events_q

router = APIRouter(prefix="/api/v1", tags=["alerts and events"])

Limit = Annotated[int, Query(ge=1, le=1000)]


@router.get("/alerts")
def list_alerts(
    conn: ReadConn,
    _who: CallerDep,
    dedup_key: str | None = None,
    integration: str | None = None,
    service: str | None = None,
    status: Literal["firing", "resolved", "muted"] | None = None,
    ticket_id: int | None = None,
    limit: Limit = 100,
    before_id: int | None = None,
) -> dict[str, Any]:
    rows = alerts_q.search(
        conn,
        dedup_key=dedup_key,
        integration=integration,
        service=service,
        status=status,
        ticket_id=ticket_id,
        limit=limit,
        before_id=before_id,
    )
    return {"alerts": [serialize.alert(r._mapping) for r in rows]}


@router.get("/alerts/{alert_id}")
def show_alert(alert_id: int, conn: ReadConn, _who: CallerDep) -> dict[str, Any]:
    row = alerts_q.get(conn, alert_id)
    if row is None:
        raise NotFound(f"no alert {alert_id}", field="id")
    out = serialize.alert(row._mapping)
    out["events"] = [
        serialize.event(e._mapping, with_payload=True)
        for e in events_q.search(conn, alert_id=alert_id, limit=100)
    ]
    return out


@router.get("/events")
def list_events(
    conn: ReadConn,
    _who: CallerDep,
    dedup_key: str | None = None,
    integration: str | None = None,
    service: str | None = None,
    decision: str | None = None,
    alert_id: int | None = None,
    ticket_id: int | None = None,
    payload: bool = False,
    limit: Limit = 100,
    before_id: int | None = None,
) -> dict[str, Any]:
    rows = events_q.search(
        conn,
        dedup_key=dedup_key,
        integration=integration,
        service=service,
        decision=decision,
        alert_id=alert_id,
        ticket_id=ticket_id,
        limit=limit,
        before_id=before_id,
    )
    return {"events": [serialize.event(r._mapping, with_payload=payload) for r in rows]}


@router.get("/changes")
def list_changes(
    rt: RuntimeDep,
    conn: ReadConn,
    _who: CallerDep,
    service: str | None = None,
    hours: Annotated[float, Query(gt=0, le=24 * 90)] = 24.0,
    limit: Limit = 50,
) -> dict[str, Any]:
    rows = events_q.changes_for_service(conn, service, rt.now() - hours * 3600, limit)
    return {
        "changes": [
            {
                "id": r.id,
                "occurred_at": serialize.iso(r.occurred_at),
                "service": r.service_id,
                "integration": r.integration_id,
                "summary": r.summary,
                "source": r.source,
                "details": r.details,
                "links": r.links,
            }
            for r in rows
        ]
    }
