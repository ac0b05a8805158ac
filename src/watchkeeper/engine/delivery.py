"""The delivery module: claims due notifications, sends them outside any transaction, and
records each attempt.

A claim commits a lease on the notification's "deliver" timer (and its bundling decision);
a small thread pool sends; the outcome is recorded in a new transaction (engine/outcomes.py).
An engine that dies between sending and recording leaves the lease to expire, and another
engine sends again with the same delivery id: the only way a receiver sees a repeat.

A person who already got `BUNDLE_AFTER` messages on one contact method within
`BUNDLE_WINDOW` seconds is not sent more one by one: those notifications join a bundle that
goes out when the window ends and lists every ticket it carries.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Final

from sqlalchemy import Connection, Row
from sqlalchemy import Engine as Database

from watchkeeper.clock import from_epoch
from watchkeeper.engine.guard import RowGuard
from watchkeeper.engine.messages import ticket_notice
from watchkeeper.engine.outcomes import Job, Recorder, unwanted
from watchkeeper.notify.contact import Contact
from watchkeeper.notify.message import Message, TicketNotice
from watchkeeper.notify.registry import Registry
from watchkeeper.notify.result import DeliveryResult, failed
from watchkeeper.notify.settings import NotifySettings, OutboundSettings
from watchkeeper.pipeline.escalate import EscalationStage
from watchkeeper.pipeline.snapshot import Snapshot
from watchkeeper.storage import notifications as notifications_q
from watchkeeper.storage import tickets as tickets_q
from watchkeeper.storage import timers as timers_q
from watchkeeper.storage.timers import TimerRow

BUNDLE_AFTER: Final = 3  # messages a contact method takes one by one within the window
BUNDLE_WINDOW: Final = 60.0
QUEUE_PER_WORKER: Final = 4
LATER: Final = object()  # a claim to look at again on the next pass

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Send:
    """A claimed message, ready for a sender once its claim commits."""

    job: Job
    registry: Registry


class DeliveryModule:
    name = "delivery"
    timer_kinds = (notifications_q.DELIVER_TIMER,)

    def __init__(self, stage: EscalationStage, owner: str) -> None:
        self.stage = stage
        self.options = stage.options
        self.owner = owner
        self._pool = ThreadPoolExecutor(
            max_workers=self.options.delivery_workers, thread_name_prefix="wk-delivery"
        )
        self._lock = threading.Lock()
        self._inflight: set[int] = set()
        self._ready: list[Send] = []
        self._registries: dict[tuple[str, ...], Registry] = {}
        self._db: Database | None = None
        self._wake: Callable[[], None] | None = None
        self._starved = False  # the last claim stopped at the queue's size: more may be due
        self.guard = RowGuard(self.name)

    # --- the engine's side ----------------------------------------------------------------

    def bind_wake(self, wake: Callable[[], None]) -> None:
        """How to make the engine tick again at once: when the queue drains while more
        deliveries are due, rather than idling until the next tick."""
        self._wake = wake

    def update_all(self, conn: Connection, snap: Snapshot, now: float) -> int:
        with self.guard.passing():
            return self._update_all(conn, snap, now)

    def _update_all(self, conn: Connection, snap: Snapshot, now: float) -> int:
        self._db = conn.engine
        self._ready = []
        with self._lock:
            busy = set(self._inflight)
        room = self._room(len(busy))
        if room <= 0:
            self._starved = True
            return 0
        rows = timers_q.claim_due(
            conn,
            kind=notifications_q.DELIVER_TIMER,
            now=now,
            owner=self.owner,
            lease=self.options.delivery_lease,
            limit=room,
        )
        if len(rows) == room:
            self._starved = True
        mine = [timer for timer in rows if int(timer.ref) not in busy]  # else: sending it now
        self._ready, handled = self._take(conn, snap, mine, now)
        return handled

    def claim_fresh(
        self,
        conn: Connection,
        snap: Snapshot,
        notifications: list[Row[Any]],
        tickets: dict[int, Row[Any]],
        now: float,
    ) -> list[Send]:
        """Claim notifications that the caller's transaction just recorded (`notifications`,
        as inserted, and `tickets`, theirs as locked by the caller) and that are due now (an
        escalation step's pages), in that transaction: the lease and the bundling
        decision commit with the page, and the messages go to the senders once it commits
        (`hand_off`), not at this module's next pass. Those beyond the senders' queue are left
        to that pass.

        An error here fails the caller's transaction: the caller then goes on without this
        (its careful passes do), and this module's own pass claims the notifications."""
        with self._lock:
            room = self._room(len(self._inflight))
        taken = notifications[: max(room, 0)]
        if not taken:
            return []
        self._db = conn.engine
        rows = timers_q.claim_refs(
            conn,
            kind=notifications_q.DELIVER_TIMER,
            refs=[str(n.id) for n in taken],
            now=now,
            owner=self.owner,
            lease=self.options.delivery_lease,
        )
        return self._take(conn, snap, rows, now, {n.id: n for n in taken}, tickets)[0]

    def _room(self, inflight: int) -> int:
        return self.options.delivery_workers * QUEUE_PER_WORKER - inflight

    def _take(
        self,
        conn: Connection,
        snap: Snapshot,
        claimed: Sequence[TimerRow],
        now: float,
        found: dict[int, Row[Any]] | None = None,
        tickets: dict[int, Row[Any]] | None = None,
    ) -> tuple[list[Send], int]:
        """Decide each claimed timer: the messages to send, and how many timers were handled
        (not left for the next pass). `found` and `tickets`: the notifications and tickets,
        when the caller has them as they are in this transaction."""
        if found is None:
            found = notifications_q.get_many(conn, [int(timer.ref) for timer in claimed])
        if tickets is None:
            tickets = notifications_q.tickets_by_id(conn, [n.ticket_id for n in found.values()])
        ready: list[Send] = []
        handled = 0
        for timer in claimed:
            row = found.get(int(timer.ref))
            ticket = tickets.get(row.ticket_id) if row is not None else None
            job: Job | object | None = None
            with self.guard.row(conn, timer.id, f"notification {timer.ref}", now):
                job = self._prepare(conn, snap, timer, row, ticket, now)
                if isinstance(job, Job) and job.kind != "bundle" and ticket is not None:
                    # built in the claim's transaction: a sender that takes the job at once
                    # sends it without reading the ticket again
                    notice = self._notice(conn, snap, ticket, job.user_id, now)
                    job = replace(
                        job, message=Message(delivery_id=job.delivery_id, tickets=(notice,))
                    )
            if job is LATER:
                continue  # another engine is deciding for this person's contact method
            handled += 1
            if isinstance(job, Job):
                ready.append(Send(job, self._registry(snap)))
        return ready, handled

    def after_commit(self) -> None:
        """The claims are committed: hand them to the senders."""
        ready, self._ready = self._ready, []
        self.hand_off(ready)

    def hand_off(self, ready: list[Send]) -> None:
        """Committed claims to the senders."""
        for send in ready:
            with self._lock:
                self._inflight.add(send.job.notification_id)
            try:
                self._pool.submit(self._run, send)
            except RuntimeError:  # shutting down: the lease runs out and someone retries
                with self._lock:
                    self._inflight.discard(send.job.notification_id)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Until nothing is being sent (tests, orderly shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._inflight:
                    return True
            time.sleep(0.005)
        return False

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    # --- claiming ---------------------------------------------------------------------------

    def _prepare(
        self,
        conn: Connection,
        snap: Snapshot,
        timer: TimerRow,
        row: Row[Any] | None,
        ticket: Row[Any] | None,
        now: float,
    ) -> Job | object | None:
        """The job to send; None when there is nothing to send; LATER to look again."""
        if row is None or row.status != "pending":
            timers_q.delete(conn, timer.id)
            return None
        person = snap.directory.people.get(row.user_id)
        contact = person.contacts.get(row.contact_id) if person is not None else None
        if person is None or contact is None:
            self._give_up(
                conn,
                timer,
                row,
                now,
                f"contact method {row.contact_id} of {row.user_id} is no longer configured",
            )
            return None
        if row.kind == "bundle":
            return self._prepare_bundle(conn, snap, timer, row, contact, person.time_zone, now)
        why = unwanted(row.kind, ticket)
        if why is not None:
            timers_q.delete(conn, timer.id)
            notifications_q.update(conn, row.id, status="cancelled")
            tickets_q.add_timeline(
                conn,
                row.ticket_id,
                at=now,
                kind="notification",
                message=f"{row.user_id} by {row.contact_type}: not sent, {why}",
            )
            return None
        if row.dispatched_at is None:
            if not notifications_q.lock_contact(conn, row.user_id, row.contact_id):
                notifications_q.release_timer(conn, timer.id)
                return LATER
            recent = notifications_q.recent_dispatches(
                conn, row.user_id, row.contact_id, since=now - BUNDLE_WINDOW
            )
            if len(recent) >= BUNDLE_AFTER:
                self._bundle(conn, timer, row, recent, now)
                return None
            notifications_q.dispatched(conn, row.id, now)
        return Job(
            notification_id=row.id,
            kind=row.kind,
            user_id=row.user_id,
            contact=contact,
            delivery_id=row.delivery_id,
            ticket_ids=(row.ticket_id,),
            time_zone=person.time_zone,
            snap=snap,
            claimed_at=now,
        )

    def _bundle(
        self, conn: Connection, timer: TimerRow, row: Row[Any], recent: list[float], now: float
    ) -> None:
        bundle = notifications_q.open_bundle(conn, row.user_id, row.contact_id)
        if bundle is not None:
            bundle_id, due = int(bundle.id), float(bundle.due_at)
        else:
            due = max(now, recent[0] + BUNDLE_WINDOW)
            new_id = notifications_q.insert(
                conn,
                {
                    "ticket_id": row.ticket_id,
                    "round": row.round,
                    "level": row.level,
                    "user_id": row.user_id,
                    "contact_id": row.contact_id,
                    "contact_type": row.contact_type,
                    "kind": "bundle",
                    "delivery_id": uuid.uuid4().hex,
                    "status": "pending",
                    "paging": row.paging,
                    "created_at": now,
                    "due_at": due,
                    "attempts": 0,
                },
            )
            assert new_id is not None, "a notification is the first of one bundle at most"
            bundle_id = new_id
            timers_q.schedule(
                conn, kind=notifications_q.DELIVER_TIMER, ref=str(bundle_id), due_at=due
            )
        timers_q.delete(conn, timer.id)
        notifications_q.update(conn, row.id, status="bundled", bundle_id=bundle_id)
        at = from_epoch(due).strftime("%H:%M:%S UTC")
        tickets_q.add_timeline(
            conn,
            row.ticket_id,
            at=now,
            kind="notification",
            message=f"{row.user_id} by {row.contact_type}: {len(recent)} messages in the last"
            f" {BUNDLE_WINDOW:.0f}s, so this one goes in a bundle at {at}",
            data={"notification_id": row.id, "bundle_id": bundle_id},
        )

    def _prepare_bundle(
        self,
        conn: Connection,
        snap: Snapshot,
        timer: TimerRow,
        bundle: Row[Any],
        contact: Contact,
        time_zone: str,
        now: float,
    ) -> Job | object | None:
        if not notifications_q.lock_contact(conn, bundle.user_id, bundle.contact_id):
            notifications_q.release_timer(conn, timer.id)
            return LATER
        carried: list[int] = []
        for member in notifications_q.bundle_members(conn, bundle.id):
            ticket = tickets_q.get(conn, member.ticket_id)
            why = unwanted(member.kind, ticket)
            if why is not None:
                notifications_q.update(conn, member.id, status="cancelled")
                tickets_q.add_timeline(
                    conn,
                    member.ticket_id,
                    at=now,
                    kind="notification",
                    message=f"{member.user_id} by {member.contact_type}: taken out of its"
                    f" bundle, {why}",
                )
                continue
            if member.ticket_id not in carried:
                carried.append(member.ticket_id)
        if not carried:
            timers_q.delete(conn, timer.id)
            notifications_q.update(conn, bundle.id, status="cancelled")
            return None
        notifications_q.update(conn, bundle.id, dispatched_at=now)
        return Job(
            notification_id=bundle.id,
            kind="bundle",
            user_id=bundle.user_id,
            contact=contact,
            delivery_id=bundle.delivery_id,
            ticket_ids=tuple(carried),
            time_zone=time_zone,
            snap=snap,
            claimed_at=now,
        )

    def _notice(
        self, conn: Connection, snap: Snapshot, ticket: Row[Any], user_id: str, now: float
    ) -> TicketNotice:
        """What the message says about one ticket: built with the claim, and again just
        before sending when the job waited (so it shows the ticket as it is then)."""
        return ticket_notice(
            conn,
            ticket,
            snap,
            user_id=user_id,
            base_url=self.options.base_url,
            secret=self.options.secret,
            links_expire=now + self.options.link_lifetime,
        )

    def _give_up(
        self, conn: Connection, timer: TimerRow, row: Row[Any], now: float, why: str
    ) -> None:
        timers_q.delete(conn, timer.id)
        notifications_q.update(conn, row.id, status="failed", last_error=why)
        tickets_q.add_timeline(
            conn,
            row.ticket_id,
            at=now,
            kind="notification",
            message=f"{row.user_id} by {row.contact_type}: failed, {why}",
        )

    def _registry(self, snap: Snapshot) -> Registry:
        registry = self._registries.get(snap.outbound_allow)
        if registry is None:
            settings = NotifySettings(
                smtp=self.options.smtp,
                outbound=OutboundSettings(allow=snap.outbound_allow),
                sms=self.options.sms,
                voice=self.options.voice,
            )
            registry = Registry(settings, self.stage.clock)
            self._registries[snap.outbound_allow] = registry
        return registry

    # --- sending ---------------------------------------------------------------------------

    def _run(self, send: Send) -> None:
        job = send.job
        db = self._db
        try:
            assert db is not None
            recorder = Recorder(db, self.stage.clock, self.owner, self.options.delivery_lease)
            message = recorder.prepare(job, self._notice)
            if message is None:
                return
            started = self.stage.clock.now().timestamp()
            result = self._send(send, message)
            recorder.record(job, result, started=started)
        except Exception:  # a sender thread must survive; the lease retries
            log.exception("delivery of notification %s failed unexpectedly", job.notification_id)
        finally:
            with self._lock:
                self._inflight.discard(job.notification_id)
                wake = self._starved and len(self._inflight) <= self.options.delivery_workers
                if wake:
                    self._starved = False
            if wake and self._wake is not None:
                self._wake()

    @staticmethod
    def _send(send: Send, message: Message) -> DeliveryResult:
        job = send.job
        try:
            notifier = send.registry.notifier_for(job.contact.type)
            return notifier.send(job.contact, message)
        except Exception as exc:  # a notifier bug is a failed attempt
            log.exception("notifier %s raised", job.contact.type)
            return failed(
                f"internal error in the {job.contact.type} notifier: {exc}", retryable=True
            )
