"""Voice calls through the configured gateway: a text-to-speech message without links."""

from __future__ import annotations

from watchkeeper.notify import render
from watchkeeper.notify.contact import Contact
from watchkeeper.notify.gateway import send_via_gateway
from watchkeeper.notify.message import Message
from watchkeeper.notify.outbound import Outbound
from watchkeeper.notify.result import DeliveryResult
from watchkeeper.notify.settings import GatewaySettings


class VoiceNotifier:
    def __init__(self, outbound: Outbound, gateway: GatewaySettings | None) -> None:
        self._outbound = outbound
        self._gateway = gateway

    def send(self, contact: Contact, message: Message) -> DeliveryResult:
        return send_via_gateway(
            self._outbound,
            self._gateway,
            setting="voice",
            contact=contact,
            message=message,
            fields={"message": render.speech_text(message)},
        )
