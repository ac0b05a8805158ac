"""The notifier for each contact-method type, built once from settings and a clock."""

from __future__ import annotations

from watchkeeper.clock import Clock
from watchkeeper.notify.contact import CONTACT_TYPES
from watchkeeper.notify.contract import Notifier
from watchkeeper.notify.outbound import Outbound
from watchkeeper.notify.settings import NotifySettings
from watchkeeper.notify.slack import SlackNotifier
from watchkeeper.notify.sms import SmsNotifier
from watchkeeper.notify.smtp import EmailNotifier
from watchkeeper.notify.teams import TeamsNotifier
from watchkeeper.notify.voice import VoiceNotifier
from watchkeeper.notify.webhook import WebhookNotifier


class Registry:
    """Build one per settings version and share it between worker threads: notifiers hold no
    per-delivery state; HTTP deliveries share one client whose pool keeps connections alive."""

    def __init__(self, settings: NotifySettings, clock: Clock) -> None:
        outbound = Outbound(settings.outbound)
        self._notifiers: dict[str, Notifier] = {
            "email": EmailNotifier(settings.smtp, clock),
            "webhook": WebhookNotifier(outbound, clock),
            "slack": SlackNotifier(outbound),
            "teams": TeamsNotifier(outbound),
            "sms": SmsNotifier(outbound, settings.sms),
            "voice": VoiceNotifier(outbound, settings.voice),
        }

    def notifier_for(self, kind: str) -> Notifier:
        notifier = self._notifiers.get(kind)
        if notifier is None:
            raise ValueError(
                f"unknown contact method type {kind!r}; allowed: {', '.join(CONTACT_TYPES)}"
            )
        return notifier
