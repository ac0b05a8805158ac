"""Generic webhook: the message as JSON, HMAC-signed with a timestamp when a secret is set."""

from __future__ import annotations

import msgspec

from watchkeeper.clock import Clock
from watchkeeper.notify import render
from watchkeeper.notify.contact import Contact
from watchkeeper.notify.message import Message
from watchkeeper.notify.outbound import Outbound
from watchkeeper.notify.post import contact_headers, post_json
from watchkeeper.notify.result import DeliveryResult
from watchkeeper.notify.signing import SIGNATURE_HEADER, sign_body


class WebhookNotifier:
    def __init__(self, outbound: Outbound, clock: Clock) -> None:
        self._outbound = outbound
        self._clock = clock

    def send(self, contact: Contact, message: Message) -> DeliveryResult:
        body = msgspec.json.encode(render.json_body(message))
        headers = contact_headers(contact.headers)
        if contact.secret:
            # Signed at each attempt, so a retry an hour later is still inside the tolerance.
            now = int(self._clock.now().timestamp())
            headers[SIGNATURE_HEADER] = sign_body(contact.secret, body, now)
        return post_json(
            self._outbound,
            contact.address,
            body,
            delivery_id=message.delivery_id,
            headers=headers,
        )
