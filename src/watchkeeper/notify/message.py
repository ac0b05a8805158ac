"""What one notification says: one ticket, or a bundle of tickets sent as one message."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from watchkeeper.domain.severity import Severity

TicketStatus = Literal["triggered", "acknowledged", "resolved", "closed"]


class AlertNote(msgspec.Struct, frozen=True, kw_only=True):
    """One alert of a ticket, as far as a responder needs it."""

    summary: str
    annotations: dict[str, str] = msgspec.field(default_factory=dict)


class TicketNotice(msgspec.Struct, frozen=True, kw_only=True):
    """A ticket in a message. The action URLs are built (and signed) by the caller."""

    id: str
    title: str
    service: str
    severity: Severity
    status: TicketStatus
    alerts: tuple[AlertNote, ...] = ()
    details: dict[str, Any] = msgspec.field(default_factory=dict)
    runbook_url: str | None = None
    dashboard_url: str | None = None
    ticket_url: str | None = None
    acknowledge_url: str | None = None
    resolve_url: str | None = None


class Message(msgspec.Struct, frozen=True, kw_only=True):
    """One notification to one contact method.

    `delivery_id` stays the same on every retry so receivers can drop a repeat. More than one
    ticket makes a bundle: the engine sends one when a person is paged too often in a short
    time on one contact method.
    """

    delivery_id: str
    tickets: tuple[TicketNotice, ...]

    def __post_init__(self) -> None:
        if not self.tickets:
            raise ValueError("a message needs at least one ticket")
        if not self.delivery_id:
            raise ValueError("a message needs a delivery_id")

    @property
    def is_bundle(self) -> bool:
        return len(self.tickets) > 1
