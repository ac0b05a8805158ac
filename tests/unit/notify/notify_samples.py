"""Sample messages and settings for notify tests."""

from __future__ import annotations

from datetime import UTC, datetime

from watchkeeper.notify.message import AlertNote, Message, TicketNotice
from watchkeeper.notify.settings import NotifySettings, OutboundSettings, Timeouts

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LOOPBACK = ("127.0.0.0/8",)


def loopback_settings(allow: tuple[str, ...] = LOOPBACK, read: float = 2.0) -> NotifySettings:
    """Settings whose outbound allow-list (by default) lets deliveries reach 127.0.0.1."""
    timeouts = Timeouts(connect=2, read=read, write=2, pool=1)
    return NotifySettings(outbound=OutboundSettings(allow=allow, timeouts=timeouts))


def ticket(number: int = 1, **changes: object) -> TicketNotice:
    fields: dict[str, object] = {
        "id": f"T-{number}",
        "title": f"Checkout error rate above 5% ({number})",
        "service": "checkout",
        "severity": "critical",
        "status": "triggered",
        "alerts": (
            AlertNote(
                summary="HTTP 5xx ratio 7.2%",
                annotations={"description": "eu-west-1 pods failing", "value": "0.072"},
            ),
        ),
        "details": {"region": "eu-west-1", "pods": 12},
        "runbook_url": "https://runbooks.example.com/checkout-errors",
        "dashboard_url": "https://grafana.example.com/d/checkout",
        "ticket_url": f"https://oncall.example.com/tickets/T-{number}",
        "acknowledge_url": f"https://oncall.example.com/a/ack-token-{number}",
        "resolve_url": f"https://oncall.example.com/a/resolve-token-{number}",
    }
    fields.update(changes)
    return TicketNotice(**fields)  # type: ignore[arg-type]


def single(delivery_id: str = "dlv-1") -> Message:
    return Message(delivery_id=delivery_id, tickets=(ticket(),))


def bundle() -> Message:
    """Four tickets: two critical, one high, one warning."""
    return Message(
        delivery_id="dlv-bundle",
        tickets=(
            ticket(1),
            ticket(2, service="payments", title="Card authorisations failing"),
            ticket(3, severity="high", service="search", title="Latency p99 above 2s"),
            ticket(
                4, severity="warning", service="mail", title="Queue backlog", status="acknowledged"
            ),
        ),
    )
