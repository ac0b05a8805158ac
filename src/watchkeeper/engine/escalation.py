"""The escalation module: walks a ticket's frozen policy level by level, and lapses
acknowledgements that outlived the policy's ack_timeout.

A step claims the ticket's "escalate" timer, pages the level's people (notification rows and
delivery timers), and schedules the next step `delay` after *now*, not after the step's own due
time: after engines were down, each overdue step fires once, in order, and every level still
gets its full delay to answer before the next one is woken. Nothing here sends: delivery is its
own module, so a slow receiver never holds escalation back; but the messages a step makes that
are due at once are claimed for delivery in the step's transaction and handed to the senders as
soon as it commits (`DeliveryModule.claim_fresh`), so a page does not wait for the delivery
module's next pass.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Connection, Row

from watchkeeper.clock import from_epoch
from watchkeeper.engine import policy as policy_view
from watchkeeper.engine.delivery import DeliveryModule, Send
from watchkeeper.engine.guard import RowGuard
from watchkeeper.engine.paging import Paged, describe, page_people
from watchkeeper.oncall.targets import resolve
from watchkeeper.pipeline.escalate import ACK_TIMEOUT_TIMER, ESCALATE_TIMER, schedule_step
from watchkeeper.pipeline.flow import Pipeline
from watchkeeper.pipeline.snapshot import Snapshot
from watchkeeper.storage import notifications as notifications_q
from watchkeeper.storage import tickets as tickets_q
from watchkeeper.storage import timers as timers_q
from watchkeeper.storage.timers import TimerRow

log = logging.getLogger(__name__)


class EscalationModule:
    name = "escalation"
    timer_kinds = (ESCALATE_TIMER, ACK_TIMEOUT_TIMER)

    def __init__(
        self,
        pipeline: Pipeline,
        owner: str,
        *,
        batch: int = 100,
        delivery: DeliveryModule | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.owner = owner
        self.batch = batch
        self.delivery = delivery
        self.guard = RowGuard(self.name)
        self._ready: list[Send] = []  # claimed with this pass's pages: sent once it commits

    def update_all(self, conn: Connection, snap: Snapshot, now: float) -> int:
        self._ready = []
        with self.guard.passing():
            return self._update_all(conn, snap, now)

    def take_due_now(self) -> bool:
        """Whether a transaction scheduled a step or message due at once (see the stage)."""
        stage = self.delivery.stage if self.delivery is not None else None
        return stage is not None and stage.take_due_now()

    def after_commit(self) -> None:
        """The pass committed: its messages due at once go to the senders."""
        ready, self._ready = self._ready, []
        if ready and self.delivery is not None:
            self.delivery.hand_off(ready)

    def _update_all(self, conn: Connection, snap: Snapshot, now: float) -> int:
        done = 0
        due_now: list[Row[Any]] = []  # notifications this pass recorded that are due at once
        paged_tickets: dict[int, Row[Any]] = {}  # their tickets (locked, triggered)
        # Every row claimed is deleted (or given back) in this transaction: no lease to write.
        for timer in timers_q.claim_due(
            conn,
            kind=(ESCALATE_TIMER, ACK_TIMEOUT_TIMER),
            now=now,
            owner=self.owner,
            lease=None,
            limit=self.batch,
        ):
            if timer.kind == ACK_TIMEOUT_TIMER:
                self._ack_timeout(conn, timer, now)
                done += 1
                continue
            with self.guard.row(conn, timer.id, f"escalating ticket {timer.ref}", now):
                ticket, busy = notifications_q.lock_ticket(conn, int(timer.ref))
                if busy:  # an acknowledgement is committing: look again on the next pass
                    notifications_q.release_timer(conn, timer.id)
                    continue
                timers_q.delete(conn, timer.id)
                if ticket is not None:
                    paged: list[Row[Any]] = []
                    self.step(conn, snap, ticket, dict(timer.payload or {}), now, paged)
                    # not reached when the row failed (and was rolled back)
                    due_now += paged
                    paged_tickets[ticket.id] = ticket
            done += 1
        # Careful passes (after a failure) leave the claims to the delivery module's own pass.
        if due_now and self.delivery is not None and not self.guard.careful:
            self._ready = self.delivery.claim_fresh(conn, snap, due_now, paged_tickets, now)
        return done

    def _ack_timeout(self, conn: Connection, timer: TimerRow, now: float) -> None:
        with self.guard.row(conn, timer.id, f"ack timeout of ticket {timer.ref}", now):
            ticket, busy = notifications_q.lock_ticket(conn, int(timer.ref))
            if busy:
                notifications_q.release_timer(conn, timer.id)
                return
            timers_q.delete(conn, timer.id)
            if ticket is not None and ticket.status == "acknowledged":
                lapsed = policy_view.human(now - (ticket.acknowledged_at or now))
                self.pipeline.lifecycle.unacknowledge(
                    conn,
                    ticket_id=ticket.id,
                    actor=None,
                    now=now,
                    note=f"acknowledgement timed out (not resolved {lapsed} after it)",
                )

    def step(
        self,
        conn: Connection,
        snap: Snapshot,
        ticket: Row[Any],
        plan: dict[str, Any],
        now: float,
        due_now: list[Row[Any]] | None = None,
    ) -> None:
        """Page the planned level (skipping levels that resolve to nobody), then plan the next.
        The notifications recorded that are due at once are added to `due_now`."""
        if ticket.status != "triggered" or int(plan.get("round", ticket.round)) != ticket.round:
            return  # acknowledged, resolved, or a newer round took over
        policy = ticket.policy or {}
        levels = policy_view.levels(policy)
        if not levels:
            return
        repeats = policy_view.repeats(policy)
        round_, level = int(ticket.round), int(plan.get("level", 0))
        pass_ = int(plan.get("pass", 0))
        manual = bool(plan.get("manual"))
        values = dict(ticket._mapping)
        for skipped in range(len(levels) + 1):
            if level >= len(levels):
                if pass_ >= repeats:
                    self._note(
                        conn,
                        ticket.id,
                        now,
                        "escalation finished: nobody acknowledged after"
                        f" {pass_ + 1} pass(es) over policy {policy.get('id')}",
                    )
                    return
                pass_, level, round_ = pass_ + 1, 0, round_ + 1
                tickets_q.update(conn, ticket.id, round=round_, escalation_pass=pass_)
                values["round"] = round_
                self._note(
                    conn,
                    ticket.id,
                    now,
                    f"repeating policy {policy.get('id')}: pass"
                    f" {pass_ + 1} of {repeats + 1} (round {round_})",
                )
            current = levels[level]
            if self._page_level(conn, snap, values, policy, current, round_, now, due_now):
                count = int(ticket.escalation_count)
                notifications_q.escalated(
                    conn,
                    ticket.id,
                    level=level,
                    pass_=pass_,
                    count=count + 1 if level > 0 and not manual else count,
                )
                schedule_step(
                    conn,
                    ticket.id,
                    round_=round_,
                    level=level + 1,
                    pass_=pass_,
                    due_at=now + current.delay,
                )
                return
            if skipped + 1 >= len(levels):
                self._note(
                    conn,
                    ticket.id,
                    now,
                    f"no level of policy {policy.get('id')} resolves to"
                    " anyone: nobody is paged (configuration error)",
                )
                log.error(
                    "ticket %s: no level of policy %s pages anyone", ticket.id, policy.get("id")
                )
                return
            level, manual = level + 1, False

    def _page_level(
        self,
        conn: Connection,
        snap: Snapshot,
        ticket: dict[str, Any],
        policy: dict[str, Any],
        level: policy_view.Level,
        round_: int,
        now: float,
        due_now: list[Row[Any]] | None = None,
    ) -> bool:
        at = from_epoch(now)
        notes: list[str] = []
        order = list(level.targets)
        if level.round_robin and len(order) > 1:
            turn = notifications_q.next_round_robin(conn, str(policy.get("id")), level.index)
            order = [order[(turn + i) % len(order)] for i in range(len(order))]
            groups = [[target] for target in order]  # one target per visit; the next if empty
        else:
            groups = [order]
        paged: Paged | None = None
        chosen: list[str] = []
        for group in groups:
            found = resolve(snap.directory, group, at)
            notes.extend(found.notes)
            paged = page_people(
                conn,
                snap.directory,
                ticket=ticket,
                round_=round_,
                level=level.index,
                users=found.users,
                kind="page",
                now=now,
            )
            notes.extend(paged.unreachable)
            if paged.anyone:
                chosen = group
                break
        if paged is not None and paged.anyone:
            if due_now is not None:
                due_now += [p.row for p in paged.planned if p.row is not None and p.after <= 0]
            text = f"{level.label}: paging {describe(paged.planned)}"
            if level.round_robin and len(level.targets) > 1:
                text += f" (round robin: {chosen[0]})"
            if notes:
                text += f"; not paged: {'; '.join(notes)}"
            tickets_q.add_timeline(
                conn,
                ticket["id"],
                at=now,
                kind="paged",
                message=text,
                data={
                    "round": round_,
                    "level": level.index,
                    "role": level.role,
                    "notifications": [
                        {"user": p.user_id, "contact": p.contact_id, "after": p.after}
                        for p in paged.planned
                    ],
                },
            )
            return True
        reason = "; ".join(notes) or "the level has no targets"
        tickets_q.add_timeline(
            conn,
            ticket["id"],
            at=now,
            kind="level_skipped",
            message=f"{level.label} resolves to nobody ({reason}): skipped to the next level."
            " This is a configuration error.",
            data={"round": round_, "level": level.index, "config_error": True},
        )
        notifications_q.note_problem(
            conn,
            policy_id=str(policy.get("id")),
            level=level.index,
            reason=reason,
            ticket_id=int(ticket["id"]),
            now=now,
        )
        log.warning(
            "escalation policy %s %s resolves to nobody (%s); ticket %s skips it",
            policy.get("id"),
            level.label,
            reason,
            ticket["id"],
        )
        return False

    @staticmethod
    def _note(conn: Connection, ticket_id: int, now: float, message: str) -> None:
        tickets_q.add_timeline(conn, ticket_id, at=now, kind="escalation", message=message)
