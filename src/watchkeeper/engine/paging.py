"""Turning "page these people about this ticket" into notification rows and delivery timers.

Shared by the escalation engine (pages per level) and the escalation stage (an update to the
person who acknowledged). Each row is unique per (ticket, round, level, user, contact, kind):
two engines paging the same step record it once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Row

from watchkeeper.engine.policy import human
from watchkeeper.notify.classify import is_paging
from watchkeeper.oncall.targets import Directory
from watchkeeper.storage import notifications as notifications_q
from watchkeeper.storage import timers as timers_q


@dataclass(frozen=True, slots=True)
class Planned:
    user_id: str
    contact_id: str
    contact_type: str
    after: float
    notification_id: int | None  # None: it was recorded before (another engine, a retry)
    row: Row[Any] | None = field(default=None, compare=False)  # the row, when recorded now


@dataclass(frozen=True, slots=True)
class Paged:
    planned: tuple[Planned, ...]
    unreachable: tuple[str, ...]  # why a person could not be paged

    @property
    def anyone(self) -> bool:
        return bool(self.planned)


def page_people(
    conn: Connection,
    directory: Directory,
    *,
    ticket: dict[str, Any],
    round_: int,
    level: int,
    users: Sequence[str],
    kind: str,
    now: float,
) -> Paged:
    """One notification per (person, notification rule), due after the rule's delay."""
    planned: list[Planned] = []
    unreachable: list[str] = []
    for user_id in users:
        person = directory.people.get(user_id)
        if person is None:
            unreachable.append(f"user {user_id} is not configured")
            continue
        plan = person.plan(str(ticket["severity"]))
        if not plan:
            unreachable.append(person.why_unreachable(str(ticket["severity"])))
            continue
        if kind == "update":
            # News on a ticket someone already works on: one message, on the quickest method.
            plan = [(min(plan, key=lambda pair: pair[1])[0], 0.0)]
        for contact, after in plan:
            due = now + after
            row = notifications_q.insert_row(
                conn,
                {
                    "ticket_id": ticket["id"],
                    "round": round_,
                    "level": level,
                    "user_id": user_id,
                    "contact_id": contact.id,
                    "contact_type": contact.type,
                    "kind": kind,
                    "delivery_id": uuid.uuid4().hex,
                    "status": "pending",
                    "paging": is_paging(contact),
                    "created_at": now,
                    "due_at": due,
                    "attempts": 0,
                },
            )
            new_id = int(row.id) if row is not None else None
            if new_id is not None:
                timers_q.schedule(
                    conn, kind=notifications_q.DELIVER_TIMER, ref=str(new_id), due_at=due
                )
            planned.append(Planned(user_id, contact.id, contact.type, after, new_id, row))
    return Paged(tuple(planned), tuple(unreachable))


def describe(planned: Sequence[Planned]) -> str:
    """ "alice by webhook now, email in 2m; bob by sms now" """
    by_user: dict[str, list[str]] = {}
    for p in planned:
        when = "now" if p.after <= 0 else f"in {human(p.after)}"
        by_user.setdefault(p.user_id, []).append(f"{p.contact_type} {when}")
    return "; ".join(f"{user} by {', '.join(ways)}" for user, ways in by_user.items())
