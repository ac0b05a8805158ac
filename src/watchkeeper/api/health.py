"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse
from sqlalchemy import func, select, text

from watchkeeper.api.deps import RuntimeDep
from watchkeeper.errors import Unavailable
from watchkeeper.pipeline.escalate import ACK_TIMEOUT_TIMER, ESCALATE_TIMER
from watchkeeper.pipeline.flow import HEARTBEAT_TIMER
from watchkeeper.pipeline.ticket import AUTO_RESOLVE_TIMER
from watchkeeper.storage import rejections as rejections_q
from watchkeeper.storage.notifications import DELIVER_TIMER
from watchkeeper.storage.tables import alerts, escalation_problems, tickets, timers

OVERDUE_AFTER = 60.0
# every kind of timer row, so a stuck engine shows as a number rising from 0
TIMER_KINDS = (
    ESCALATE_TIMER,
    ACK_TIMEOUT_TIMER,
    DELIVER_TIMER,
    AUTO_RESOLVE_TIMER,
    HEARTBEAT_TIMER,
)

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(rt: RuntimeDep) -> dict[str, Any]:
    try:
        with rt.reader.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        raise Unavailable(f"database unreachable: {type(exc).__name__}") from None
    return {"status": "ready", "config_version": rt.snapshots.current.version}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(rt: RuntimeDep) -> str:
    lines: list[str] = []

    def family(name: str, kind: str, help_text: str) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")

    family(
        "watchkeeper_ingested_items_total",
        "counter",
        "Items accepted and committed, per integration (this process).",
    )
    for integration, count in sorted(rt.ingest_counts.items()):
        lines.append(
            f'watchkeeper_ingested_items_total{{integration="{_escape(integration)}"}} {count}'
        )
    family(
        "watchkeeper_writer_batches_total",
        "counter",
        "Transactions committed by the ingest writer (this process).",
    )
    lines.append(f"watchkeeper_writer_batches_total {rt.writer.batches}")
    family(
        "watchkeeper_writer_items_total",
        "counter",
        "Items committed by the ingest writer (this process).",
    )
    lines.append(f"watchkeeper_writer_items_total {rt.writer.committed_items}")
    with rt.reader.connect() as conn:
        rejected = rejections_q.all_rows(conn)
        open_tickets = conn.execute(
            select(tickets.c.status, func.count()).group_by(tickets.c.status)
        ).all()
        firing = conn.execute(select(func.count()).where(alerts.c.status == "firing")).scalar_one()
        overdue = conn.execute(
            select(timers.c.kind, func.count())
            .where(timers.c.due_at < rt.now() - OVERDUE_AFTER)
            .group_by(timers.c.kind)
        ).all()
        problems = conn.execute(select(escalation_problems)).all()
    family(
        "watchkeeper_rejected_payloads_total",
        "counter",
        'Payloads rejected, per integration ("" for unknown keys).',
    )
    for row in rejected:
        label = _escape(row.integration_id)
        lines.append(f'watchkeeper_rejected_payloads_total{{integration="{label}"}} {row.count}')
    family("watchkeeper_tickets", "gauge", "Tickets by status.")
    for status, count in open_tickets:
        lines.append(f'watchkeeper_tickets{{status="{status}"}} {count}')
    family("watchkeeper_alerts_firing", "gauge", "Alerts firing.")
    lines.append(f"watchkeeper_alerts_firing {firing}")
    family(
        "watchkeeper_timers_overdue",
        "gauge",
        f"Timers due more than {OVERDUE_AFTER:.0f} s ago, per kind: no engine is running, or it is "
        "stuck (alert on this).",
    )
    overdue_by_kind: dict[str, int] = {str(kind): int(n) for kind, n in overdue}
    for kind in TIMER_KINDS:
        count = overdue_by_kind.get(kind, 0)
        lines.append(f'watchkeeper_timers_overdue{{kind="{kind}"}} {count}')
    family(
        "watchkeeper_escalation_problems_total",
        "counter",
        "Escalation levels that resolved to nobody (a configuration error), per policy and level.",
    )
    for row in problems:
        policy = _escape(row.policy_id)
        lines.append(
            f'watchkeeper_escalation_problems_total{{policy="{policy}",level="{row.level}"}} '
            f"{row.count}"
        )
    return "\n".join(lines) + "\n"
