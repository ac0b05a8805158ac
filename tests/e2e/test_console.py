"""The web console in a real browser (Debian's Chromium through Playwright) against a real
`watchkeeper serve`: sign in with a token, see a triggered ticket, acknowledge it by a click,
silence a service, read why an event paged nobody and what an integration rejected.

Set WATCHKEEPER_CONSOLE_SCREENSHOT=docs/console.png to refresh the README's screenshot.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect
from tests.support.processes import ServerProcess, serving

GENERIC = "/integrations/gen-key-0123456789abcdef/generic"  # `gen` of shop.yaml: service batch
HOSTILE = '<img src=x id="pwned" onerror="window.pwned=1"> disk full on db-1'

SCREENSHOT = "WATCHKEEPER_CONSOLE_SCREENSHOT"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp("console")
    with serving(f"sqlite:///{workdir / 'watchkeeper.db'}", workdir / "server") as started:
        yield started


def post_alert(server: ServerProcess, **body: Any) -> dict[str, Any]:
    with server.client() as client:
        response = client.post(GENERIC, json=body)
    assert response.status_code == 202, response.text
    event: dict[str, Any] = response.json()["events"][0]
    return event


def ticket(server: ServerProcess, ticket_id: int) -> dict[str, Any]:
    response = server.api("GET", f"/api/v1/tickets/{ticket_id}")
    assert response.status_code == 200, response.text
    out: dict[str, Any] = response.json()
    return out


class Errors:
    """Console errors and uncaught exceptions of a page; `expected` names the failed requests
    a test provoked on purpose (the browser logs each as a console error)."""

    def __init__(self, page: Page) -> None:
        self.seen: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.seen.append(f"pageerror: {exc}"))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.seen.append(f"console: {message.text}")

    def unexpected(self, *expected: str) -> list[str]:
        return [e for e in self.seen if not any(x in e for x in expected)]


def test_on_call_person_acknowledges_silences_and_reads_why(
    server: ServerProcess, browser: Browser, tmp_path: Path
) -> None:
    hostile = post_alert(
        server,
        summary=HOSTILE,
        service="search",
        dedup="xss",
        links=[{"href": "javascript:alert(1)", "text": "bad link"}],
    )
    paged = post_alert(
        server,
        summary="Disk full on db-1",
        severity="critical",
        dedup="db-1/disk",
        labels={"alertname": "DiskFull", "instance": "db-1"},
        links=[{"href": "https://grafana.example.com/d/disk", "text": "dashboard"}],
    )
    other = post_alert(
        server, summary="Queue backlog growing", severity="warning", dedup="queue", service="cart"
    )
    muted = post_alert(
        server, summary="staging canary down", dedup="canary", labels={"env": "staging"}
    )
    ids = {hostile["ticket_id"], paged["ticket_id"], other["ticket_id"]}
    assert None not in ids and len(ids) == 3
    assert muted["decision"] == "muted" and muted["ticket_id"] is None
    with server.client() as client:  # a sender's broken payload: rejected, and counted
        assert client.post(GENERIC, content=b"{not json").status_code == 400
    ticket_id = paged["ticket_id"]

    page = browser.new_page(viewport={"width": 1360, "height": 760})
    errors = Errors(page)
    page.set_default_timeout(10_000)
    page.clock.install()  # time runs as usual, and the test can jump to the next refresh
    try:
        # Sign in: a wrong token is refused with the server's reason, the right one shows who.
        page.goto(f"{server.base_url}/console")
        page.fill("#token", "not-a-token")
        page.click("#sign-in button[type=submit]")
        expect(page.locator("#sign-in .problem")).to_contain_text("unknown or revoked token")
        page.fill("#token", server.admin_token)
        page.click("#sign-in button[type=submit]")
        expect(page.locator("#who-name")).to_have_text("Signed in as admin (admin)")

        # The list: open tickets, triggered ones red; untrusted text stays text.
        row = page.locator(f"tr[data-ticket='{ticket_id}']")
        expect(row).to_have_class(re.compile(r"\bstatus-triggered\b"))
        expect(page.locator("#ticket-summary")).to_contain_text("3 triggered")
        bad = page.locator(f"tr[data-ticket='{hostile['ticket_id']}']")
        expect(bad).to_contain_text(HOSTILE)
        assert page.locator("#pwned").count() == 0

        # Its page: the title is text, no javascript: link; resolve it by a click.
        bad.get_by_role("link", name=f"#{hostile['ticket_id']}").click()
        expect(page.locator(".ticket-header h1")).to_contain_text(HOSTILE)
        assert page.locator("a[href^='javascript']").count() == 0
        assert page.locator("#pwned").count() == 0
        assert page.evaluate("window.pwned === undefined")
        page.click("#op-resolve")
        expect(page.locator(".ticket-header .badge.status-resolved")).to_be_visible()
        expect(page.locator("#op-reopen")).to_be_enabled()
        assert ticket(server, hostile["ticket_id"])["status"] == "resolved"

        # The ticket page: quality timestamps, alerts, events with their decision.
        page.click("nav a[data-view=tickets]")
        row.get_by_role("link", name=f"#{ticket_id}").click()
        expect(page.locator(".ticket-header h1")).to_contain_text("Disk full on db-1")
        expect(page.locator("dd[data-field=detected] time")).to_be_visible()
        expect(page.locator("dd[data-field=acknowledged]")).to_have_text("—")
        expect(page.locator(".ticket-body")).to_contain_text("db-1/disk")
        expect(page.locator(".ticket-body .badge.decision-converged")).to_be_visible()
        link = page.get_by_role("link", name="dashboard")
        expect(link).to_have_attribute("href", "https://grafana.example.com/d/disk")
        expect(link).to_have_attribute("rel", "noopener noreferrer")

        # Acknowledge by a click: the page shows it, and the API agrees.
        page.fill("#note", "looking at db-1")
        page.click("#op-acknowledge")
        expect(page.locator(".ticket-header .badge.status-acknowledged")).to_be_visible()
        expect(page.locator("#action-feedback .ok")).to_have_text("Acknowledge: done")
        expect(page.locator("dd[data-field=acknowledged]")).to_contain_text("by admin")
        expect(page.locator("#op-acknowledge")).to_be_disabled()
        expect(page.locator(".timeline")).to_contain_text("looking at db-1")
        after = ticket(server, ticket_id)
        assert after["status"] == "acknowledged"
        assert after["acknowledged_by"] == "admin"

        # Root cause, through PATCH: stamps `localized`.
        page.select_option("#rc-service", "batch")
        page.fill("#rc-category", "capacity")
        page.click("#op-root-cause")
        expect(page.locator("dd[data-field=localized] time")).to_be_visible()
        assert ticket(server, ticket_id)["root_cause"] == {
            "service": "batch",
            "category": "capacity",
        }

        # Comment, severity, verdict: each lands on the ticket and its timeline.
        page.fill("#comment", "swapping the disk")
        page.click("#op-comment")
        expect(page.locator(".timeline")).to_contain_text("swapping the disk")
        page.select_option("#set-severity", "high")
        page.click("#op-severity")
        expect(page.locator(".ticket-header .badge.severity-high")).to_be_visible()
        page.click("#op-false-alarm")
        expect(page.locator("#op-false-alarm")).to_have_text("Clear false alarm")
        after = ticket(server, ticket_id)
        assert (after["severity"], after["severity_set_by"], after["false_alarm"]) == (
            "high",
            "admin",
            True,
        )

        # Back on the list the ticket is amber now; the resolved one has left the open list.
        page.click("nav a[data-view=tickets]")
        expect(row).to_have_class(re.compile(r"\bstatus-acknowledged\b"))
        expect(page.locator("#ticket-summary")).to_contain_text("1 triggered · 1 acknowledged")
        expect(bad).to_have_count(0)

        # The list refreshes itself every 10 s: a new ticket shows up without a reload.
        late = post_alert(server, summary="Checkout errors", dedup="late", service="checkout")
        late_row = page.locator(f"tr[data-ticket='{late['ticket_id']}']")
        expect(late_row).to_have_count(0)
        page.clock.fast_forward(10_000)
        expect(late_row).to_have_class(re.compile(r"\bstatus-triggered\b"))
        page.screenshot(path=os.environ.get(SCREENSHOT) or tmp_path / "tickets.png")

        # Silences: a bad matcher is refused with the field named; a good one is created.
        page.click("nav a[data-view=silences]")
        page.fill("#silence-matchers", "service=~=oops")
        page.fill("#silence-comment", "bad matcher")
        page.click("#silence-form button[type=submit]")
        problem = page.locator("#silence-feedback .problem")
        expect(problem).to_contain_text("(422)")
        expect(problem).to_contain_text("matchers[0]")
        page.fill("#silence-matchers", 'service="batch"\nalertname="DiskFull"')
        page.fill("#silence-duration", "1h")
        page.fill("#silence-comment", "db-1 disk being replaced")
        page.click("#silence-form button[type=submit]")
        expect(page.locator("#silence-feedback .ok")).to_contain_text("active")
        expect(page.locator("#silence-list")).to_contain_text("db-1 disk being replaced")
        silences = server.api("GET", "/api/v1/silences").json()["silences"]
        assert [s["matchers"] for s in silences] == [['service="batch"', 'alertname="DiskFull"']]

        # Why wasn't I paged? The muted event says why.
        page.click("nav a[data-view=events]")
        page.select_option("#decision", "muted")
        expect(page.locator("#event-list")).to_contain_text("staging never pages")
        expect(page.locator("#event-list")).not_to_contain_text("queue backlog growing")

        # Integrations: the rejected payload is counted, with its error and a sample.
        page.click("nav a[data-view=integrations]")
        gen = page.locator("tr[data-integration=gen]")
        expect(gen.locator("td.bad")).to_have_text("1")
        expect(gen).to_contain_text("HTTP 400")
        gen.locator("summary").click()
        expect(gen.locator("pre")).to_have_text("{not json")

        # The silence expires with two clicks.
        page.click("nav a[data-view=silences]")
        expire = page.locator("#silence-list button.danger")
        expire.click()
        expect(expire).to_have_text("Really expire?")
        expire.click()
        expect(page.locator("#silence-feedback .ok")).to_contain_text("expired")
        expect(page.locator("#silence-list")).to_contain_text("No silences.")

        # Signing out forgets the token.
        page.click("#sign-out")
        expect(page.locator("#token")).to_be_visible()
        assert page.evaluate("sessionStorage.length") == 0
    finally:
        page.close()
    # Provoked on purpose: the wrong token (401) and the bad matcher (422).
    assert errors.unexpected("status of 401", "status of 422") == []


def test_console_files_are_served_with_a_strict_policy(server: ServerProcess) -> None:
    with server.client() as client:
        index = client.get("/console/")
        assert index.status_code == 200
        assert index.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in index.headers["content-security-policy"]
        assert client.get("/console").headers["location"].endswith("console/")
        script = client.get("/console/main.js")
        assert script.headers["content-type"].startswith("text/javascript")
        for bad in ("../app.py", "..%2Fconsole.py", ".hidden.js", "console.py", "nope.js"):
            assert client.get(f"/console/{bad}").status_code == 404, bad
    me = server.api("GET", "/api/v1/me")
    assert me.json() == {"actor": "admin", "user_id": None, "admin": True}
    made = server.api("POST", "/api/v1/tokens", json={"name": "wallboard"})
    assert made.status_code == 201, made.text
    with server.client() as client:
        wallboard = {"Authorization": f"Bearer {made.json()['token']}"}
        assert client.get("/api/v1/me", headers=wallboard).json() == {
            "actor": "token:wallboard",
            "user_id": None,
            "admin": False,
        }
        assert client.get("/api/v1/me").status_code == 401
        assert "/api/v1/me" in client.get("/openapi.json").json()["paths"]
