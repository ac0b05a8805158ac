"""Slack-compatible incoming webhook: `{"text": ..., "blocks": [...]}` in Block Kit."""

from __future__ import annotations

from typing import Any, Final

import msgspec

from watchkeeper.notify import render
from watchkeeper.notify.contact import Contact
from watchkeeper.notify.message import Message, TicketNotice
from watchkeeper.notify.outbound import Outbound
from watchkeeper.notify.post import post_json
from watchkeeper.notify.result import DeliveryResult

# Block Kit limits: 50 blocks a message, 150 characters a header, 3000 a section, 10 fields.
MAX_BLOCKS: Final = 50
BUNDLE_TICKETS: Final = MAX_BLOCKS - 4  # header, "and N more", context, one spare
MAX_ALERT_BLOCKS: Final = 10
SECTION: Final = 3000
MAX_URL: Final = 3000


class SlackNotifier:
    def __init__(self, outbound: Outbound) -> None:
        self._outbound = outbound

    def send(self, contact: Contact, message: Message) -> DeliveryResult:
        body = msgspec.json.encode(slack_payload(message))
        return post_json(self._outbound, contact.address, body, delivery_id=message.delivery_id)


def slack_payload(message: Message) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = []
    if message.is_bundle:
        total = len(message.tickets)
        title = f"{total} tickets ({render.severity_counts(message)})"
        blocks.append(_header(title))
        blocks += [_ticket_summary(ticket) for ticket in message.tickets[:BUNDLE_TICKETS]]
        if total > BUNDLE_TICKETS:
            blocks.append(_section(f"…and {total - BUNDLE_TICKETS} more tickets"))
    else:
        blocks += _ticket_blocks(message.tickets[0])
    blocks.append(
        {"type": "context", "elements": [_mrkdwn(f"Delivery {_esc(message.delivery_id)}")]}
    )
    return {"text": render.headline(message), "blocks": blocks, "delivery_id": message.delivery_id}


def _ticket_blocks(ticket: TicketNotice) -> list[dict[str, Any]]:
    facts = [("Service", ticket.service), ("Severity", ticket.severity)]
    facts += [("Status", ticket.status), ("Ticket", ticket.id)]
    blocks: list[dict[str, Any]] = [
        _header(render.ticket_line(ticket)),
        {"type": "section", "fields": [_mrkdwn(f"*{k}*\n{_esc(v)}") for k, v in facts]},
    ]
    for alert in ticket.alerts[:MAX_ALERT_BLOCKS]:
        notes = "".join(
            f"\n*{_esc(k)}*: {_esc(render.value_text(v))}" for k, v in alert.annotations.items()
        )
        blocks.append(_section(f"*{_esc(alert.summary)}*{notes}"))
    if len(ticket.alerts) > MAX_ALERT_BLOCKS:
        blocks.append(_section(f"…and {len(ticket.alerts) - MAX_ALERT_BLOCKS} more alerts"))
    if ticket.details:
        lines = [f"*{_esc(k)}*: {_esc(render.value_text(v))}" for k, v in ticket.details.items()]
        blocks.append(_section("*Details*\n" + "\n".join(lines)))
    buttons = [
        _button(label, url) for label, url in render.action_links(ticket) if len(url) <= MAX_URL
    ]
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    return blocks


def _ticket_summary(ticket: TicketNotice) -> dict[str, Any]:
    """A bundle shows each ticket in one block, its links inline, to stay under 50 blocks."""
    links = " · ".join(f"<{_url(url)}|{label}>" for label, url in render.action_links(ticket))
    text = f"*{_esc(render.ticket_line(ticket))}*"
    return _section(f"{text}\n{links}" if links else text)


def _header(text: str) -> dict[str, Any]:
    plain = {"type": "plain_text", "text": render.clip(text, 150), "emoji": True}
    return {"type": "header", "text": plain}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(render.clip(text, SECTION))}


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def _button(label: str, url: str) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "url": url,
        "action_id": label.lower().replace(" ", "_"),
    }
    if label == "Acknowledge":
        button["style"] = "primary"
    return button


def _esc(text: str) -> str:
    """Slack's mrkdwn control characters; a sender's `<!channel>` must not ping everyone."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _url(url: str) -> str:
    return url.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C")
