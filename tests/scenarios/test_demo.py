"""`watchkeeper demo`: the history tells the shop's story, and the live storm converges.

The history is produced by the pipeline (requests through the ingest adapters, people
through the ticket lifecycle, the engine on a clock set back), so what is asserted here is
what the pipeline recorded, not numbers the demo wrote.
"""

from __future__ import annotations

import io
import socket
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import Engine, func, select

from watchkeeper.demo.run import demo
from watchkeeper.storage import tables
from watchkeeper.storage.db import open_engine

T, E, N = tables.tickets.c, tables.events.c, tables.notifications.c
PEOPLE = {"alice", "bob", "chen", "dana", "emil", "farah", "gus", "hana"}


def quiet_console() -> Console:
    return Console(file=io.StringIO(), width=120)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def week(db_url: str) -> Iterator[Engine]:
    """A database filled as `watchkeeper demo --history-only --db URL` fills it, for 7 days."""
    result = demo(db_url=db_url, history_only=True, days=7, console=quiet_console())
    assert result.history is not None and result.history.tickets > 0
    db = open_engine(db_url)
    yield db
    db.dispose()


def test_history_tells_the_story_through_the_pipeline(week: Engine) -> None:
    with week.connect() as conn:
        tickets = conn.execute(select(tables.tickets)).all()
        without_events = conn.execute(
            select(func.count())
            .select_from(tables.tickets)
            .where(~T.id.in_(select(E.ticket_id).where(E.ticket_id.is_not(None))))
        ).scalar_one()
        pages = conn.execute(select(func.count()).where(N.status == "sent")).scalar_one()
    per_service = Counter(t.service_id for t in tickets)
    # services differ in reliability: the noisy web shop fails often, the cache not this week
    assert per_service["web-frontend"] >= 2
    assert per_service["cache"] == 0
    # search incidents are mostly found by customers, through the feedback channel
    search = [t for t in tickets if t.service_id == "search"]
    assert search and any(t.channel_kind == "feedback" for t in search)
    assert any(t.false_alarm for t in tickets)
    done = [t for t in tickets if t.status in ("resolved", "closed")]
    assert sum(1 for t in done if t.root_cause_category) >= 0.6 * len(done)
    assert {t.acknowledged_by for t in tickets} & PEOPLE
    # every ticket came from events the pipeline recorded (none was written as a number)
    assert without_events == 0
    assert pages > 0  # the engine paged people while the clock ran through the week


def test_live_replay_converges_the_storm_pages_and_stops_on_ack(tmp_path: Path) -> None:
    console = quiet_console()
    result = demo(
        db_url=f"sqlite:///{tmp_path / 'demo.db'}",
        port=free_port(),
        keep_running=False,
        days=1,
        console=console,
    )
    assert result.funnel is not None and result.live is not None
    # many events from eight wire formats became a handful of tickets
    assert result.funnel.events >= 60
    assert 5 <= result.funnel.tickets <= 8
    assert result.funnel.alerts > result.funnel.tickets
    db = open_engine(result.db_url)
    try:
        since = result.live.started.timestamp()
        with db.connect() as conn:
            live = conn.execute(select(tables.tickets).where(T.detected_at >= since)).all()
            reasons = Counter(
                str(r.decision)
                for r in conn.execute(
                    select(E.decision).where(
                        E.received_at >= since, E.decision.in_(("dropped", "muted"))
                    )
                )
            )
    finally:
        db.dispose()
    assert {t.status for t in live} == {"resolved"}
    database = next(t for t in live if t.service_id == "orders-db")
    assert database.root_cause_category == "capacity"
    feedback = [t for t in live if t.service_id == "checkout"]
    assert feedback and feedback[0].alert_count >= 3  # the customer's report joined it
    assert reasons["dropped"] >= 1 and reasons["muted"] >= 3
    # the first line was paged, the database's second line after nobody answered, then quiet
    paged = {(p.user, t.get("service")) for p in result.live.pages for t in p.tickets}
    assert len({user for user, _ in paged}) >= 3
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "(second line)" in text, text
    assert result.live.quiet_after_ack is True, text
