"""Ticket endpoints: list, show, open by hand, and every operation on one ticket."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from watchkeeper.api import serialize
from watchkeeper.api.deps import CallerDep, ReadConn, RuntimeDep
from watchkeeper.domain.severity import Severity
from watchkeeper.errors import NotFound, Problem
from watchkeeper.storage import alerts as alerts_q
from watchkeeper.storage import events as events_q
from watchkeeper.storage import tickets as tickets_q
from watchkeeper.storage.db import notify_engines

router = APIRouter(prefix="/api/v1/tickets", tags=["tickets"])

Status = Literal["triggered", "acknowledged", "resolved", "closed", "open"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewTicket(Strict):
    title: str = Field(min_length=1, max_length=1024)
    service: str
    severity: Severity = "warning"
    description: str = ""


class Note(Strict):
    note: str = ""


class Reassign(Strict):
    assignee: str = Field(min_length=1)
    note: str = ""


class Merge(Strict):
    into: int


class CommentIn(Strict):
    text: str = Field(min_length=1, max_length=65536)


class RootCause(Strict):
    service: str | None = None
    category: str | None = Field(default=None, max_length=64)


class TicketPatch(Strict):
    title: str | None = Field(default=None, min_length=1, max_length=1024)
    severity: Severity | None = None
    root_cause: RootCause | None = None
    false_alarm: bool | None = None


@router.get("")
def list_tickets(
    conn: ReadConn,
    _who: CallerDep,
    status: Annotated[list[Status] | None, Query()] = None,
    service: str | None = None,
    severity: Severity | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_id: int | None = None,
) -> dict[str, Any]:
    states: list[str] = []
    for s in status or []:
        states.extend(["triggered", "acknowledged"] if s == "open" else [s])
    rows = tickets_q.search(
        conn, status=states, service=service, severity=severity, limit=limit, before_id=before_id
    )
    return {"tickets": [serialize.ticket(r._mapping) for r in rows]}


@router.post("", status_code=201)
def open_ticket(body: NewTicket, rt: RuntimeDep, who: CallerDep) -> dict[str, Any]:
    with rt.db.begin() as conn:
        snap = rt.snapshots.refresh(conn)
        if body.service not in snap.services:
            raise Problem(
                f"unknown service {body.service!r}",
                field="service",
                allowed=", ".join(sorted(snap.services)) or "no services are configured",
                status=422,
            )
        policy = snap.policies.get(snap.services[body.service].escalation_policy or "")
        row = rt.lifecycle.open_manual(
            conn,
            service_id=body.service,
            title=body.title,
            severity=body.severity,
            description=body.description,
            actor=who.actor,
            policy=policy,
            now=rt.now(),
        )
        notify_engines(conn, page_now=True)
    rt.nudge()
    return serialize.ticket(row)


@router.get("/{ticket_id}")
def show_ticket(ticket_id: int, conn: ReadConn, _who: CallerDep) -> dict[str, Any]:
    row = tickets_q.get(conn, ticket_id)
    if row is None:
        raise NotFound(f"no ticket {ticket_id}", field="id")
    out = serialize.ticket(row._mapping)
    out["alerts"] = [serialize.alert(a._mapping) for a in alerts_q.for_ticket(conn, ticket_id)]
    out["events"] = [
        serialize.event(e._mapping) for e in events_q.search(conn, ticket_id=ticket_id, limit=200)
    ]
    out["timeline"] = [
        serialize.timeline_entry(t._mapping) for t in tickets_q.timeline_of(conn, ticket_id)
    ]
    return out


def _operate(rt: RuntimeDep, name: str, ticket_id: int, **kwargs: Any) -> dict[str, Any]:
    with rt.db.begin() as conn:
        row = getattr(rt.lifecycle, name)(conn, ticket_id=ticket_id, now=rt.now(), **kwargs)
        notify_engines(conn, page_now=name in PAGING_OPERATIONS)
    rt.nudge()
    return serialize.ticket(row)


# Operations after which a page may be due at once (engines in other processes skip their gap).
PAGING_OPERATIONS = frozenset({"escalate", "reopen", "reassign", "unacknowledge"})

# Operations that take only an optional note, and the Lifecycle keyword the note goes to.
NOTED_OPERATIONS = {
    "acknowledge": "note",
    "unacknowledge": "note",
    "resolve": "reason",
    "reopen": "note",
    "close": "note",
    "escalate": "note",
}


def _add_noted_operation(operation: str, keyword: str) -> None:
    def endpoint(
        ticket_id: int, rt: RuntimeDep, who: CallerDep, body: Note | None = None
    ) -> dict[str, Any]:
        note = body.note if body else ""
        return _operate(rt, operation, ticket_id, actor=who.actor, **{keyword: note})

    router.add_api_route(
        f"/{{ticket_id}}/{operation}",
        endpoint,
        methods=["POST"],
        name=operation,
        summary=f"{operation.capitalize()} a ticket",
    )


for _operation, _keyword in NOTED_OPERATIONS.items():
    _add_noted_operation(_operation, _keyword)


@router.post("/{ticket_id}/reassign")
def reassign(ticket_id: int, body: Reassign, rt: RuntimeDep, who: CallerDep) -> dict[str, Any]:
    return _operate(rt, "reassign", ticket_id, assignee=body.assignee, actor=who.actor)


@router.post("/{ticket_id}/merge")
def merge(ticket_id: int, body: Merge, rt: RuntimeDep, who: CallerDep) -> dict[str, Any]:
    return _operate(rt, "merge", ticket_id, into=body.into, actor=who.actor)


@router.post("/{ticket_id}/comments", status_code=201)
def comment(ticket_id: int, body: CommentIn, rt: RuntimeDep, who: CallerDep) -> dict[str, Any]:
    with rt.db.begin() as conn:
        rt.lifecycle.comment(
            conn, ticket_id=ticket_id, actor=who.actor, text=body.text, now=rt.now()
        )
    return {"ticket_id": ticket_id, "actor": who.actor, "text": body.text}


@router.patch("/{ticket_id}")
def edit(ticket_id: int, body: TicketPatch, rt: RuntimeDep, who: CallerDep) -> dict[str, Any]:
    fields = body.model_dump(exclude_unset=True)
    if "root_cause" in fields and body.root_cause is not None:
        snap = rt.snapshots.current
        service = body.root_cause.service
        if service is not None and service not in snap.services:
            raise Problem(
                f"unknown service {service!r}",
                field="root_cause.service",
                allowed=", ".join(sorted(snap.services)),
                status=422,
            )
    return _operate(rt, "edit", ticket_id, actor=who.actor, fields=fields)
