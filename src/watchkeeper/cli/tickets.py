"""`watchkeeper tickets list|show|ack|resolve|...` over the REST API."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from watchkeeper.cli.client import call

app = typer.Typer(help="List, show and work tickets.", no_args_is_help=True)
out = Console()

JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON")]


def _when(value: str | None) -> str:
    return value.replace("T", " ").replace("Z", "")[:19] if value else "-"


@app.command("list")
def list_tickets(
    status: Annotated[
        list[str] | None, typer.Option(help="triggered|acknowledged|resolved|closed|open")
    ] = None,
    service: Annotated[str | None, typer.Option()] = None,
    severity: Annotated[str | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option()] = 50,
    as_json: JsonOpt = False,
) -> None:
    params: dict[str, Any] = {"limit": limit}
    if status:
        params["status"] = status
    if service:
        params["service"] = service
    if severity:
        params["severity"] = severity
    data = call("GET", "/api/v1/tickets", params=params)
    if as_json:
        out.print_json(json.dumps(data))
        return
    table = Table("id", "status", "severity", "service", "title", "detected", "alerts")
    for t in data["tickets"]:
        table.add_row(
            str(t["id"]),
            t["status"],
            t["severity"],
            t["service"],
            t["title"][:60],
            _when(t["detected"]),
            str(t["alert_count"]),
        )
    out.print(table)


@app.command("show")
def show(ticket_id: int, as_json: JsonOpt = False) -> None:
    t = call("GET", f"/api/v1/tickets/{ticket_id}")
    if as_json:
        out.print_json(json.dumps(t))
        return
    head = f"[bold]#{t['id']} {t['title']}[/bold]  [{t['status']}] {t['severity']}"
    out.print(f"{head}  service {t['service']}")
    for name in (
        "impact_start",
        "detected",
        "acknowledged",
        "localized",
        "mitigated",
        "resolved",
        "closed",
    ):
        out.print(f"  {name:<13} {_when(t[name])}")
    out.print(f"  channel       {t['channel']} ({t['channel_kind']})")
    alerts = Table("alert", "status", "severity", "dedup key", "summary", "events", title="alerts")
    for a in t["alerts"]:
        alerts.add_row(
            str(a["id"]),
            a["status"],
            a["severity"],
            a["dedup_key"][:30],
            a["summary"][:60],
            str(a["event_count"]),
        )
    out.print(alerts)
    timeline = Table("at", "what", "who", "message", title="timeline")
    for e in t["timeline"]:
        timeline.add_row(_when(e["at"]), e["kind"], e["actor"] or "", e["message"][:90])
    out.print(timeline)


def _op(ticket_id: int, operation: str, body: dict[str, Any] | None = None) -> None:
    t = call("POST", f"/api/v1/tickets/{ticket_id}/{operation}", json=body or {})
    out.print(f"#{t['id']} is {t['status']}")


@app.command("ack")
def ack(ticket_id: int, note: Annotated[str, typer.Option()] = "") -> None:
    """Acknowledge a ticket."""
    _op(ticket_id, "acknowledge", {"note": note})


@app.command("unack")
def unack(ticket_id: int) -> None:
    _op(ticket_id, "unacknowledge")


@app.command("resolve")
def resolve(ticket_id: int, note: Annotated[str, typer.Option()] = "") -> None:
    """Resolve a ticket (and its alerts)."""
    _op(ticket_id, "resolve", {"note": note})


@app.command("reopen")
def reopen(ticket_id: int) -> None:
    _op(ticket_id, "reopen")


@app.command("escalate")
def escalate(ticket_id: int) -> None:
    _op(ticket_id, "escalate")


@app.command("reassign")
def reassign(ticket_id: int, assignee: str) -> None:
    _op(ticket_id, "reassign", {"assignee": assignee})


@app.command("merge")
def merge(ticket_id: int, into: int) -> None:
    _op(ticket_id, "merge", {"into": into})


@app.command("comment")
def comment(ticket_id: int, text: str) -> None:
    call("POST", f"/api/v1/tickets/{ticket_id}/comments", json={"text": text})
    out.print("comment added")


@app.command("open")
def open_ticket(
    service: str,
    title: str,
    severity: Annotated[str, typer.Option()] = "warning",
    description: Annotated[str, typer.Option()] = "",
) -> None:
    """Open a ticket by hand (the manual channel)."""
    t = call(
        "POST",
        "/api/v1/tickets",
        json={"service": service, "title": title, "severity": severity, "description": description},
    )
    out.print(f"opened #{t['id']}")
