"""What the demo prints at the end: what happened to every event, which pages went out, what
the history holds, and where to look next. Everything is read back from the database."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import Engine, distinct, func, select

from watchkeeper.demo.receiver import Page
from watchkeeper.demo.stage import FORMAT_NAMES, LiveResult, role_name
from watchkeeper.storage import tables

E, T, N = tables.events.c, tables.tickets.c, tables.notifications.c


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


@dataclass(frozen=True)
class Funnel:
    events: int
    alerts: int
    tickets: int

    @property
    def alerts_to_tickets(self) -> float:
        return 1 - self.tickets / self.alerts if self.alerts else 0.0

    @property
    def events_to_alerts(self) -> float:
        return 1 - self.alerts / self.events if self.events else 0.0


def funnel(db: Engine, since: float) -> Funnel:
    """Events (heartbeat pings aside) → the alerts they made or touched → tickets."""
    where = (E.received_at >= since, E.kind != "heartbeat")
    with db.connect() as conn:
        events = conn.execute(select(func.count()).where(*where)).scalar_one()
        alerts = conn.execute(select(func.count(distinct(E.alert_id))).where(*where)).scalar_one()
        tickets = conn.execute(select(func.count(distinct(E.ticket_id))).where(*where)).scalar_one()
    return Funnel(int(events), int(alerts), int(tickets))


def decisions(db: Engine, since: float) -> list[tuple[str, str, int]]:
    """Every event that opened no ticket and joined none, with the recorded reason."""
    quiet = ("dropped", "muted", "deduplicated", "duplicate", "ignored", "unrouted")
    stmt = (
        select(E.decision, E.reason, func.count())
        .where(E.received_at >= since, E.decision.in_(quiet))
        .group_by(E.decision, E.reason)
        .order_by(E.decision, func.count().desc())
    )
    with db.connect() as conn:
        return [(str(d), str(r or ""), int(n)) for d, r, n in conn.execute(stmt)]


def tickets_since(db: Engine, since: float) -> list[Any]:
    stmt = select(tables.tickets).where(T.detected_at >= since).order_by(T.id)
    with db.connect() as conn:
        return list(conn.execute(stmt))


def print_live(console: Console, db: Engine, live: LiveResult, since: float) -> Funnel:
    flow = funnel(db, since)
    console.print()
    console.rule("[bold]What happened")
    sent = ", ".join(f"{FORMAT_NAMES[f]} {n}" for f, n in live.requests.most_common())
    console.print(
        f"[bold]{sum(live.requests.values())} requests[/bold] in real wire formats: {sent}"
    )
    console.print(
        f"[bold]{flow.events} events → {flow.alerts} alerts → {flow.tickets} tickets[/bold]:"
        f" {flow.events_to_alerts:.0%} of events repeated an alert already open,"
        f" and {flow.alerts_to_tickets:.0%} fewer tickets than alerts to look at."
    )
    table = _table(
        "Tickets of the incident",
        "#",
        "service",
        "severity",
        "status",
        "alerts",
        "found by",
        "acked by",
        "root cause",
    )
    for t in tickets_since(db, since):
        cause = "/".join(p for p in (t.root_cause_service, t.root_cause_category) if p) or "-"
        table.add_row(
            str(t.id),
            t.service_id,
            t.severity,
            t.status,
            str(t.alert_count),
            t.channel_id or "manual",
            t.acknowledged_by or "-",
            cause,
        )
    console.print(table)
    quiet = _table(
        "Dropped, muted and deduplicated, each with its reason", "decision", "events", "why"
    )
    for decision, reason, count in decisions(db, since):
        quiet.add_row(decision, str(count), escape(reason))
    console.print(quiet)
    _print_pages(console, db, live.pages)
    return flow


def _table(title: str, *columns: str) -> Table:
    return Table(*columns, title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)


def _print_pages(console: Console, db: Engine, pages: list[Page]) -> None:
    if not pages:
        console.print("[yellow]No pages reached the demo's receiver.[/yellow]")
        return
    ids = [p.delivery_id for p in pages]
    with db.connect() as conn:
        rows = conn.execute(
            select(N.delivery_id, N.level, N.kind).where(N.delivery_id.in_(ids))
        ).all()
    level = {r.delivery_id: role_name(r.level, r.kind) for r in rows}
    table = _table("Pages the receiver got", "to", "as", "tickets", "signed")
    for page in pages:
        tickets = ", ".join(f"#{t.get('id')} {t.get('service')}" for t in page.tickets)
        table.add_row(
            page.user,
            level.get(page.delivery_id, "?"),
            tickets or escape(page.title),
            "yes" if page.signed else "",
        )
    console.print(table)


def print_history(console: Console, db: Engine, start: float, end: float) -> None:
    where = (T.detected_at >= start, T.detected_at < end)
    with db.connect() as conn:
        rows = conn.execute(
            select(
                T.service_id, T.channel_kind, T.false_alarm, T.status, T.root_cause_category
            ).where(*where)
        ).all()
        paged = conn.execute(
            select(N.user_id, N.hour_class, func.count())
            .where(N.created_at >= start, N.created_at < end, N.status == "sent")
            .group_by(N.user_id, N.hour_class)
        ).all()
    if not rows:
        return
    per_service = Counter(r.service_id for r in rows)
    done = [r for r in rows if r.status in ("resolved", "closed")]
    with_cause = sum(1 for r in done if r.root_cause_category)
    by_users = sum(1 for r in rows if r.channel_kind == "feedback")
    console.print()
    console.rule("[bold]The history behind it")
    console.print(
        f"{plural(len(rows), 'ticket')}; {by_users} found by customers first;"
        f" {sum(1 for r in rows if r.false_alarm)} marked false alarm;"
        f" root cause on {with_cause / len(done):.0%} of {len(done)} resolved;"
        f" {sum(1 for r in rows if r.status == 'closed')} reviewed."
        if done
        else f"{plural(len(rows), 'ticket')}."
    )
    console.print(
        "Tickets per service: " + ", ".join(f"{s} {n}" for s, n in per_service.most_common())
    )
    if paged:
        load: Counter[str] = Counter()
        nights: Counter[str] = Counter()
        for user, hour_class, count in paged:
            load[user] += count
            if hour_class == "sleep":
                nights[user] += count
        console.print(
            "Pages per person: "
            + ", ".join(f"{u} {n} ({nights[u]} at night)" for u, n in load.most_common())
        )


def print_where_to_look(console: Console, *, url: str, token: str, db_url: str, since: str) -> None:
    console.print()
    console.rule("[bold]Where to look")
    lines = (
        ("Web console", f"{url}/console   (sign in with the token below)"),
        ("API docs (OpenAPI)", f"{url}/docs"),
        ("Tickets as JSON", f"curl -H 'Authorization: Bearer {token}' {url}/api/v1/tickets"),
        ("Prometheus metrics", f"{url}/metrics"),
        ("The CLI", f"export WATCHKEEPER_URL={url} WATCHKEEPER_TOKEN={token}"),
        ("", "watchkeeper tickets list --status resolved"),
        ("", "watchkeeper tickets show <id>      # alerts, events and timeline"),
        ("", "watchkeeper events --decision muted"),
        ("", "watchkeeper oncall sre-primary"),
        ("", "watchkeeper report --from " + since + "   # the four layers of numbers"),
        ("", "watchkeeper report --html report.html"),
        ("The database", db_url),
    )
    for label, text in lines:
        console.print(f"  [bold]{label:<20}[/bold]{escape(text)}")
