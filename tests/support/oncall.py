"""A Watchkeeper that pages: the test harness with SMTP, an SMS gateway and a public URL set,
real loopback receivers, and steps that advance the fake clock and wait for deliveries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from starlette.testclient import TestClient
from tests.support.harness import ADMIN, Harness
from tests.support.receivers import HttpReceiver, Mail, Request, smtp_server

from watchkeeper.api.app import create_app
from watchkeeper.clock import FakeClock, from_epoch
from watchkeeper.engine.delivery import DeliveryModule
from watchkeeper.runtime import build_runtime
from watchkeeper.settings import Settings
from watchkeeper.storage import tables
from watchkeeper.storage import tokens as tokens_q

PUBLIC_URL = "https://oncall.example.test"
GEN_KEY = "gen-key-0123456789abcdef"


@dataclass
class OnCall:
    """The harness plus its receivers: `http` (webhooks, chat, the SMS gateway at /sms) and
    `mails` (the SMTP server)."""

    h: Harness
    http: HttpReceiver
    mails: list[Mail]
    _tokens: dict[str, str] = field(default_factory=dict)

    @property
    def clock(self) -> FakeClock:
        return self.h.clock

    @property
    def delivery(self) -> DeliveryModule:
        return next(m for m in self.h.engine.modules if isinstance(m, DeliveryModule))

    def settle(self) -> None:
        """Run the engine now and wait until every message it took is sent and recorded."""
        for _ in range(5):
            self.h.engine.tick()
            assert self.delivery.wait_idle(30), "deliveries still in flight after 30s"
            if not self._due():
                return

    def jump(self, seconds: float) -> None:
        """Move the clock in one jump, then let the engine catch up (as after an outage)."""
        self.clock.advance(seconds)
        self.settle()

    def run(self, seconds: float) -> None:
        """Move the clock `seconds` with an engine that ticks all along: it stops at every
        instant a timer falls due, so each step happens exactly when it is due."""
        self.until(self.clock.now() + timedelta(seconds=seconds))

    def until(self, when: datetime) -> None:
        while True:
            due = self._next_due()
            if due is None or due > when.timestamp():
                break
            if due > self.clock.now().timestamp():
                self.clock.set(from_epoch(due))
            self.settle()
        self.clock.set(when)
        self.settle()

    def _due(self) -> bool:
        due = self._next_due()
        return due is not None and due <= self.clock.now().timestamp()

    def _next_due(self) -> float | None:
        timers = tables.timers.c
        with self.h.rt.db.connect() as conn:
            value = conn.execute(
                select(func.min(timers.due_at)).where(
                    timers.kind.in_(("escalate", "ack_timeout", "deliver")),
                    timers.lease_until.is_(None),
                )
            ).scalar()
        return float(value) if value is not None else None

    def token(self, user: str) -> str:
        # Straight in the table: POST /api/v1/tokens with a user waits on SQLite's write lock
        # held by its own transaction (reported).
        if user not in self._tokens:
            with self.h.rt.db.begin() as conn:
                _id, token = tokens_q.create(
                    conn, user_id=user, name=user, admin=False, now=self.h.rt.now()
                )
            self._tokens[user] = token
        return self._tokens[user]

    # --- what arrived ------------------------------------------------------------------------

    def sms(self, phone: str | None = None) -> list[Request]:
        return [r for r in self.http.to("/sms") if phone is None or r.json()["to"] == phone]

    def hooks(self, path: str) -> list[Request]:
        return self.http.to(path)

    def alert(self, dedup: str = "disk", **fields: Any) -> None:
        """A generic alert; alerts with the same `source` (default: the dedup key) share a
        ticket when the integration groups by source."""
        body = {"summary": f"{dedup} is failing", "dedup": dedup, "source": dedup}
        body.update(fields)
        self.h.generic(GEN_KEY, **body)
        self.settle()

    def ticket(self, index: int = -1) -> Any:
        return self.h.tickets()[index]

    def timeline(self, ticket_id: int) -> list[Any]:
        with self.h.rt.db.connect() as conn:
            stmt = (
                select(tables.timeline)
                .where(tables.timeline.c.ticket_id == ticket_id)
                .order_by(tables.timeline.c.id)
            )
            return list(conn.execute(stmt).all())

    def notifications(self, *where: Any) -> list[Any]:
        with self.h.rt.db.connect() as conn:
            stmt = select(tables.notifications).where(*where).order_by(tables.notifications.c.id)
            return list(conn.execute(stmt).all())

    def act(self, operation: str, ticket_id: int, *, by: str | None = None) -> Any:
        """A ticket operation through the API, as user `by` (else as the admin)."""
        headers = {"Authorization": f"Bearer {self.token(by)}"} if by else {}
        response = self.h.api("POST", f"/api/v1/tickets/{ticket_id}/{operation}", headers=headers)
        assert response.status_code == 200, response.text
        self.settle()
        return response.json()


@contextmanager
def oncall(db_url: str, config: str, *, start: datetime | None = None) -> Iterator[OnCall]:
    """`config` may use {hook} (the HTTP receiver's base URL) in its text."""
    clock = FakeClock(start) if start else FakeClock()
    http = HttpReceiver(now=clock.now)
    try:
        with smtp_server(now=clock.now) as (mails, smtp_port):
            settings = Settings(
                db_url=db_url,
                admin_token=ADMIN,
                public_url=PUBLIC_URL,
                secret_key="scenario-secret-key-0123456789",
                smtp_host="127.0.0.1",
                smtp_port=smtp_port,
                smtp_tls="none",
                smtp_from="watchkeeper@example.test",
                sms_gateway_url=http.url("/sms"),
                voice_gateway_url=http.url("/voice"),
            )
            rt = build_runtime(settings, clock=clock)
            with TestClient(create_app(rt), raise_server_exceptions=True) as client:
                h = Harness(rt, client, clock)
                try:
                    h.apply(config.replace("{hook}", http.url("")))
                    yield OnCall(h, http, mails)
                finally:
                    h.engine.stop()
            rt.db.dispose()
    finally:
        http.close()
