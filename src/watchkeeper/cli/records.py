"""`watchkeeper alerts|events|why`: what arrived, what became of it, and why."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from watchkeeper.cli.client import call

out = Console()
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON")]


def _when(value: str | None) -> str:
    return value.replace("T", " ").replace("Z", "")[:19] if value else "-"


def alerts(
    dedup_key: Annotated[str | None, typer.Option("--dedup-key")] = None,
    integration: Annotated[str | None, typer.Option()] = None,
    service: Annotated[str | None, typer.Option()] = None,
    status: Annotated[str | None, typer.Option(help="firing | resolved | muted")] = None,
    limit: Annotated[int, typer.Option()] = 50,
    as_json: JsonOpt = False,
) -> None:
    """List alerts (one per dedup key while it fires)."""
    params = _params(dedup_key=dedup_key, integration=integration, service=service, status=status)
    data = call("GET", "/api/v1/alerts", params={**params, "limit": limit})
    if as_json:
        out.print_json(json.dumps(data))
        return
    table = Table(
        "id", "status", "severity", "service", "integration", "dedup key", "ticket", "events"
    )
    for a in data["alerts"]:
        status_text = "muted" if a["muted"] and a["status"] == "firing" else a["status"]
        table.add_row(
            str(a["id"]),
            status_text,
            a["severity"],
            a["service"] or "-",
            a["integration"] or "-",
            a["dedup_key"][:32],
            str(a["ticket_id"] or "-"),
            str(a["event_count"]),
        )
    out.print(table)


def events(
    dedup_key: Annotated[str | None, typer.Option("--dedup-key")] = None,
    integration: Annotated[str | None, typer.Option()] = None,
    service: Annotated[str | None, typer.Option()] = None,
    decision: Annotated[str | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option()] = 50,
    as_json: JsonOpt = False,
) -> None:
    """List received events with what was done with each, and why."""
    params = _params(
        dedup_key=dedup_key, integration=integration, service=service, decision=decision
    )
    data = call("GET", "/api/v1/events", params={**params, "limit": limit})
    if as_json:
        out.print_json(json.dumps(data))
        return
    _events_table(data["events"])


def why(
    dedup_key: Annotated[str, typer.Argument(help="the alert's dedup key")],
    integration: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Why wasn't I paged? Every event of a dedup key, with the pipeline's decision."""
    params = _params(dedup_key=dedup_key, integration=integration)
    data = call("GET", "/api/v1/events", params={**params, "limit": 100})
    if not data["events"]:
        out.print(f"no event with dedup key {dedup_key!r} was received")
        out.print("check the sender's URL and key: `watchkeeper` counts rejected payloads per")
        out.print("integration (GET /api/v1/integrations, watchkeeper_rejected_payloads_total)")
        raise typer.Exit(1)
    _events_table(data["events"])


def _events_table(rows: list[dict[str, Any]]) -> None:
    table = Table("received", "integration", "action", "decision", "why", "alert", "ticket")
    for e in rows:
        table.add_row(
            _when(e["received_at"]),
            e["integration"] or "-",
            e["action"],
            e["decision"],
            (e["reason"] or "")[:80],
            str(e["alert_id"] or "-"),
            str(e["ticket_id"] or "-"),
        )
    out.print(table)


def _params(**values: str | None) -> dict[str, str]:
    return {k: v for k, v in values.items() if v is not None}
