"""`watchkeeper report` and `watchkeeper okr`: the quality data model from the server, rendered
here (terminal tables, JSON, CSV files or a self-contained HTML page)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from watchkeeper.cli.client import call
from watchkeeper.quality.render_csv import write_csv
from watchkeeper.quality.render_html import render_html
from watchkeeper.quality.render_terminal import print_report, render_objectives

out = Console()
err = Console(stderr=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="print the JSON the server sent")]


def report(
    from_: Annotated[
        str | None, typer.Option("--from", help="YYYY-MM-DD or RFC 3339 (default: 30 days ago)")
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="YYYY-MM-DD, that day included (default: now)")
    ] = None,
    service: Annotated[str | None, typer.Option(help="one service")] = None,
    team: Annotated[str | None, typer.Option(help="the services of a team")] = None,
    severity: Annotated[str | None, typer.Option(help="tickets of at least this severity")] = None,
    as_json: JsonOpt = False,
    csv_dir: Annotated[
        Path | None, typer.Option("--csv", help="write one CSV file per table into DIR")
    ] = None,
    html: Annotated[
        Path | None, typer.Option("--html", help="write a self-contained HTML report")
    ] = None,
    compare_to: Annotated[
        str | None, typer.Option("--compare-to", help="previous: the window just before")
    ] = None,
) -> None:
    """The four layers of quality data: SLO, operational, channel and quality."""
    if compare_to not in (None, "previous"):
        err.print(f"--compare-to {compare_to!r}: the allowed value is previous")
        raise typer.Exit(2)
    params: dict[str, Any] = {
        key: value
        for key, value in (
            ("from", from_),
            ("to", to),
            ("service", service),
            ("team", team),
            ("severity", severity),
            ("compare_to", compare_to),
        )
        if value is not None
    }
    data = call("GET", "/api/v1/quality", params=params)
    if as_json:
        out.print_json(json.dumps(data))
    else:
        print_report(data, out)
    if csv_dir is not None:
        files = write_csv(data, csv_dir)
        err.print(f"wrote {len(files)} CSV files to {csv_dir}")
    if html is not None:
        html.write_text(render_html(data), encoding="utf-8")
        err.print(f"wrote {html}")


def okr(as_json: JsonOpt = False) -> None:
    """Objectives: each key result's baseline, current value, target, progress and whether the
    change is significant yet."""
    data = call("GET", "/api/v1/objectives")
    if as_json:
        out.print_json(json.dumps(data))
        return
    if not data["objectives"]:
        out.print("no objectives are configured (the `objectives` section of the YAML file)")
        return
    out.print(render_objectives(data))
