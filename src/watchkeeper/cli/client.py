"""The CLI's HTTP client: every command that reads or changes state talks to the server."""

from __future__ import annotations

import os
from typing import Any

import httpx
import typer
from rich.console import Console

err = Console(stderr=True)


def base_url() -> str:
    return os.environ.get("WATCHKEEPER_URL", "http://127.0.0.1:8080").rstrip("/")


def client() -> httpx.Client:
    token = os.environ.get("WATCHKEEPER_TOKEN") or os.environ.get("WATCHKEEPER_ADMIN_TOKEN")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    verify: bool | str = os.environ.get("WATCHKEEPER_CA_FILE") or True
    return httpx.Client(base_url=base_url(), headers=headers, timeout=30.0, verify=verify)


def call(method: str, path: str, **kwargs: Any) -> Any:
    """One request; a problem+json answer is printed as the server said it, and exits 1."""
    try:
        with client() as http:
            response = http.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        err.print(f"[red]cannot reach Watchkeeper at {base_url()}: {exc}[/red]")
        err.print("set WATCHKEEPER_URL (and WATCHKEEPER_TOKEN) to your server")
        raise typer.Exit(2) from None
    if response.status_code >= 400:
        _print_problem(response)
        raise typer.Exit(1)
    if not response.content:
        return None
    return response.json()


def _print_problem(response: httpx.Response) -> None:
    try:
        body = response.json()
    except ValueError:
        err.print(f"[red]HTTP {response.status_code}: {response.text[:500]}[/red]")
        return
    title = body.get("title") or f"HTTP {response.status_code}"
    err.print(f"[red]{title}[/red]: {body.get('detail', '')}")
    if body.get("field"):
        err.print(f"  field: {body['field']}")
    if body.get("allowed"):
        err.print(f"  allowed: {body['allowed']}")
    for item in body.get("errors") or []:
        where = item.get("path") or item.get("field") or ""
        err.print(f"  {where}: {item.get('message')}")
