"""The HTTP gateway SMS and voice calls go through: JSON `{"to": phone, ...}` with a token."""

from __future__ import annotations

import re
from typing import Any, Final

import msgspec

from watchkeeper.notify.contact import Contact
from watchkeeper.notify.message import Message
from watchkeeper.notify.outbound import Outbound
from watchkeeper.notify.post import post_json
from watchkeeper.notify.result import DeliveryResult, failed
from watchkeeper.notify.settings import GatewaySettings

# Digits with the usual separators; the gateway owns the real numbering-plan rules.
_PHONE: Final = re.compile(r"\+?[0-9][0-9 ()./-]{3,30}")


def send_via_gateway(
    outbound: Outbound,
    gateway: GatewaySettings | None,
    *,
    setting: str,
    contact: Contact,
    message: Message,
    fields: dict[str, Any],
) -> DeliveryResult:
    """POST `fields` plus the recipient, sender and delivery id to the configured gateway."""
    if gateway is None:
        return failed(f"no gateway configured ({setting}.url)", retryable=False)
    if not _PHONE.fullmatch(contact.address):
        return failed(f"not a phone number: {contact.address!r}", retryable=False)
    payload: dict[str, Any] = {"to": contact.address}
    if gateway.sender:
        payload["from"] = gateway.sender
    payload.update(fields)
    payload["delivery_id"] = message.delivery_id
    payload["ticket_ids"] = [ticket.id for ticket in message.tickets]
    headers = {gateway.auth_header: gateway.token} if gateway.token else {}
    return post_json(
        outbound,
        gateway.url,
        msgspec.json.encode(payload),
        delivery_id=message.delivery_id,
        headers=headers,
    )
