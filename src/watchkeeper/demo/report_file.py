"""The demo's quality report as files: the HTML page `watchkeeper report --html` writes, read
from the running server, and a PNG screenshot of it taken in Chromium (for the README)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import httpx
from rich.console import Console

CHROMIUM = Path("/usr/bin/chromium")
HTML_NAME = "quality-report.html"
PNG_NAME = "quality-report.png"


def save_report(
    *, url: str, token: str, since: date, out_dir: Path, console: Console
) -> list[Path]:
    """Write the report (and its screenshot when Chromium is there); a failure here is
    printed, never raised: the report is a by-product of the demo."""
    try:
        html = out_dir / HTML_NAME
        _write_html(url, token, since, html)
        saved = [html]
        if CHROMIUM.exists():
            saved.append(screenshot(html, out_dir / PNG_NAME))
        else:
            console.print(f"[yellow]No {CHROMIUM}: the report's screenshot is skipped.[/yellow]")
    except Exception as exc:  # any failure only costs the files
        console.print(f"[yellow]The quality report could not be saved: {exc}[/yellow]")
        return []
    console.print("Quality report saved: " + ", ".join(str(p) for p in saved))
    return saved


def _write_html(url: str, token: str, since: date, path: Path) -> None:
    from watchkeeper.quality.render_html import render_html

    response = httpx.get(
        f"{url}/api/v1/quality",
        params={"from": since.isoformat()},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60.0,
    )
    response.raise_for_status()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(response.json()), encoding="utf-8")


def screenshot(html: Path, png: Path) -> Path:
    """The whole page as Chromium renders it, 1280 pixels wide."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(html.resolve().as_uri())
            page.screenshot(path=str(png), full_page=True)
        finally:
            browser.close()
    return png
