"""The stage of the live replay: narration, story time, requests over HTTP, and people.

`Stage` sends senders' requests to the running server and prints what came of them, moves
the server's clock ahead a minute at a time (re-sending what Prometheus would re-send and
ticking the engine), shows the pages the receiver got, and acts for the on-call people
through the REST API with tokens that act as them.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from rich.console import Console
from rich.markup import escape
from sqlalchemy import select

from watchkeeper.demo import wire
from watchkeeper.demo.receiver import Page, PageReceiver
from watchkeeper.demo.responders import Responders
from watchkeeper.demo.server import DemoServer, ReplayClock
from watchkeeper.demo.wire import PromAlert, Wire
from watchkeeper.storage import tables
from watchkeeper.storage import tokens as tokens_q

FORMAT_NAMES = {
    "alertmanager": "Alertmanager webhook",
    "alertmanager-api": "Prometheus → API v2",
    "grafana": "Grafana webhook",
    "pagerduty": "PagerDuty Events v2",
    "pagerduty-change": "PagerDuty change",
    "opsgenie": "Opsgenie API",
    "opsgenie-action": "Opsgenie action",
    "generic": "Generic JSON",
    "cloudevents": "CloudEvents",
    "heartbeat": "Heartbeat",
    "feedback": "User feedback",
}


@dataclass
class LiveResult:
    started: datetime
    requests: Counter[str] = field(default_factory=Counter)
    pages: list[Page] = field(default_factory=list)
    tickets: dict[str, int] = field(default_factory=dict)  # service -> ticket id
    quiet_after_ack: bool | None = None


class Stage:
    def __init__(
        self,
        *,
        server: DemoServer,
        clock: ReplayClock,
        receiver: PageReceiver,
        doc: dict[str, Any],
        console: Console,
        admin_token: str,
        pace: float = 0.0,
    ) -> None:
        self.server = server
        self.clock = clock
        self.receiver = receiver
        self.console = console
        self.pace = pace
        self.people = Responders(doc)
        self.keys = {i["id"]: str(i["key"]) for i in doc["integrations"]}
        self.http = httpx.Client(base_url=server.url, timeout=15.0)
        self.admin = {"Authorization": f"Bearer {admin_token}"}
        self.tokens: dict[str, str] = {}
        self.start = clock.now().replace(microsecond=0)
        self.result = LiveResult(started=self.start)
        self._shown = receiver.count("live")
        self.prometheus_firing: list[PromAlert] = []

    # --- narration ---------------------------------------------------------------------------

    def stamp(self) -> str:
        return self.clock.now().astimezone().strftime("%H:%M:%S")

    def say(self, text: str) -> None:
        self.console.print(f"[dim]{self.stamp()}[/dim]  {text}")
        if self.pace:
            time.sleep(self.pace)

    def scene(self, text: str) -> None:
        self.console.print()
        self.console.print(f"[dim]{self.stamp()}[/dim]  [bold]{text}[/bold]")

    def show_pages(self) -> None:
        self.receiver.wait_quiet(quiet=0.05, timeout=1.0)
        pages = self.receiver.pages("live")
        levels = self._levels([p.delivery_id for p in pages[self._shown :]])
        for page in pages[self._shown :]:
            role = levels.get(page.delivery_id, "")
            tickets = ", ".join(
                f"#{t.get('id')} {t.get('service')} [{t.get('severity')}]" for t in page.tickets
            )
            self.console.print(
                f"[dim]{self.stamp()}[/dim]  [magenta]📟 page → {page.user}[/magenta]"
                f"{f' ({role})' if role else ''}: {escape(tickets or page.title)}"
            )
        self._shown = len(pages)

    def _levels(self, delivery_ids: Sequence[str]) -> dict[str, str]:
        """The escalation level each page was sent for, from the notification log."""
        if not delivery_ids:
            return {}
        n = tables.notifications.c
        stmt = select(n.delivery_id, n.level, n.kind).where(n.delivery_id.in_(delivery_ids))
        with self.server.rt.db.connect() as conn:
            rows = conn.execute(stmt).all()
        return {r.delivery_id: role_name(r.level, r.kind) for r in rows}

    # --- moving time ---------------------------------------------------------------------------

    def minute(self, offset: float) -> None:
        """Let story time reach `offset` minutes after the start, a minute at a time:
        Prometheus re-sends what still fires and the engine does what falls due."""
        target = self.start + timedelta(minutes=offset)
        while self.clock.now() < target:
            step = min(timedelta(minutes=1), target - self.clock.now())
            self.clock.skip(step)
            if self.prometheus_firing:
                self.send(self.prometheus(self.prometheus_firing), quiet=True)
            self.server.tick()
            self.show_pages()

    def catch_up(self) -> None:
        self.clock.skip(self.clock.lag)
        self.server.tick()
        self.show_pages()

    # --- senders and people --------------------------------------------------------------------

    def send(self, request: Wire, note: str = "", *, quiet: bool = False) -> dict[str, Any]:
        response = self.http.request(
            request.method, request.path, content=request.body, headers=dict(request.headers)
        )
        self.result.requests[request.format] += 1
        if response.status_code >= 300:
            raise RuntimeError(
                f"{request.method} {request.path} answered {response.status_code}: {response.text}"
            )
        body = response.json() if response.content else {}
        if not quiet:
            outcome = _outcome(body) or str(response.status_code)
            self.say(
                f"[cyan]{FORMAT_NAMES[request.format]:<20}[/cyan] {note} [dim]→ {outcome}[/dim]"
            )
            # whatever the request set off (a first page) happens now, before the story goes on
            self.server.tick()
            self.show_pages()
        return body if isinstance(body, dict) else {}

    def api(self, method: str, path: str, user: str | None = None, **kwargs: Any) -> Any:
        headers = self.admin if user is None else {"Authorization": f"Bearer {self._token(user)}"}
        response = self.http.request(method, path, headers=headers, **kwargs)
        if response.status_code >= 300:
            raise RuntimeError(f"{method} {path} answered {response.status_code}: {response.text}")
        return response.json() if response.content else None

    def _token(self, user: str) -> str:
        """A token that acts as `user`, issued as `watchkeeper token create --user` would."""
        if user not in self.tokens:
            with self.server.rt.db.begin() as conn:
                _, token = tokens_q.create(
                    conn, user_id=user, name="demo", admin=False, now=self.server.rt.now()
                )
            self.tokens[user] = token
        return self.tokens[user]

    def ticket_of(self, service: str) -> dict[str, Any] | None:
        found = self.api("GET", "/api/v1/tickets", params={"service": service, "limit": 5})
        live = [t for t in found["tickets"] if _instant(t["detected"]) >= self.start]
        return live[0] if live else None

    def acknowledge(self, service: str) -> str | None:
        """The person the policy has paged by now acknowledges: with the one-click link of
        the page they got when there is one, else through the API (as `tickets ack` does)."""
        ticket = self.ticket_of(service)
        if ticket is None or ticket["status"] != "triggered":
            return None
        detected = _instant(ticket["detected"])
        waited = (self.clock.now() - detected).total_seconds()
        answer = self.people.answering(service, detected, waited)
        user = answer.user if answer else "alice"
        role = f" ({answer.role})" if answer else ""
        link = self._link(user, int(ticket["id"]))
        if link is not None and self.http.post(link).status_code == 200:
            how = "with the page's one-click link"
        else:
            self.api("POST", f"/api/v1/tickets/{ticket['id']}/acknowledge", user, json={})
            how = "in the API"
        self.say(
            f"[green]✔ {user}{role} acknowledges ticket #{ticket['id']}[/green] ({service})"
            f" [dim]{how}[/dim]"
        )
        self.result.tickets[service] = int(ticket["id"])
        return user

    def _link(self, user: str, ticket_id: int) -> str | None:
        """The acknowledge link of the latest page `user` got for the ticket."""
        for page in reversed(self.receiver.pages("live")):
            for notice in page.tickets if page.user == user else ():
                if str(notice.get("id")) == str(ticket_id) and notice.get("acknowledge_url"):
                    return str(notice["acknowledge_url"])
        return None

    def resolve_by_hand(self, service: str, user: str, note: str) -> None:
        ticket = self.ticket_of(service)
        if ticket is None or ticket["status"] not in ("triggered", "acknowledged"):
            return
        self.api("POST", f"/api/v1/tickets/{ticket['id']}/resolve", user, json={"note": note})
        self.say(f"[green]✔ {user} resolves ticket #{ticket['id']}[/green] ({service}): {note}")

    # --- the incident ------------------------------------------------------------------------

    def prometheus(self, alerts: Sequence[PromAlert]) -> Wire:
        """Prometheus re-sends firing alerts with an endsAt a few evaluations ahead."""
        now = self.clock.now()
        fresh = [
            PromAlert(a.labels, a.annotations, a.starts_at, now + timedelta(minutes=4))
            for a in alerts
        ]
        return wire.prometheus_alerts(self.keys["prometheus-main"], fresh)

    def close(self) -> None:
        self.http.close()


def role_name(level: int, kind: str) -> str:
    """The demo's policies all run first line, second line, leader."""
    if level < 0:
        return kind
    return ("first line", "second line", "leader")[level] if level < 3 else f"level {level + 1}"


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _outcome(body: dict[str, Any]) -> str:
    events = body.get("events")
    if not isinstance(events, list) or not events:
        return ""
    decisions = Counter(str(e.get("decision")) for e in events)
    tickets = sorted({e["ticket_id"] for e in events if e.get("ticket_id")})
    text = ", ".join(f"{d} ×{n}" if n > 1 else d for d, n in decisions.items())
    if tickets:
        text += " into ticket " + ", ".join(f"#{t}" for t in tickets)
    return text
