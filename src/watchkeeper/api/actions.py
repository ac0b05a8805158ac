"""One-click links in pages: `/api/v1/actions/{token}` acknowledges or resolves a ticket.

The token is signed and names the ticket, the action and the person it was sent to; it needs
no API token. GET only shows what the link will do, with one button: link previewers (chat
unfurlers, mail scanners) fetch links by themselves, and a GET that acknowledged would stop
escalation with nobody awake. The button POSTs to the same URL, which acts.
"""

from __future__ import annotations

import html
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from watchkeeper.api import serialize
from watchkeeper.api.deps import RuntimeDep
from watchkeeper.engine.messages import parse_action_subject
from watchkeeper.errors import NotFound, Problem
from watchkeeper.notify.links import ActionGrant, InvalidActionToken, verify_action
from watchkeeper.runtime import Runtime
from watchkeeper.storage import tickets as tickets_q

router = APIRouter(prefix="/api/v1/actions", tags=["actions"])

_VERB = {"acknowledge": "Acknowledge", "resolve": "Resolve"}


def _grant(rt: Runtime, token: str) -> tuple[ActionGrant, int, str | None]:
    secret = rt.settings.secret_key.encode()
    if len(secret) < 16:
        raise NotFound("one-click links are not enabled on this server (no secret key)")
    try:
        grant = verify_action(secret, token, now=rt.clock.now())
        ticket_id, user = parse_action_subject(grant.ticket_id)
    except InvalidActionToken as exc:
        expired = str(exc).startswith("expired")
        raise Problem(
            f"this link is not valid: {exc}",
            field="token",
            status=410 if expired else 403,
            title="Link expired" if expired else "Invalid link",
        ) from None
    except ValueError:
        raise Problem(
            "this link is not valid: malformed ticket",
            field="token",
            status=403,
            title="Invalid link",
        ) from None
    return grant, ticket_id, user


@router.get("/{token}", response_class=HTMLResponse)
def confirm(token: str, rt: RuntimeDep) -> HTMLResponse:
    grant, ticket_id, _user = _grant(rt, token)
    with rt.reader.connect() as conn:
        ticket = tickets_q.get(conn, ticket_id)
    if ticket is None:
        raise NotFound(f"no ticket {ticket_id}", field="token")
    verb = _VERB[grant.action]
    title = html.escape(f"#{ticket.id} {ticket.title}")
    page = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{verb} ticket #{ticket.id}</title></head><body>"
        f"<h1>{verb} ticket?</h1><p>{title}</p>"
        f"<p>Service: {html.escape(ticket.service_id)} &middot; severity "
        f"{html.escape(ticket.severity)} &middot; now {html.escape(ticket.status)}</p>"
        "<form method='post'><button type='submit' style='font-size:1.5em;padding:0.5em 2em'>"
        f"{verb}</button></form></body></html>"
    )
    return HTMLResponse(
        page, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    )


@router.post("/{token}")
def act(token: str, request: Request, rt: RuntimeDep) -> Response:
    grant, ticket_id, user = _grant(rt, token)
    actor = user or "link"
    with rt.db.begin() as conn:
        if grant.action == "acknowledge":
            row: dict[str, Any] = rt.lifecycle.acknowledge(
                conn, ticket_id=ticket_id, actor=actor, now=rt.now(), note="by one-click link"
            )
        else:
            row = rt.lifecycle.resolve(
                conn, ticket_id=ticket_id, actor=actor, now=rt.now(), reason="by one-click link"
            )
    ticket = serialize.ticket(row)
    if "text/html" in request.headers.get("accept", ""):
        done = "acknowledged" if grant.action == "acknowledge" else "resolved"
        text = html.escape(f"#{ticket['id']} {ticket['title']}")
        return HTMLResponse(
            f"<!doctype html><html><body><h1>Ticket {done}</h1><p>{text}</p>"
            f"<p>Status: {html.escape(str(ticket['status']))}</p></body></html>"
        )
    return JSONResponse({"action": grant.action, "actor": actor, "ticket": ticket})
