"""What other parts (escalation, notifications) hear about a ticket, in the same transaction."""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import Connection


class TicketListener(Protocol):
    """Called inside the transaction that changes the ticket, so its rows commit with it."""

    def opened(self, conn: Connection, ticket: dict[str, Any], now: float) -> None: ...

    def changed(
        self, conn: Connection, ticket: dict[str, Any], event: str, now: float, actor: str | None
    ) -> None:
        """`event` is acknowledged, unacknowledged, resolved, reopened, escalated, reassigned,
        alert_joined or merged."""
        ...
