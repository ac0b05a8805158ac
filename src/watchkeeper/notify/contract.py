"""The one-method contract every contact-method type implements."""

from __future__ import annotations

from typing import Protocol

from watchkeeper.notify.contact import Contact
from watchkeeper.notify.message import Message
from watchkeeper.notify.result import DeliveryResult


class Notifier(Protocol):
    def send(self, contact: Contact, message: Message) -> DeliveryResult:
        """Deliver once, synchronously, within the configured timeouts.

        Never raises for a delivery problem: every failure is a result, and the engine decides
        with `retry.next_delay` whether to try again.
        """
        ...
