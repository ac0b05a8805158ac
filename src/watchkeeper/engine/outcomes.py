"""Recording a delivery attempt: a deliveries row, the notification's state, the next try,
and a timeline entry on every ticket the message carried. Each in its own transaction,
after the send: a slow receiver never holds a transaction open."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Connection, Row
from sqlalchemy import Engine as Database

from watchkeeper.clock import Clock, from_epoch
from watchkeeper.engine.policy import human
from watchkeeper.notify.contact import Contact
from watchkeeper.notify.message import Message, TicketNotice
from watchkeeper.notify.result import DeliveryResult
from watchkeeper.notify.retry import MAX_ATTEMPTS, next_delay
from watchkeeper.pipeline.snapshot import Snapshot
from watchkeeper.quality.hours import classify
from watchkeeper.storage import notifications as notifications_q
from watchkeeper.storage import tickets as tickets_q
from watchkeeper.storage import timers as timers_q
from watchkeeper.storage.db import reader


@dataclass(frozen=True, slots=True)
class Job:
    """One message to send: what the claim decided, enough to send and record it."""

    notification_id: int
    kind: str  # page | update | bundle
    user_id: str
    contact: Contact
    delivery_id: str
    ticket_ids: tuple[int, ...]  # the tickets it carries (several: a bundle)
    time_zone: str
    snap: Snapshot
    claimed_at: float  # when the claim (its lease on the timer) was taken
    # The message as built in the claim's transaction (a page or update of one ticket), sent
    # as it is when a sender takes the job at once (see `Recorder.prepare`).
    message: Message | None = None


FRESH_SHARE: Final = 0.05  # a claim whose lease has lost less than this share needs no renewal
AS_BUILT: Final = 0.5  # seconds after its claim a message built with it is sent without a look

NoticeBuilder = Callable[[Connection, Snapshot, Row[Any], str, float], TicketNotice]


def unwanted(kind: str, ticket: Row[Any] | None) -> str | None:
    """Why a notification must not go out now, or None. A page is for a triggered ticket; an
    update (or a bundled page) for an open one, pages only while nobody has acknowledged."""
    if ticket is None:
        return "the ticket no longer exists"
    if kind == "update":
        if ticket.status in ("triggered", "acknowledged"):
            return None
        return f"the ticket is {ticket.status}"
    if ticket.status != "triggered":
        by = f" by {ticket.acknowledged_by}" if ticket.status == "acknowledged" else ""
        return f"the ticket was {ticket.status}{by}"
    return None


class Recorder:
    def __init__(self, db: Database, clock: Clock, owner: str, lease: float) -> None:
        self.db = db
        self.clock = clock
        self.owner = owner
        self.lease = lease

    def prepare(self, job: Job, notice: NoticeBuilder) -> Message | None:
        """The message, built just before sending; None when it must not go out.

        A job taken within `AS_BUILT` seconds of its claim sends the message built in the
        claim's transaction, without a database round trip: that is the path of a page due
        at once.

        Otherwise the lease must still be ours (renewed here for the send: a job that waited
        too long in the queue may have been taken by another engine), and an acknowledgement
        may have committed since the claim: a cancelled notification is dropped, an unwanted
        page cancelled.

        A fresh claim needs no write: while nearly all of its lease is left, no other engine
        can take the timer before this send ends (the lease outlasts the longest send), and
        nothing else changes it but an acknowledgement (or a resolve), which cancels the
        notification too; so a read of the notification and its tickets suffices. Writing is
        for a lease that must be renewed, or a page to cancel.
        """
        now = self.clock.now().timestamp()
        if job.message is not None and now - job.claimed_at <= AS_BUILT:
            # Taken at once after its claim committed: the message built in that transaction
            # is current, and nothing but an acknowledgement in these few milliseconds could
            # have changed it; a page already in flight then is one a person also gets.
            return job.message
        if now - job.claimed_at <= self.lease * FRESH_SHARE:
            with reader(self.db).connect() as conn:
                row = notifications_q.get(conn, job.notification_id)
                if row is None or row.status != "pending":
                    return None
                tickets = notifications_q.tickets_by_id(conn, list(job.ticket_ids))
                if job.kind == "bundle" or unwanted(job.kind, tickets.get(row.ticket_id)) is None:
                    return self._message(
                        job,
                        tuple(
                            notice(conn, job.snap, tickets[ticket_id], job.user_id, now)
                            for ticket_id in job.ticket_ids
                            if ticket_id in tickets
                        ),
                    )
        with self.db.begin() as conn:
            if not notifications_q.renew_lease(
                conn, notification_id=job.notification_id, owner=self.owner, until=now + self.lease
            ):
                return None
            row = notifications_q.get(conn, job.notification_id)
            if row is None or row.status != "pending":
                return None
            tickets = notifications_q.tickets_by_id(conn, list(job.ticket_ids))
            if job.kind != "bundle":
                why = unwanted(job.kind, tickets.get(row.ticket_id))
                if why is not None:
                    timers_q.cancel(conn, kind=notifications_q.DELIVER_TIMER, ref=str(row.id))
                    notifications_q.update(conn, row.id, status="cancelled")
                    self._timeline(conn, job, now, f"not sent, {why}")
                    return None
            notices = tuple(
                notice(conn, job.snap, tickets[ticket_id], job.user_id, now)
                for ticket_id in job.ticket_ids
                if ticket_id in tickets
            )
        return self._message(job, notices)

    @staticmethod
    def _message(job: Job, notices: tuple[TicketNotice, ...]) -> Message | None:
        if not notices:
            return None
        return Message(delivery_id=job.delivery_id, tickets=notices)

    def record(self, job: Job, result: DeliveryResult, *, started: float) -> None:
        finished = self.clock.now().timestamp()
        with self.db.begin() as conn:
            row = notifications_q.get(conn, job.notification_id)
            if row is None:
                return
            attempt = int(row.attempts or 0) + 1
            retry_in = None
            if not result.ok and row.status == "pending":
                retry_in = next_delay(result, attempt, now=from_epoch(finished))
            notifications_q.add_delivery(
                conn,
                notification_id=row.id,
                attempt=attempt,
                started_at=started,
                finished_at=finished,
                ok=result.ok,
                status_code=result.status_code,
                error=result.error,
                retry_at=finished + retry_in if retry_in is not None else None,
                engine=self.owner,
            )
            ref = str(row.id)
            # Timer before notification: the lock order an acknowledgement keeps too.
            if result.ok:
                timers_q.cancel(conn, kind=notifications_q.DELIVER_TIMER, ref=ref)
                self._sent(conn, job, row, attempt, finished)
                code = f" ({result.status_code})" if result.status_code else ""
                self._timeline(conn, job, finished, f"delivered{code}, attempt {attempt}")
            elif retry_in is not None:
                timers_q.schedule(
                    conn,
                    kind=notifications_q.DELIVER_TIMER,
                    ref=ref,
                    due_at=finished + retry_in,
                )
                notifications_q.update(conn, row.id, attempts=attempt, last_error=result.error)
                asked = result.retry_after_seconds is not None or result.retry_after_at is not None
                why = " as Retry-After asked" if asked and result.status_code in (429, 503) else ""
                self._timeline(
                    conn,
                    job,
                    finished,
                    f"failed ({result.error}), attempt {attempt}; retrying in"
                    f" {human(retry_in)}{why}",
                    ok=False,
                )
            else:
                values: dict[str, Any] = {"attempts": attempt, "last_error": result.error}
                if row.status == "pending":
                    values["status"] = "failed"
                timers_q.cancel(conn, kind=notifications_q.DELIVER_TIMER, ref=ref)
                notifications_q.update(conn, row.id, **values)
                end = (
                    f"giving up after {attempt} attempts"
                    if result.retryable and attempt >= MAX_ATTEMPTS
                    else "not retried"
                )
                self._timeline(
                    conn,
                    job,
                    finished,
                    f"failed ({result.error}), attempt {attempt}; {end}",
                    ok=False,
                )

    def _sent(
        self, conn: Connection, job: Job, row: Row[Any], attempt: int, finished: float
    ) -> None:
        stamp = {
            "sent_at": finished,
            "time_zone": job.time_zone,
            "hour_class": _hour_class(finished, job.time_zone),
        }
        # A message in flight when its ticket was acknowledged did go out: say so.
        status = "sent" if row.status in ("pending", "cancelled", "failed") else row.status
        notifications_q.update(
            conn, row.id, status=status, attempts=attempt, last_error=None, **stamp
        )
        if job.kind == "bundle":
            notifications_q.stamp_members(conn, row.id, **stamp)

    def _timeline(
        self, conn: Connection, job: Job, at: float, outcome: str, *, ok: bool = True
    ) -> None:
        what = f"{job.user_id} by {job.contact.type}"
        if job.kind == "bundle":
            what += f" (a bundle of {len(job.ticket_ids)} tickets)"
        elif job.kind == "update":
            what += " (update)"
        for ticket_id in job.ticket_ids:
            tickets_q.add_timeline(
                conn,
                ticket_id,
                at=at,
                kind="delivery",
                message=f"{what}: {outcome}",
                data={
                    "notification_id": job.notification_id,
                    "delivery_id": job.delivery_id,
                    "ok": ok,
                },
            )


def _hour_class(at: float, time_zone: str) -> str:
    try:
        return classify(from_epoch(at), time_zone)
    except ValueError:
        return classify(from_epoch(at), "UTC")
