"""Time set back: steps run in time order on a fake clock, and the engine fires every timer
at the instant it falls due, as a server running through those days would.

Between two steps the engine is ticked only when a timer row is due (an escalation step, a
notification, an alert's expiry, a heartbeat, a quiet period, a mute's end), at that
timer's own instant: exact times, and no tick where nothing is due.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Float, bindparam, case, func, select, union_all

from watchkeeper.clock import FakeClock, from_epoch
from watchkeeper.engine.loop import Engine
from watchkeeper.errors import Problem
from watchkeeper.runtime import Runtime
from watchkeeper.storage import tables
from watchkeeper.storage import tickets as tickets_q

Step = Callable[[], None]


def _next_due_statement() -> Any:
    t, a, n = tables.timers.c, tables.alerts.c, tables.notifications.c
    after = bindparam("after", type_=Float)
    timer_due = case((t.lease_until > t.due_at, t.lease_until), else_=t.due_at)
    candidates = union_all(
        select(timer_due.label("due")).where(timer_due > after),
        select(a.expires_at.label("due")).where(a.status == "firing", a.expires_at > after),
        select(a.muted_until.label("due")).where(
            a.status == "firing", a.muted_reason.is_not(None), a.muted_until > after
        ),
        select(n.due_at.label("due")).where(n.status == "pending", n.due_at > after),
    ).subquery()
    return select(func.min(candidates.c.due))


_NEXT_DUE = _next_due_statement()


def _due_now_statement() -> Any:
    t, a, n = tables.timers.c, tables.alerts.c, tables.notifications.c
    now = bindparam("now", type_=Float)
    return select(
        union_all(
            select(t.id).where(t.due_at <= now),
            select(a.id).where(a.status == "firing", a.expires_at <= now),
            select(a.id).where(a.status == "firing", a.muted_until <= now),
            select(n.id).where(n.status == "pending", n.due_at <= now),
        )
        .subquery()
        .c.id
    ).limit(1)


_DUE_NOW = _due_now_statement()


def work_due(conn: Connection, now: float) -> bool:
    """Whether some timer has fallen due and is not done yet (leased ones included)."""
    return conn.execute(_DUE_NOW, {"now": now}).first() is not None


def next_due(conn: Connection, after: float) -> float | None:
    """The earliest instant after `after` at which some engine module has work: a timer row
    (escalation step, delivery, heartbeat, quiet period), an alert's expiry or a mute's end."""
    found = conn.execute(_NEXT_DUE, {"after": after}).scalar()
    return None if found is None else float(found)


class Simulation:
    def __init__(self, rt: Runtime, engine: Engine, clock: FakeClock) -> None:
        self.rt = rt
        self.engine = engine
        self.clock = clock
        self._queue: list[tuple[float, int, Step]] = []
        self._order = itertools.count()
        self._ticked = clock.now().timestamp()
        self.ticks = 0
        self.steps = 0

    def at(self, when: datetime, step: Step) -> None:
        heapq.heappush(self._queue, (when.timestamp(), next(self._order), step))

    @property
    def now(self) -> datetime:
        return self.clock.now()

    def run(self, until: datetime, progress: Callable[[datetime], None] | None = None) -> None:
        """Every step due up to `until`, in time order; steps may plan further steps."""
        end = until.timestamp()
        while self._queue and self._queue[0][0] <= end:
            when, _, step = heapq.heappop(self._queue)
            self.advance(when)
            step()
            self.steps += 1
            if progress is not None:
                progress(self.clock.now())
        self.advance(end)
        if progress is not None:
            progress(self.clock.now())

    def advance(self, when: float) -> None:
        """Move the clock to `when`, ticking the engine at each timer due on the way."""
        while True:
            with self.rt.db.connect() as conn:
                due = next_due(conn, self._ticked)
            if due is None or due > when:
                break
            self._move(due)
            self.engine.tick()
            self._settle()
            self.ticks += 1
            self._ticked = due
        self._move(when)

    def _settle(self) -> None:
        """Let modules that act outside their transaction (delivery) finish and record
        their outcome before the clock moves on."""
        for module in self.engine.modules:
            wait_idle = getattr(module, "wait_idle", None)
            if wait_idle is not None:
                wait_idle()

    def _move(self, when: float) -> None:
        if when > self.clock.now().timestamp():
            self.clock.set(from_epoch(when))


class Desk:
    """What the simulated people do to tickets, through the ticket lifecycle's functions."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def status(self, ticket_id: int) -> str | None:
        with self.rt.db.connect() as conn:
            row = tickets_q.get(conn, ticket_id)
        return None if row is None else str(row.status)

    def open_ticket(self, *, service: str, integration: str) -> int | None:
        """The open ticket an engine module opened for this service and integration."""
        c = tables.tickets.c
        stmt = (
            select(c.id)
            .where(
                c.service_id == service,
                c.integration_id == integration,
                c.status.in_(("triggered", "acknowledged")),
            )
            .order_by(c.id.desc())
            .limit(1)
        )
        with self.rt.db.connect() as conn:
            found = conn.execute(stmt).scalar()
        return None if found is None else int(found)

    def _do(self, operation: str, ticket_id: int, **kwargs: Any) -> bool:
        try:
            with self.rt.db.begin() as conn:
                getattr(self.rt.lifecycle, operation)(
                    conn, ticket_id=ticket_id, now=self.rt.now(), **kwargs
                )
        except Problem:
            return False  # the ticket moved on meanwhile (merged, resolved): nothing to do
        return True

    def acknowledge(self, ticket_id: int, user: str) -> bool:
        if self.status(ticket_id) != "triggered":
            return False
        return self._do("acknowledge", ticket_id, actor=user)

    def localize(self, ticket_id: int, user: str, service: str, category: str) -> bool:
        cause = {"service": service, "category": category}
        return self._do("edit", ticket_id, actor=user, fields={"root_cause": cause})

    def false_alarm(self, ticket_id: int, user: str) -> bool:
        return self._do("edit", ticket_id, actor=user, fields={"false_alarm": True})

    def comment(self, ticket_id: int, user: str, text: str) -> bool:
        return self._do("comment", ticket_id, actor=user, text=text)

    def resolve(self, ticket_id: int, user: str, note: str = "") -> bool:
        if self.status(ticket_id) not in ("triggered", "acknowledged"):
            return False
        return self._do("resolve", ticket_id, actor=user, reason=note)

    def close(self, ticket_id: int, user: str, note: str) -> bool:
        if self.status(ticket_id) != "resolved":
            return False
        return self._do("close", ticket_id, actor=user, note=note)
