"""Every text a notification shows: headline, SMS, speech, e-mail text and HTML, webhook JSON."""

from __future__ import annotations

import html as html_lib
from collections import Counter
from typing import Any, Final
from urllib.parse import urlsplit

import msgspec

from watchkeeper.domain.severity import SEVERITIES
from watchkeeper.notify.message import Message, TicketNotice

SMS_LIMIT: Final = 480  # three SMS segments: enough for a title and an acknowledge link
SPOKEN_TICKETS: Final = 10  # a call reading more than this is not listened to
MAX_ALERTS: Final = 20  # per ticket, in full renderings
MAX_VALUE: Final = 1000  # characters of one annotation or detail value
JSON_VERSION: Final = 1


def safe_url(url: str | None) -> str | None:
    """The URL if it is http(s); links come from senders' annotations and must not run code."""
    if url and urlsplit(url).scheme.lower() in ("http", "https"):
        return url
    return None


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def severity_counts(message: Message) -> str:
    """'2 critical, 1 high': the bundle's tickets by severity, highest first; sums to the count."""
    counts = Counter(ticket.severity for ticket in message.tickets)
    return ", ".join(f"{counts[s]} {s}" for s in SEVERITIES if counts[s])


def one_line(text: str) -> str:
    """Whitespace collapsed: titles come from senders and end up in headers and SMS."""
    return " ".join(text.split())


def ticket_line(ticket: TicketNotice) -> str:
    title = one_line(f"{ticket.service}: {ticket.title}")
    return f"[{ticket.severity.upper()}] {title} (#{one_line(ticket.id)}, {ticket.status})"


def headline(message: Message) -> str:
    """The subject line: the ticket, or the bundle's count and tickets."""
    if not message.is_bundle:
        return clip(ticket_line(message.tickets[0]), 250)
    titles = "; ".join(one_line(f"{t.service}: {t.title}") for t in message.tickets)
    return clip(f"{_count(message)} ({severity_counts(message)}): {titles}", 250)


def short_text(message: Message, limit: int = SMS_LIMIT) -> str:
    """SMS: every ticket's essentials as far as they fit, the count always first."""
    if not message.is_bundle:
        ticket = message.tickets[0]
        ack = safe_url(ticket.acknowledge_url)
        tail = f" Ack: {ack}" if ack else ""
        if len(tail) > limit // 2:  # a link that long would crowd out the title
            tail = ""
        return clip(ticket_line(ticket), limit - len(tail)) + tail
    text = f"{_count(message)} ({severity_counts(message)}):"
    total = len(message.tickets)
    for index, ticket in enumerate(message.tickets):
        line = " " + one_line(f"{ticket.severity.upper()} {ticket.service}: {ticket.title}")
        line += f" #{one_line(ticket.id)};"
        after = total - index - 1
        # Keep room to say how many did not fit, so the count always adds up.
        reserve = len(f" +{after} more") if after else 0
        if len(text) + len(line) + reserve > limit:
            return clip(f"{text} +{total - index} more", limit)
        text += line
    return text.rstrip(";")


def speech_text(message: Message) -> str:
    """Voice: plain sentences for text-to-speech, no links or symbols read aloud."""
    intro = "This is Watchkeeper."
    if not message.is_bundle:
        return f"{intro} {_spoken(message.tickets[0])}"
    parts = [f"{intro} You have {_count(message)}: {severity_counts(message)}."]
    total = len(message.tickets)
    for index, ticket in enumerate(message.tickets[:SPOKEN_TICKETS], start=1):
        parts.append(f"Ticket {index} of {total}. {_spoken(ticket)}")
    if total > SPOKEN_TICKETS:
        parts.append(f"And {total - SPOKEN_TICKETS} more tickets.")
    return " ".join(parts)


def full_text(message: Message) -> str:
    """E-mail body: everything a responder needs, one block per ticket."""
    blocks = [_ticket_text(ticket) for ticket in message.tickets]
    head = [f"{_count(message)} ({severity_counts(message)})", ""] if message.is_bundle else []
    rule = "\n" + "-" * 60 + "\n\n"
    return "\n".join(head) + rule.join(blocks) + f"\nDelivery: {message.delivery_id}\n"


def html(message: Message) -> str:
    """E-mail HTML alternative: the same content as `full_text`, every value escaped."""
    parts = ["<html><body>"]
    if message.is_bundle:
        parts.append(f"<h2>{_e(_count(message))} ({_e(severity_counts(message))})</h2>")
    parts.extend(_ticket_html(ticket) for ticket in message.tickets)
    parts.append(f"<p><small>Delivery: {_e(message.delivery_id)}</small></p></body></html>")
    return "\n".join(parts)


def json_body(message: Message) -> dict[str, Any]:
    """The webhook body (also the base of SMS and voice gateway requests)."""
    counts = Counter(ticket.severity for ticket in message.tickets)
    return {
        "version": JSON_VERSION,
        "delivery_id": message.delivery_id,
        "title": headline(message),
        "bundle": message.is_bundle,
        "ticket_count": len(message.tickets),
        "severity_counts": {s: counts[s] for s in SEVERITIES if counts[s]},
        "tickets": [msgspec.to_builtins(ticket) for ticket in message.tickets],
    }


def value_text(value: Any) -> str:
    text = value if isinstance(value, str) else msgspec.json.encode(value).decode()
    return clip(text, MAX_VALUE)


def action_links(ticket: TicketNotice) -> list[tuple[str, str]]:
    """(label, url) for every safe link of a ticket, actions first."""
    pairs = [
        ("Acknowledge", ticket.acknowledge_url),
        ("Resolve", ticket.resolve_url),
        ("Runbook", ticket.runbook_url),
        ("Dashboard", ticket.dashboard_url),
        ("Open ticket", ticket.ticket_url),
    ]
    return [(label, url) for label, raw in pairs if (url := safe_url(raw))]


def _count(message: Message) -> str:
    n = len(message.tickets)
    return f"{n} ticket" if n == 1 else f"{n} tickets"


def _spoken(ticket: TicketNotice) -> str:
    return (
        f"{ticket.severity.capitalize()} ticket for service {ticket.service}: {ticket.title}. "
        f"Ticket {ticket.id} is {ticket.status}."
    )


def _ticket_text(ticket: TicketNotice) -> str:
    lines = [
        ticket_line(ticket),
        "",
        f"Service:  {ticket.service}",
        f"Severity: {ticket.severity}",
        f"Status:   {ticket.status}",
        f"Ticket:   {ticket.id}",
    ]
    if ticket.alerts:
        lines += ["", f"Alerts ({len(ticket.alerts)}):"]
        for alert in ticket.alerts[:MAX_ALERTS]:
            lines.append(f"- {alert.summary}")
            lines += [f"    {k}: {value_text(v)}" for k, v in alert.annotations.items()]
        if len(ticket.alerts) > MAX_ALERTS:
            lines.append(f"- and {len(ticket.alerts) - MAX_ALERTS} more alerts")
    if ticket.details:
        lines += ["", "Details:"]
        lines += [f"    {k}: {value_text(v)}" for k, v in ticket.details.items()]
    links = action_links(ticket)
    if links:
        lines.append("")
        lines += [f"{label + ':':<13}{url}" for label, url in links]
    return "\n".join(lines) + "\n"


def _ticket_html(ticket: TicketNotice) -> str:
    rows = [
        ("Service", ticket.service),
        ("Severity", ticket.severity),
        ("Status", ticket.status),
        ("Ticket", ticket.id),
    ]
    parts = [f"<h3>{_e(ticket_line(ticket))}</h3>", "<table>"]
    parts += [f"<tr><th align='left'>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows]
    parts.append("</table>")
    if ticket.alerts:
        parts.append(f"<p><b>Alerts ({len(ticket.alerts)})</b></p><ul>")
        for alert in ticket.alerts[:MAX_ALERTS]:
            notes = "".join(
                f"<br><i>{_e(k)}</i>: {_e(value_text(v))}" for k, v in alert.annotations.items()
            )
            parts.append(f"<li>{_e(alert.summary)}{notes}</li>")
        if len(ticket.alerts) > MAX_ALERTS:
            parts.append(f"<li>and {len(ticket.alerts) - MAX_ALERTS} more alerts</li>")
        parts.append("</ul>")
    if ticket.details:
        parts.append("<p><b>Details</b></p><table>")
        parts += [
            f"<tr><th align='left'>{_e(k)}</th><td>{_e(value_text(v))}</td></tr>"
            for k, v in ticket.details.items()
        ]
        parts.append("</table>")
    links = " | ".join(
        f'<a href="{_e(url)}">{_e(label)}</a>' for label, url in action_links(ticket)
    )
    if links:
        parts.append(f"<p>{links}</p>")
    return "\n".join(parts)


def _e(text: str) -> str:
    return html_lib.escape(text, quote=True)
