"""The escalation stage: what a ticket's changes mean for paging, in the ticket's transaction.

Opening starts escalation (after the policy's time-of-day rules); acknowledging, resolving,
closing and merging stop it and cancel every notification not sent yet, so nothing goes out
after the acknowledgement commits except a message already in flight; an acknowledgement
timeout, unacknowledging, reopening and "escalate now" start a new round. The engine's
escalation and delivery modules then walk the levels and deliver (engine/escalation.py,
engine/delivery.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Connection

from watchkeeper.clock import Clock, from_epoch
from watchkeeper.engine import policy as policy_view
from watchkeeper.engine.paging import describe, page_people
from watchkeeper.notify.settings import GatewaySettings, SmtpSettings
from watchkeeper.oncall.targets import resolve
from watchkeeper.pipeline.snapshot import Snapshot
from watchkeeper.settings import Settings
from watchkeeper.storage import notifications as notifications_q
from watchkeeper.storage import tickets as tickets_q
from watchkeeper.storage import timers as timers_q

ESCALATE_TIMER: Final = "escalate"
ACK_TIMEOUT_TIMER: Final = "ack_timeout"
LINK_LIFETIME: Final = 7 * 86400.0  # a page read after a week has lost its point anyway

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class ResponseOptions:
    """What paging needs from the process settings."""

    base_url: str = "http://127.0.0.1:8080"
    secret: bytes = b""  # signs one-click links; shorter than 16 bytes: no links
    smtp: SmtpSettings | None = None
    sms: GatewaySettings | None = None
    voice: GatewaySettings | None = None
    delivery_lease: float = 30.0
    delivery_workers: int = 8
    link_lifetime: float = LINK_LIFETIME


def response_options(settings: Settings) -> ResponseOptions:
    smtp = None
    if settings.smtp_host:
        smtp = SmtpSettings(
            host=settings.smtp_host,
            port=settings.smtp_port,
            user=settings.smtp_user,
            password=settings.smtp_password,
            tls=settings.smtp_tls,
            from_address=settings.smtp_from,
        )
    return ResponseOptions(
        base_url=settings.base_url,
        secret=settings.secret_key.encode(),
        smtp=smtp,
        sms=_gateway(settings.sms_gateway_url, settings.sms_gateway_token),
        voice=_gateway(settings.voice_gateway_url, settings.voice_gateway_token),
        delivery_lease=settings.delivery_lease_seconds,
    )


def _gateway(url: str | None, token: str | None) -> GatewaySettings | None:
    return GatewaySettings(url=url, token=token) if url else None


class EscalationStage:
    """A TicketListener; it also carries what the engine's paging modules need."""

    def __init__(
        self, *, snapshot: Callable[[], Snapshot], clock: Clock, options: ResponseOptions
    ) -> None:
        self.snapshot = snapshot
        self.clock = clock
        self.options = options
        self._due_now = False

    def take_due_now(self) -> bool:
        """Whether, since the last call, a transaction scheduled paging due at once (it may
        not have committed yet). The engine asks when woken after a commit: a page is worth a
        tick right away, while other wake-ups are spaced out under a storm."""
        due, self._due_now = self._due_now, False
        return due

    # --- TicketListener --------------------------------------------------------------------

    def opened(self, conn: Connection, ticket: dict[str, Any], now: float) -> None:
        policy = ticket.get("policy")
        if not policy:
            tickets_q.add_timeline(
                conn,
                ticket["id"],
                at=now,
                kind="escalation",
                message=f"service {ticket['service_id']} has no escalation policy: nobody is paged",
            )
            return
        try:
            plan = policy_view.start(
                policy,
                severity=str(ticket["severity"]),
                now=from_epoch(now),
                policies=self.snapshot().policies,
            )
        except (ValueError, KeyError, TypeError) as exc:
            # Never fail the alert's transaction over a rule: page from the first level.
            log.exception(
                "ticket %s: the rules of policy %s failed", ticket["id"], policy.get("id")
            )
            plan = policy_view.Start(
                policy,
                0,
                now,
                f"the policy's rules could not be read ({exc}): escalating from level 1",
            )
        if plan.policy is not policy:
            tickets_q.update(conn, ticket["id"], policy=dict(plan.policy))
        if plan.note:
            tickets_q.add_timeline(
                conn,
                ticket["id"],
                at=now,
                kind="escalation",
                message=plan.note,
                data={"policy": plan.policy.get("id"), "level": plan.level},
            )
        schedule_step(
            conn,
            ticket["id"],
            round_=int(ticket["round"]),
            level=plan.level,
            pass_=0,
            due_at=plan.due_at,
        )
        if plan.due_at <= now:
            self._due_now = True

    def changed(
        self, conn: Connection, ticket: dict[str, Any], event: str, now: float, actor: str | None
    ) -> None:
        status = ticket["status"]
        if event == "acknowledged":
            self._stop(conn, ticket, now, f"acknowledged by {actor or 'someone'}")
            timeout = policy_view.ack_timeout(ticket.get("policy") or {})
            if timeout:
                timers_q.schedule(
                    conn,
                    kind=ACK_TIMEOUT_TIMER,
                    ref=str(ticket["id"]),
                    due_at=now + timeout,
                    payload={"round": ticket["round"]},
                )
        elif event in ("resolved", "closed") or (event == "merged" and status == "resolved"):
            timers_q.cancel(conn, kind=ACK_TIMEOUT_TIMER, ref=str(ticket["id"]))
            self._stop(conn, ticket, now, f"{event} by {actor or 'the system'}")
        elif event == "unacknowledged":
            timers_q.cancel(conn, kind=ACK_TIMEOUT_TIMER, ref=str(ticket["id"]))
            round_ = int(ticket["round"]) + 1
            tickets_q.update(conn, ticket["id"], round=round_)
            self._restart(conn, ticket, round_, 0, now, "unacknowledged")
        elif event == "reopened":
            self._restart(conn, ticket, int(ticket["round"]), 0, now, "reopened")
        elif event == "escalated":
            timers_q.cancel(conn, kind=ACK_TIMEOUT_TIMER, ref=str(ticket["id"]))
            count = len(policy_view.levels(ticket.get("policy") or {}))
            last = ticket.get("escalation_level")
            level = min((-1 if last is None else int(last)) + 1, max(count - 1, 0))
            self._restart(
                conn, ticket, int(ticket["round"]), level, now, "escalated by hand", manual=True
            )
        elif event == "alert_joined" and status == "acknowledged":
            self._update(conn, ticket, now)

    # --- helpers ---------------------------------------------------------------------------

    def _stop(self, conn: Connection, ticket: dict[str, Any], now: float, why: str) -> None:
        timers_q.cancel(conn, kind=ESCALATE_TIMER, ref=str(ticket["id"]))
        cancelled = notifications_q.cancel_pending(conn, int(ticket["id"]))
        if cancelled:
            names = ", ".join(f"{r.user_id} by {r.contact_type}" for r in cancelled)
            tickets_q.add_timeline(
                conn,
                ticket["id"],
                at=now,
                kind="notification",
                message=f"{why}: cancelled {len(cancelled)} notifications not sent yet ({names})",
                data={"cancelled": [r.id for r in cancelled]},
            )

    def _restart(
        self,
        conn: Connection,
        ticket: dict[str, Any],
        round_: int,
        level: int,
        now: float,
        why: str,
        *,
        manual: bool = False,
    ) -> None:
        if not ticket.get("policy"):
            return
        levels = policy_view.levels(ticket["policy"])
        label = levels[level].label if level < len(levels) else f"level {level + 1}"
        tickets_q.add_timeline(
            conn,
            ticket["id"],
            at=now,
            kind="escalation",
            message=f"{why}: escalating from {label} (round {round_})",
            data={"round": round_, "level": level},
        )
        pass_ = int(ticket.get("escalation_pass") or 0) if manual else 0
        schedule_step(
            conn, ticket["id"], round_=round_, level=level, pass_=pass_, due_at=now, manual=manual
        )
        self._due_now = True

    def _update(self, conn: Connection, ticket: dict[str, Any], now: float) -> None:
        """A new alert on an acknowledged ticket: one message to who acknowledged it, or to the
        first level when a source (or a token without a person) acknowledged it."""
        snap = self.snapshot()
        directory = snap.directory
        who = ticket.get("acknowledged_by")
        if who in directory.people:
            users: tuple[str, ...] = (str(who),)
        else:
            levels = policy_view.levels(ticket.get("policy") or {})
            if not levels:
                return
            users = resolve(directory, levels[0].targets, from_epoch(now)).users
        paged = page_people(
            conn,
            directory,
            ticket=ticket,
            round_=int(ticket["round"]),
            level=-int(ticket.get("alert_count") or 1),
            users=users,
            kind="update",
            now=now,
        )
        if paged.anyone:
            self._due_now = True
            tickets_q.add_timeline(
                conn,
                ticket["id"],
                at=now,
                kind="notification",
                message=f"new alert on an acknowledged ticket: telling {describe(paged.planned)}",
            )


def schedule_step(
    conn: Connection,
    ticket_id: int,
    *,
    round_: int,
    level: int,
    pass_: int,
    due_at: float,
    manual: bool = False,
) -> None:
    payload: dict[str, Any] = {"round": round_, "level": level, "pass": pass_}
    if manual:
        payload["manual"] = True
    timers_q.schedule(conn, kind=ESCALATE_TIMER, ref=str(ticket_id), due_at=due_at, payload=payload)
