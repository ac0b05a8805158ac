"""`watchkeeper oncall SCHEDULE` and `watchkeeper shifts SCHEDULE` over the REST API.

Times given without an offset are this machine's local time; answers are shown in the
schedule's time zone.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from rich.console import Console
from rich.table import Table

from watchkeeper.cli.client import call
from watchkeeper.config.durations import format_duration

out = Console()
err = Console(stderr=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="print the API's JSON")]
EXAMPLE = "e.g. 2026-03-08T09:00:00-05:00, or without an offset in local time"


def register(app: typer.Typer) -> None:
    app.command("oncall")(oncall)
    app.command("shifts")(shifts)


def oncall(
    schedule: Annotated[str, typer.Argument(help="the schedule's id")],
    at: Annotated[str | None, typer.Option("--at", help=f"ISO 8601 instant ({EXAMPLE})")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Who is on call in SCHEDULE now, or at --at."""
    params = {"at": _instant(at, "--at")} if at is not None else {}
    data = call("GET", f"/api/v1/schedules/{quote(schedule, safe='')}/oncall", params=params)
    if as_json:
        out.print_json(json.dumps(data))
        return
    zone = _zone(data.get("time_zone"))
    when = _when(data["at"], zone)
    if not data["users"]:
        out.print(f"nobody is on call in {schedule} at {when}")
        return
    table = Table("user", "since", "until", "from", title=f"{schedule}: on call at {when}")
    shown: set[str] = set()
    for shift in data["shifts"]:
        shown.add(shift["user"])
        table.add_row(
            shift["user"],
            _when(shift["start"], zone),
            _when(shift["end"], zone),
            ", ".join(shift["sources"]),
        )
    for user in data["users"]:
        if user not in shown:
            table.add_row(user, "-", "-", "")
    out.print(table)


def shifts(
    schedule: Annotated[str, typer.Argument(help="the schedule's id")],
    start: Annotated[str, typer.Option("--from", help=f"window start ({EXAMPLE})")],
    end: Annotated[str, typer.Option("--to", help="window end, at most 92 days after --from")],
    as_json: JsonOpt = False,
) -> None:
    """The final shifts of SCHEDULE between --from and --to (clipped to the window)."""
    params = {"from": _instant(start, "--from"), "to": _instant(end, "--to")}
    data = call("GET", f"/api/v1/schedules/{quote(schedule, safe='')}/shifts", params=params)
    if as_json:
        out.print_json(json.dumps(data))
        return
    zone = _zone(data.get("time_zone"))
    title = f"{schedule}: shifts from {_when(data['from'], zone)} to {_when(data['to'], zone)}"
    table = Table("user", "start", "end", "length", "from", title=title)
    for shift in data["shifts"]:
        table.add_row(
            shift["user"],
            _when(shift["start"], zone),
            _when(shift["end"], zone),
            _length(shift["start"], shift["end"]),
            ", ".join(shift["sources"]),
        )
    out.print(table)
    if not data["shifts"]:
        out.print("nobody is on call in this window")


def _instant(value: str, option: str) -> str:
    """ISO 8601 text for the API; a time without an offset is read as local time here."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        err.print(f"{option} {value!r}: not an ISO 8601 date-time ({EXAMPLE})")
        raise typer.Exit(2) from None
    if parsed.tzinfo is None:
        parsed = parsed.astimezone()
    return parsed.isoformat()


def _zone(name: Any) -> ZoneInfo | None:
    try:
        return ZoneInfo(str(name)) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _when(value: str, zone: ZoneInfo | None) -> str:
    instant = datetime.fromisoformat(value)
    if zone is not None:
        instant = instant.astimezone(zone)
    return instant.strftime("%a %Y-%m-%d %H:%M %Z").strip()


def _length(start: str, end: str) -> str:
    span = datetime.fromisoformat(end) - datetime.fromisoformat(start)
    return format_duration(timedelta(seconds=round(span.total_seconds())))
