"""What a page says about a ticket: title, service, severity, the alerts' annotations, runbook
and dashboard links, custom details, and signed one-click acknowledge and resolve links."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import Connection, Row

from watchkeeper.clock import from_epoch
from watchkeeper.notify.links import Action, sign_action
from watchkeeper.notify.message import AlertNote, TicketNotice, TicketStatus
from watchkeeper.pipeline.snapshot import Snapshot
from watchkeeper.storage import alerts as alerts_q

MAX_ALERTS: Final = 20
_RUNBOOK_KEYS: Final = ("runbook_url", "runbook", "runbookURL", "playbook")
_DASHBOARD_KEYS: Final = ("dashboard_url", "dashboard", "dashboardURL", "grafana_url", "panel_url")


def action_token_subject(ticket_id: int, user_id: str) -> str:
    """What an action link names: the ticket, and the person it was sent to (the actor)."""
    return f"{ticket_id}/{user_id}"


def parse_action_subject(subject: str) -> tuple[int, str | None]:
    ticket, _, user = subject.partition("/")
    return int(ticket), (user or None)


def action_url(
    base_url: str, secret: bytes, subject: str, action: Action, expires_at: datetime
) -> str | None:
    if len(secret) < 16:
        return None  # no signing secret configured: no links rather than forgeable ones
    token = sign_action(secret, subject, action, expires_at)
    return f"{base_url.rstrip('/')}/api/v1/actions/{token}"


def ticket_notice(
    conn: Connection,
    ticket: Row[Any] | Mapping[str, Any],
    snap: Snapshot,
    *,
    user_id: str,
    base_url: str,
    secret: bytes,
    links_expire: float,
) -> TicketNotice:
    t = ticket if isinstance(ticket, Mapping) else ticket._mapping
    alerts = list(alerts_q.for_ticket(conn, int(t["id"])))
    alerts.sort(key=lambda a: (a.status != "firing", -a.last_event_at))
    shown = alerts[:MAX_ALERTS]
    service = snap.services.get(str(t["service_id"]))
    subject = action_token_subject(int(t["id"]), user_id)
    expires = from_epoch(links_expire)
    return TicketNotice(
        id=str(t["id"]),
        title=str(t["title"]),
        service=service.name if service is not None else str(t["service_id"]),
        severity=t["severity"],
        status=cast(TicketStatus, t["status"]),
        alerts=tuple(
            AlertNote(summary=str(a.summary), annotations=_texts(a.annotations)) for a in shown
        ),
        details=_details(shown),
        runbook_url=_link(shown, _RUNBOOK_KEYS, "runbook"),
        dashboard_url=_link(shown, _DASHBOARD_KEYS, "dashboard"),
        ticket_url=f"{base_url.rstrip('/')}/console/#/tickets/{t['id']}" if base_url else None,
        acknowledge_url=action_url(base_url, secret, subject, "acknowledge", expires),
        resolve_url=action_url(base_url, secret, subject, "resolve", expires),
    )


def _texts(values: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in (values or {}).items()}


def _details(alerts: Sequence[Row[Any]]) -> dict[str, Any]:
    """Custom details of the alerts, the newest winning a clash."""
    out: dict[str, Any] = {}
    for alert in reversed(alerts):
        out.update(alert.details or {})
    return out


def _link(alerts: Sequence[Row[Any]], keys: Sequence[str], word: str) -> str | None:
    for alert in alerts:
        annotations = alert.annotations or {}
        for key in keys:
            value = annotations.get(key)
            if isinstance(value, str) and value.startswith(("http://", "https://")):
                return value
        for link in alert.links or []:
            href = link.get("href") if isinstance(link, Mapping) else None
            label = f"{link.get('text') or ''} {href or ''}".lower() if href else ""
            if href and word in label and href.startswith(("http://", "https://")):
                return str(href)
    return None
