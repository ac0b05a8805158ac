"""Microsoft Teams workflow webhook: a message carrying one Adaptive Card."""

from __future__ import annotations

from typing import Any, Final

import msgspec

from watchkeeper.notify import render
from watchkeeper.notify.contact import Contact
from watchkeeper.notify.message import Message, TicketNotice
from watchkeeper.notify.outbound import Outbound
from watchkeeper.notify.post import post_json
from watchkeeper.notify.result import DeliveryResult

CARD_TYPE: Final = "application/vnd.microsoft.card.adaptive"
CARD_VERSION: Final = "1.4"  # the highest version Teams renders everywhere, mobile included
# Teams refuses cards over about 28 KB; a bundle of this many stays well below.
BUNDLE_TICKETS: Final = 30
MAX_ALERTS: Final = 10
_COLOURS: Final = {
    "critical": "Attention",
    "high": "Warning",
    "warning": "Warning",
    "info": "Default",
}


class TeamsNotifier:
    def __init__(self, outbound: Outbound) -> None:
        self._outbound = outbound

    def send(self, contact: Contact, message: Message) -> DeliveryResult:
        body = msgspec.json.encode(teams_payload(message))
        return post_json(self._outbound, contact.address, body, delivery_id=message.delivery_id)


def teams_payload(message: Message) -> dict[str, Any]:
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "msteams": {"width": "Full"},
        "body": [],
    }
    if message.is_bundle:
        total = len(message.tickets)
        card["body"].append(_text(f"{total} tickets ({render.severity_counts(message)})", big=True))
        card["body"] += [_ticket_container(ticket) for ticket in message.tickets[:BUNDLE_TICKETS]]
        if total > BUNDLE_TICKETS:
            card["body"].append(_text(f"…and {total - BUNDLE_TICKETS} more tickets"))
    else:
        ticket = message.tickets[0]
        card["body"] += _ticket_body(ticket)
        card["actions"] = _open_urls(ticket)
    card["body"].append(_text(f"Delivery {message.delivery_id}", subtle=True))
    attachment = {"contentType": CARD_TYPE, "contentUrl": None, "content": card}
    return {"type": "message", "attachments": [attachment], "delivery_id": message.delivery_id}


def _ticket_body(ticket: TicketNotice) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = [
        _text(render.ticket_line(ticket), big=True, colour=_COLOURS[ticket.severity]),
        _facts(
            [
                ("Service", ticket.service),
                ("Severity", ticket.severity),
                ("Status", ticket.status),
                ("Ticket", ticket.id),
            ]
        ),
    ]
    for alert in ticket.alerts[:MAX_ALERTS]:
        body.append(_text(alert.summary, bold=True))
        if alert.annotations:
            body.append(_facts([(k, render.value_text(v)) for k, v in alert.annotations.items()]))
    if len(ticket.alerts) > MAX_ALERTS:
        body.append(_text(f"…and {len(ticket.alerts) - MAX_ALERTS} more alerts"))
    if ticket.details:
        body.append(_text("Details", bold=True))
        body.append(_facts([(k, render.value_text(v)) for k, v in ticket.details.items()]))
    return body


def _ticket_container(ticket: TicketNotice) -> dict[str, Any]:
    items: list[dict[str, Any]] = [
        _text(render.ticket_line(ticket), bold=True, colour=_COLOURS[ticket.severity])
    ]
    actions = _open_urls(ticket)
    if actions:
        items.append({"type": "ActionSet", "actions": actions})
    return {"type": "Container", "separator": True, "items": items}


def _open_urls(ticket: TicketNotice) -> list[dict[str, Any]]:
    return [
        {"type": "Action.OpenUrl", "title": label, "url": url}
        for label, url in render.action_links(ticket)
    ]


def _facts(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    return {"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in pairs]}


def _text(
    text: str,
    *,
    big: bool = False,
    bold: bool = False,
    subtle: bool = False,
    colour: str = "Default",
) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "TextBlock", "text": text, "wrap": True}
    if big:
        block.update(size="Medium", weight="Bolder")
    if bold:
        block["weight"] = "Bolder"
    if subtle:
        block.update(isSubtle=True, size="Small")
    if colour != "Default":
        block["color"] = colour
    return block
