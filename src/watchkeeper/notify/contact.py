"""A contact method as the notifiers see it: where to deliver and how to authenticate."""

from __future__ import annotations

from typing import Final, Literal

import msgspec

ContactType = Literal["email", "webhook", "slack", "teams", "sms", "voice"]

CONTACT_TYPES: Final[tuple[ContactType, ...]] = (
    "email",
    "webhook",
    "slack",
    "teams",
    "sms",
    "voice",
)


class Contact(msgspec.Struct, frozen=True, kw_only=True):
    """One person's contact method.

    `address` is an e-mail address (email), a URL (webhook, slack, teams) or a phone number
    (sms, voice). `secret` signs webhook bodies; `headers` are extra request headers a webhook
    receiver asks for (ours win on a clash). `paging` overrides the type's default urgency.
    """

    id: str
    type: ContactType
    address: str
    secret: str | None = None
    headers: dict[str, str] = msgspec.field(default_factory=dict)
    paging: bool | None = None
