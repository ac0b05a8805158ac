"""SMS through the configured gateway: the short text, with an acknowledge link when it fits."""

from __future__ import annotations

from watchkeeper.notify import render
from watchkeeper.notify.contact import Contact
from watchkeeper.notify.gateway import send_via_gateway
from watchkeeper.notify.message import Message
from watchkeeper.notify.outbound import Outbound
from watchkeeper.notify.result import DeliveryResult
from watchkeeper.notify.settings import GatewaySettings


class SmsNotifier:
    def __init__(self, outbound: Outbound, gateway: GatewaySettings | None) -> None:
        self._outbound = outbound
        self._gateway = gateway

    def send(self, contact: Contact, message: Message) -> DeliveryResult:
        return send_via_gateway(
            self._outbound,
            self._gateway,
            setting="sms",
            contact=contact,
            message=message,
            fields={"body": render.short_text(message)},
        )
