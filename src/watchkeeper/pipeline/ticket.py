"""The ticket stage and every ticket operation: open or join, acknowledge, resolve, reopen...

Pipeline, engine and API all change tickets through these functions, inside their caller's
transaction, so a ticket's row, its timeline and its listeners' rows commit together.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row

from watchkeeper.domain.severity import RANK, highest
from watchkeeper.domain.ticket import Operation, is_open, next_status
from watchkeeper.errors import Conflict, NotFound
from watchkeeper.pipeline.listeners import TicketListener
from watchkeeper.storage import alerts as alerts_q
from watchkeeper.storage import hot
from watchkeeper.storage import tickets as tickets_q
from watchkeeper.storage import timers as timers_q

AUTO_RESOLVE_TIMER = "ticket_autoresolve"


class Lifecycle:
    """Ticket operations with the listeners (escalation, notifications) that hear of them."""

    def __init__(self, listeners: Sequence[TicketListener] = ()) -> None:
        self.listeners = list(listeners)

    # --- the pipeline's side -------------------------------------------------------------

    def open_or_join(
        self,
        conn: Connection,
        *,
        service_id: str,
        group_key: str,
        max_group_age: float,
        alert: dict[str, Any],
        policy: dict[str, Any] | None,
        now: float,
    ) -> tuple[int, bool]:
        """The ticket open for grouping of (service, group key) joined by `alert`, or opened by
        it. Returns (ticket id, whether it was opened now)."""
        ticket, opened = self.find_or_open(
            conn,
            service_id=service_id,
            group_key=group_key,
            max_group_age=max_group_age,
            alert=alert,
            policy=policy,
            now=now,
        )
        if not opened:
            self.join_alerts(conn, ticket_id=ticket["id"], alerts=[alert], now=now)
        return int(ticket["id"]), opened

    def find_or_open(
        self,
        conn: Connection,
        *,
        service_id: str,
        group_key: str,
        max_group_age: float,
        alert: dict[str, Any],
        policy: dict[str, Any] | None,
        now: float,
    ) -> tuple[dict[str, Any], bool]:
        """The ticket open for grouping of (service, group key), or a new one opened by `alert`
        (which then counts as its first alert). A found ticket is given as its id and last
        alert time only; the caller joins alerts to it with `join_alerts`. A ticket whose last
        alert is older than `max_group_age` leaves the grouping index first (invariant 3)."""
        for _ in range(3):
            current = tickets_q.grouping_id(conn, service_id, group_key)
            if current is not None and current[1] + max_group_age <= now:
                tickets_q.update(conn, current[0], grouping=False)
                tickets_q.add_timeline(
                    conn,
                    current[0],
                    at=now,
                    kind="grouping_closed",
                    message="older than max_group_age since its last alert: new alerts open "
                    "a new ticket",
                )
                current = None
            if current is not None:
                return {"id": current[0], "last_alert_at": current[1]}, False
            values = _new_ticket(service_id, group_key, alert, policy, now)
            ticket_id = tickets_q.insert_grouping(conn, values)
            if ticket_id is None:
                continue  # another writer opened it in the meantime: join theirs
            tickets_q.add_timeline(
                conn,
                ticket_id,
                at=now,
                kind="opened",
                message=f"opened by {alert['channel_id'] or 'manual'} alert "
                f"{alert['dedup_key']}: {alert['summary']}",
                data={"dedup_key": alert["dedup_key"], "channel": alert["channel_id"]},
            )
            ticket = {**values, "id": ticket_id}
            for listener in self.listeners:
                listener.opened(conn, ticket, now)
            return ticket, True
        raise Conflict(f"could not open or join a ticket for {service_id}/{group_key}")

    def join_alerts(
        self, conn: Connection, *, ticket_id: int, alerts: list[dict[str, Any]], now: float
    ) -> None:
        """Alerts joined an open ticket (see `join_many`)."""
        self.join_many(conn, {ticket_id: alerts}, now=now)

    def join_many(
        self, conn: Connection, joined: dict[int, list[dict[str, Any]]], *, now: float
    ) -> bool:
        """Alerts joined open tickets: per ticket one update, one timeline entry and one word
        to the listeners however many joined (a storm is one line, not ten thousand); per
        batch one read, one executemany of updates and one of timeline entries.

        Returns whether a joined ticket was past `triggered` (acknowledged): its responders
        may be told, so the engine has work; joining a triggered ticket gives it none."""
        joined = {tid: alerts for tid, alerts in joined.items() if alerts}
        if not joined:
            return False
        rows = tickets_q.get_many(conn, sorted(joined), for_update=True)
        updates: list[tuple[dict[str, Any], dict[str, Any]]] = []
        entries: list[tuple[int, float, str, str | None, str, Any]] = []
        for ticket_id, alerts in joined.items():
            ticket = rows.get(ticket_id)
            if ticket is None:
                continue
            changes: dict[str, Any] = {
                "last_alert_at": now,
                "alert_count": ticket["alert_count"] + len(alerts),
                "updated_at": now,
            }
            if ticket["severity_set_by"] is None:
                sev = ticket["severity"]
                for alert in alerts:
                    sev = highest(sev, alert["severity"])
                if sev != ticket["severity"]:
                    changes["severity"] = sev
            if ticket["first_automatic_at"] is None and any(
                a["channel_kind"] == "automatic" for a in alerts
            ):
                changes["first_automatic_at"] = now
            earliest = min(a["starts_at"] for a in alerts)
            if earliest < ticket["impact_start"]:
                changes["impact_start"] = earliest
            if ticket["mitigated_at"] is not None:
                # impact resumed before the ticket resolved: it is no longer mitigated, and
                # the quiet period (if one was running) starts again when these alerts resolve
                changes["mitigated_at"] = None
                timers_q.cancel(conn, kind=AUTO_RESOLVE_TIMER, ref=str(ticket_id))
            updates.append((ticket, changes))
            first = alerts[0]
            message = f"alert {first['id']} joined: {first['summary']}"
            if len(alerts) > 1:
                message = (
                    f"{len(alerts)} alerts joined: {first['summary']} (+{len(alerts) - 1} more)"
                )
            data = {"alert_ids": [a["id"] for a in alerts[:50]], "count": len(alerts)}
            entries.append((ticket_id, now, "alert_joined", None, message, data))
        tickets_q.update_joined(conn, [{**ticket, **changes} for ticket, changes in updates])
        hot.insert_timelines(conn, entries)
        for ticket, changes in updates:
            self._tell(conn, ticket["id"], "alert_joined", now, None, {**ticket, **changes})
        return any(ticket["status"] != "triggered" for ticket, _ in updates)

    def raise_severity(
        self, conn: Connection, *, ticket_id: int, severity: str, now: float
    ) -> None:
        """An alert of the ticket got more severe: so does the ticket, unless a person set it."""
        ticket = tickets_q.get(conn, ticket_id)
        if ticket is None or ticket.severity_set_by is not None or not is_open(ticket.status):
            return
        if RANK[severity] > RANK[ticket.severity]:
            tickets_q.update(conn, ticket_id, severity=severity, updated_at=now)
            tickets_q.add_timeline(
                conn, ticket_id, at=now, kind="severity", message=f"severity raised to {severity}"
            )

    def alert_resolved(
        self, conn: Connection, *, ticket_id: int, auto_resolve: str, quiet: float, now: float
    ) -> None:
        """After one of its alerts resolved: when none still fires, the ticket is mitigated and,
        per the service's policy, resolved now, after a quiet period, or never."""
        if alerts_q.count_firing_for_ticket(conn, ticket_id) > 0:
            return
        ticket = tickets_q.get(conn, ticket_id)
        if ticket is None or not is_open(ticket.status):
            return
        if ticket.mitigated_at is None:
            tickets_q.update(conn, ticket_id, mitigated_at=now, updated_at=now)
            tickets_q.add_timeline(
                conn, ticket_id, at=now, kind="mitigated", message="every alert has resolved"
            )
        if auto_resolve == "immediately":
            self.resolve(
                conn, ticket_id=ticket_id, actor=None, now=now, reason="all alerts resolved"
            )
        elif auto_resolve == "after_quiet":
            timers_q.schedule(conn, kind=AUTO_RESOLVE_TIMER, ref=str(ticket_id), due_at=now + quiet)

    def quiet_period_over(self, conn: Connection, *, ticket_id: int, now: float) -> None:
        if alerts_q.count_firing_for_ticket(conn, ticket_id) > 0:
            return
        ticket = tickets_q.get(conn, ticket_id)
        if ticket is not None and is_open(ticket.status):
            self.resolve(
                conn, ticket_id=ticket_id, actor=None, now=now, reason="quiet period passed"
            )

    # --- operations (pipeline, engine, API, CLI) ---------------------------------------------

    def open_manual(
        self,
        conn: Connection,
        *,
        service_id: str,
        title: str,
        severity: str,
        description: str,
        actor: str,
        policy: dict[str, Any] | None,
        now: float,
    ) -> dict[str, Any]:
        """A ticket opened by hand, on the `manual` channel; it does not take alerts."""
        values = _new_ticket(
            service_id,
            f"manual:{now}",
            {
                "title": title,
                "severity": severity,
                "starts_at": now,
                "channel_id": "manual",
                "channel_kind": "manual",
                "integration_id": None,
            },
            policy,
            now,
        )
        values.update(grouping=False, alert_count=0, responders=[actor])
        ticket_id = tickets_q.insert(conn, values)
        message = f"opened by hand by {actor}" + (f": {description}" if description else "")
        tickets_q.add_timeline(conn, ticket_id, at=now, kind="opened", actor=actor, message=message)
        row = tickets_q.get(conn, ticket_id)
        assert row is not None
        ticket = dict(row._mapping)
        for listener in self.listeners:
            listener.opened(conn, ticket, now)
        return ticket

    def acknowledge(
        self, conn: Connection, *, ticket_id: int, actor: str, now: float, note: str = ""
    ) -> dict[str, Any]:
        ticket = self._load(conn, ticket_id)
        if ticket.status == "acknowledged":
            return dict(ticket._mapping)  # acknowledging twice changes nothing
        self._move(ticket, "acknowledge")
        values: dict[str, Any] = {"status": "acknowledged", "acknowledged_by": actor}
        if ticket.acknowledged_at is None:
            values["acknowledged_at"] = now
        return self._apply(conn, ticket, values, "acknowledged", actor, now, note)

    def unacknowledge(
        self, conn: Connection, *, ticket_id: int, actor: str | None, now: float, note: str = ""
    ) -> dict[str, Any]:
        ticket = self._load(conn, ticket_id)
        self._move(ticket, "unacknowledge")
        values = {"status": "triggered", "acknowledged_by": None}
        return self._apply(conn, ticket, values, "unacknowledged", actor, now, note)

    def resolve(
        self,
        conn: Connection,
        *,
        ticket_id: int,
        actor: str | None,
        now: float,
        reason: str = "",
    ) -> dict[str, Any]:
        """Resolve the ticket; resolving by hand (an actor) resolves its alerts too."""
        ticket = self._load(conn, ticket_id)
        if ticket.status == "resolved":
            return dict(ticket._mapping)
        self._move(ticket, "resolve")
        values: dict[str, Any] = {
            "status": "resolved",
            "resolved_at": now,
            "resolved_by": actor,
            "grouping": False,
        }
        if ticket.mitigated_at is None:
            values["mitigated_at"] = now
        if actor is not None:
            alerts_q.resolve_all_for_ticket(conn, ticket_id, now, by=actor)
        timers_q.cancel(conn, kind=AUTO_RESOLVE_TIMER, ref=str(ticket_id))
        return self._apply(conn, ticket, values, "resolved", actor, now, reason)

    def reopen(
        self, conn: Connection, *, ticket_id: int, actor: str, now: float, note: str = ""
    ) -> dict[str, Any]:
        ticket = self._load(conn, ticket_id)
        self._move(ticket, "reopen")
        values: dict[str, Any] = {
            "status": "triggered",
            "resolved_at": None,
            "resolved_by": None,
            "mitigated_at": None,
            "acknowledged_by": None,
            "round": ticket.round + 1,
        }
        result = self._apply(conn, ticket, values, "reopened", actor, now, note)
        if tickets_q.find_grouping(conn, ticket.service_id, ticket.group_key) is None:
            tickets_q.update(conn, ticket_id, grouping=True, last_alert_at=now)
        return result

    def close(
        self, conn: Connection, *, ticket_id: int, actor: str, now: float, note: str = ""
    ) -> dict[str, Any]:
        ticket = self._load(conn, ticket_id)
        self._move(ticket, "close")
        return self._apply(
            conn, ticket, {"status": "closed", "closed_at": now}, "closed", actor, now, note
        )

    def escalate(
        self, conn: Connection, *, ticket_id: int, actor: str, now: float, note: str = ""
    ) -> dict[str, Any]:
        ticket = self._load(conn, ticket_id)
        self._move(ticket, "escalate")
        values: dict[str, Any] = {
            "escalation_count": ticket.escalation_count + 1,
            "round": ticket.round + 1,
        }
        if ticket.status == "acknowledged":
            values.update(status="triggered", acknowledged_by=None)
        return self._apply(conn, ticket, values, "escalated", actor, now, note)

    def reassign(
        self, conn: Connection, *, ticket_id: int, assignee: str, actor: str, now: float
    ) -> dict[str, Any]:
        ticket = self._load(conn, ticket_id)
        if not is_open(ticket.status):
            raise Conflict(f"cannot reassign a {ticket.status} ticket", field="status")
        responders = list(ticket.responders or [])
        if assignee not in responders:
            responders.append(assignee)
        values = {"assignee": assignee, "responders": responders}
        return self._apply(conn, ticket, values, "reassigned", actor, now, f"to {assignee}")

    def comment(
        self, conn: Connection, *, ticket_id: int, actor: str, text: str, now: float
    ) -> None:
        self._load(conn, ticket_id)
        tickets_q.add_timeline(conn, ticket_id, at=now, kind="comment", actor=actor, message=text)

    def edit(
        self, conn: Connection, *, ticket_id: int, actor: str, now: float, fields: dict[str, Any]
    ) -> dict[str, Any]:
        """Title, severity (a person's choice then wins over alerts), root cause (stamps
        `localized`), false alarm."""
        ticket = self._load(conn, ticket_id)
        values: dict[str, Any] = {}
        notes = []
        if "title" in fields:
            values["title"] = fields["title"]
            notes.append(f"title: {fields['title']}")
        if "severity" in fields:
            if fields["severity"] not in RANK:
                raise Conflict(
                    "unknown severity", field="severity", allowed="critical, high, warning, info"
                )
            values.update(severity=fields["severity"], severity_set_by=actor)
            notes.append(f"severity: {fields['severity']}")
        if "root_cause" in fields:
            rc = fields["root_cause"] or {}
            values.update(
                root_cause_service=rc.get("service"), root_cause_category=rc.get("category")
            )
            if ticket.localized_at is None and (rc.get("service") or rc.get("category")):
                values["localized_at"] = now
            notes.append(f"root cause: {rc.get('service')}/{rc.get('category')}")
        if "false_alarm" in fields:
            values["false_alarm"] = bool(fields["false_alarm"])
            notes.append(f"false alarm: {bool(fields['false_alarm'])}")
        if "impact_start" in fields and fields["impact_start"] is not None:
            values["impact_start"] = float(fields["impact_start"])
            notes.append("impact start edited")
        if "mitigated" in fields and fields["mitigated"] and ticket.mitigated_at is None:
            values["mitigated_at"] = now
            notes.append("mitigated")
        return self._apply(conn, ticket, values, "edited", actor, now, "; ".join(notes))

    def merge(
        self, conn: Connection, *, ticket_id: int, into: int, actor: str, now: float
    ) -> dict[str, Any]:
        """Move every alert of `ticket_id` into `into`; the merged ticket resolves."""
        if ticket_id == into:
            raise Conflict("cannot merge a ticket into itself", field="into")
        source = self._load(conn, ticket_id)
        target = self._load(conn, into)
        if not is_open(target.status):
            raise Conflict(f"cannot merge into a {target.status} ticket", field="into")
        moved = alerts_q.move_to_ticket(conn, ticket_id, into)
        target_values: dict[str, Any] = {
            "alert_count": target.alert_count + source.alert_count,
            "impact_start": min(target.impact_start, source.impact_start),
            "last_alert_at": max(target.last_alert_at, source.last_alert_at),
        }
        if target.severity_set_by is None:
            target_values["severity"] = highest(target.severity, source.severity)
        if source.first_automatic_at is not None:
            target_values["first_automatic_at"] = min(
                source.first_automatic_at, target.first_automatic_at or source.first_automatic_at
            )
        self._apply(
            conn,
            target,
            target_values,
            "merged",
            actor,
            now,
            f"ticket {ticket_id} merged in ({moved} alerts)",
        )
        values: dict[str, Any] = {
            "status": "resolved",
            "resolved_at": source.resolved_at or now,
            "resolved_by": actor,
            "grouping": False,
            "merged_into": into,
        }
        return self._apply(conn, source, values, "merged", actor, now, f"merged into ticket {into}")

    # --- helpers --------------------------------------------------------------------------

    def _load(self, conn: Connection, ticket_id: int) -> Row[Any]:
        ticket = tickets_q.get(conn, ticket_id, for_update=True)
        if ticket is None:
            raise NotFound(f"no ticket {ticket_id}", field="id")
        return ticket

    @staticmethod
    def _move(ticket: Row[Any], operation: Operation) -> None:
        next_status(ticket.status, operation)

    def _apply(
        self,
        conn: Connection,
        ticket: Row[Any],
        values: dict[str, Any],
        event: str,
        actor: str | None,
        now: float,
        note: str,
    ) -> dict[str, Any]:
        values = {**values, "updated_at": now}
        tickets_q.update(conn, ticket.id, **values)
        message = event + (f": {note}" if note else "")
        tickets_q.add_timeline(conn, ticket.id, at=now, kind=event, actor=actor, message=message)
        self._tell(conn, ticket.id, event, now, actor, {**ticket._mapping, **values})
        return {**dict(ticket._mapping), **values}

    def _tell(
        self,
        conn: Connection,
        ticket_id: int,
        event: str,
        now: float,
        actor: str | None,
        ticket: dict[str, Any] | None = None,
    ) -> None:
        """Tell the listeners; `ticket` is the row as it now stands, when the caller has it."""
        if not self.listeners:
            return
        if ticket is None:
            row = tickets_q.get(conn, ticket_id)
            if row is None:
                return
            ticket = dict(row._mapping)
        for listener in self.listeners:
            listener.changed(conn, ticket, event, now, actor)


def _new_ticket(
    service_id: str,
    group_key: str,
    alert: dict[str, Any],
    policy: dict[str, Any] | None,
    now: float,
) -> dict[str, Any]:
    automatic = alert["channel_kind"] == "automatic"
    return {
        "service_id": service_id,
        "group_key": group_key,
        "grouping": True,
        "status": "triggered",
        "title": alert["title"],
        "severity": alert["severity"],
        "impact_start": min(alert["starts_at"], now),
        "detected_at": now,
        "channel_id": alert["channel_id"],
        "channel_kind": alert["channel_kind"],
        "integration_id": alert["integration_id"],
        "first_automatic_at": now if automatic else None,
        "false_alarm": False,
        "escalation_count": 0,
        "round": 1,
        "responders": [],
        "policy": policy,
        "last_alert_at": now,
        "alert_count": 1,
        "updated_at": now,
    }
