"""The `watchkeeper` command. Only serve, migrate, check-config and demo work locally; every
other command talks to the server over HTTP (WATCHKEEPER_URL, WATCHKEEPER_TOKEN)."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.console import Console
from rich.table import Table

from watchkeeper.cli import oncall, records, report, tickets
from watchkeeper.cli.client import call
from watchkeeper.settings import from_env

app = typer.Typer(
    help="Watchkeeper: on-call and incident quality.", no_args_is_help=True, add_completion=False
)
app.add_typer(tickets.app, name="tickets")
app.command("alerts")(records.alerts)
app.command("events")(records.events)
app.command("why")(records.why)
app.command("report")(report.report)
app.command("okr")(report.okr)
oncall.register(app)
route_app = typer.Typer(help="Explain routing.", no_args_is_help=True)
app.add_typer(route_app, name="route")
silence_app = typer.Typer(help="Silences: mute matching alerts for a while.", no_args_is_help=True)
app.add_typer(silence_app, name="silence")
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")

out = Console()
err = Console(stderr=True)

DbOpt = Annotated[
    str | None,
    typer.Option("--db", help="database URL (default: WATCHKEEPER_DB or sqlite:///watchkeeper.db)"),
]


@app.command()
def serve(
    db: DbOpt = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="apply this YAML at start")
    ] = None,
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
    role: Annotated[str, typer.Option(help="api | engine | all")] = "all",
    tls_cert: Annotated[Path | None, typer.Option("--tls-cert")] = None,
    tls_key: Annotated[Path | None, typer.Option("--tls-key")] = None,
    log_level: Annotated[str, typer.Option()] = "info",
) -> None:
    """Run the server (ingest, API, engine) on SQLite or PostgreSQL."""
    from watchkeeper.errors import ConfigError, Problem
    from watchkeeper.server import Role, ServeOptions
    from watchkeeper.server import serve as run

    if role not in ("api", "engine", "all"):
        err.print(f"--role {role!r}: allowed values are api, engine, all")
        raise typer.Exit(2)
    if (tls_cert is None) != (tls_key is None):
        err.print("--tls-cert and --tls-key go together")
        raise typer.Exit(2)
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = from_env(db_url=db, host=host, port=port)
    options = ServeOptions(
        role=cast("Role", role),
        config_file=config,
        tls_cert=tls_cert,
        tls_key=tls_key,
        log_level=log_level,
    )
    try:
        run(settings, options)
    except Problem as exc:
        err.print(f"[red]{exc.title}[/red]: {exc.detail}")
        raise typer.Exit(1) from None
    except ConfigError as exc:
        for path, message in exc.errors:
            err.print(f"{config}: {path}: {message}")
        raise typer.Exit(1) from None


@app.command()
def migrate(db: DbOpt = None) -> None:
    """Bring the database schema up to date."""
    from watchkeeper.storage import migrate as migrations
    from watchkeeper.storage.db import open_engine

    settings = from_env(db_url=db)
    engine = open_engine(settings.db_url)
    migrations.upgrade(engine)
    out.print(f"schema at {migrations.current(engine)}")


@app.command("check-config")
def check_config(file: Path) -> None:
    """Check a configuration file; every error names its YAML path."""
    from watchkeeper.config.load import check_file

    errors = check_file(file)
    if not errors:
        out.print(f"{file}: OK")
        return
    for path, message in errors:
        err.print(f"{file}: {path}: {message}")
    raise typer.Exit(1)


@app.command()
def apply(
    file: Annotated[Path, typer.Option("-f", "--file", help="the YAML configuration")],
    prune: Annotated[
        bool, typer.Option(help="delete managed objects the file no longer names")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run")] = False,
) -> None:
    """Apply a configuration file on the server (PUT /api/v1/config), idempotently."""
    report = call(
        "PUT",
        "/api/v1/config",
        content=file.read_bytes(),
        params={"prune": prune, "dry_run": dry_run},
        headers={"Content-Type": "application/yaml"},
    )
    for verb in ("created", "updated", "deleted"):
        for section, ids in report[verb].items():
            out.print(f"{verb:>8} {section}: {', '.join(ids)}")
    out.print(
        f"{report['unchanged']} unchanged; configuration version {report['version']}"
        + (" (dry run)" if dry_run else "")
    )


@route_app.command("test")
def route_test(
    labels: Annotated[list[str] | None, typer.Argument(help="key=value labels")] = None,
    integration: Annotated[str, typer.Option("--integration")] = ...,  # type: ignore[assignment]
    summary: Annotated[str, typer.Option()] = "route test",
    severity: Annotated[str, typer.Option()] = "warning",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Explain where an event with these labels would go."""
    parsed: dict[str, str] = {}
    for item in labels or []:
        key, sep, value = item.partition("=")
        if not sep:
            err.print(f"{item!r}: labels are key=value")
            raise typer.Exit(2)
        parsed[key] = value
    body: dict[str, Any] = {
        "integration": integration,
        "labels": parsed,
        "summary": summary,
        "severity": severity,
    }
    if "service" in parsed:
        body["service"] = parsed["service"]
    result = call("POST", "/api/v1/route-test", json=body)
    if as_json:
        out.print_json(json.dumps(result))
        return
    for key, value in result.items():
        out.print(f"{key:>18}: {value}")


@silence_app.command("add")
def silence_add(
    matchers: Annotated[list[str], typer.Argument(help='e.g. service=cart alertname=~"Disk.*"')],
    for_: Annotated[str, typer.Option("--for", help="how long, e.g. 2h")] = "1h",
    comment: Annotated[str, typer.Option(help="why (required)")] = "",
) -> None:
    """Mute alerts that match every matcher, for a while."""
    if not comment:
        err.print("--comment is required: say why, for whoever wonders later")
        raise typer.Exit(2)
    s = call(
        "POST",
        "/api/v1/silences",
        json={"matchers": matchers, "duration": for_, "comment": comment},
    )
    out.print(f"silence {s['id']} until {s['ends_at']}")


@silence_app.command("list")
def silence_list(expired: Annotated[bool, typer.Option()] = False) -> None:
    data = call("GET", "/api/v1/silences", params={"expired": expired})
    table = Table("id", "state", "matchers", "ends", "by", "comment")
    for s in data["silences"]:
        table.add_row(
            s["id"],
            s["state"],
            " ".join(s["matchers"]),
            s["ends_at"],
            s["created_by"],
            s["comment"][:50],
        )
    out.print(table)


@silence_app.command("expire")
def silence_expire(silence_id: str) -> None:
    call("DELETE", f"/api/v1/silences/{silence_id}")
    out.print(f"silence {silence_id} expired")


@token_app.command("create")
def token_create(
    user: Annotated[str | None, typer.Option(help="the person the token acts as")] = None,
    name: Annotated[str, typer.Option()] = "cli",
    admin: Annotated[bool, typer.Option()] = False,
) -> None:
    """Create a token (needs an admin token in WATCHKEEPER_TOKEN)."""
    t = call("POST", "/api/v1/tokens", json={"user": user, "name": name, "admin": admin})
    out.print(t["token"])
    who = t["user"] or "no user"
    err.print(f"token {t['id']} for {who}{' (admin)' if t['admin'] else ''}: shown once")


@app.command()
def demo(
    db: DbOpt = None,
    port: Annotated[int, typer.Option()] = 8080,
    once: Annotated[bool, typer.Option(help="replay the incident and exit")] = False,
    history_only: Annotated[
        bool, typer.Option("--history-only", help="only fill the database with history, then exit")
    ] = False,
    days: Annotated[int, typer.Option(help="days of history before the live incident")] = 90,
    report_dir: Annotated[
        Path | None, typer.Option("--report-dir", help="save the HTML report and a screenshot")
    ] = None,
) -> None:
    """Run a server on SQLite with an example shop: months of history through the pipeline,
    then a live incident replayed over HTTP (alert storm, a user report, pages, recoveries)."""
    from watchkeeper.demo.run import run_demo

    run_demo(
        db_url=db,
        port=port,
        keep_running=not once,
        history_only=history_only,
        days=days,
        report_dir=report_dir,
    )


def main() -> None:
    app(prog_name="watchkeeper")


if __name__ == "__main__":
    main()
    sys.exit(0)
