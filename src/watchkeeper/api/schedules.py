"""Schedules: who is on call at an instant, the shifts over a window, overrides made at run
time, and secret iCal feeds per schedule and per user.

Instants come in as ISO 8601 with an offset and go out in the schedule's time zone, offset
included. A schedule is the stored one (the configuration file's) with its run-time overrides
applied after the file's own, oldest first; a shift's `sources` name what put the person on
duty: `layers[0]`, `overrides[2]` (the file's) or `override:<id>` (made at run time).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Annotated, Any, Final
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from fastapi.responses import Response
from icalendar import Calendar, Event
from sqlalchemy import Connection, Row, select

from watchkeeper.api.deps import Caller, CallerDep, ReadConn, RuntimeDep
from watchkeeper.config.references import check_override, schedule_people
from watchkeeper.config.schema import Override
from watchkeeper.errors import Forbidden, NotFound, Problem
from watchkeeper.oncall import InvalidSchedule, Schedule, Shift, ical_feed, oncall_at, shifts
from watchkeeper.oncall.ical import PRODUCT_ID, shift_uid
from watchkeeper.oncall.parsing import parse_schedule
from watchkeeper.runtime import Runtime
from watchkeeper.storage import config_store
from watchkeeper.storage import schedules as schedules_q
from watchkeeper.storage.schedules import FeedKind
from watchkeeper.storage.tables import users as users_table

router = APIRouter(tags=["schedules"])

MAX_WINDOW: Final = timedelta(days=92)
"""The longest window `shifts` answers for, and how far `oncall` follows a shift's ends."""
FEED_BEHIND: Final = timedelta(days=30)
FEED_AHEAD: Final = timedelta(days=92)
INSTANT_FORMAT: Final = "ISO 8601 with an offset, e.g. 2026-03-08T09:00:00-05:00 or ...Z"
# A "+" left unencoded in a query string arrives as a space: "...T09:00:00 01:00".
_SPACED_OFFSET = re.compile(r" (\d{2}(?::?\d{2})?)$")


@dataclass(frozen=True)
class Stored:
    """A schedule as stored, with its run-time overrides, computed into a Schedule."""

    spec: Mapping[str, Any]
    runtime: list[Row[Any]]
    schedule: Schedule

    @property
    def zone(self) -> ZoneInfo:
        return self.schedule.time_zone

    def source(self, name: str) -> str:
        """`overrides[k]` past the file's own overrides is a run-time one: `override:<id>`."""
        own = len(self.spec.get("overrides") or [])
        match = re.fullmatch(r"overrides\[(\d+)\]", name)
        if match is None or int(match[1]) < own:
            return name
        return f"override:{self.runtime[int(match[1]) - own].id}"


# --- reading --------------------------------------------------------------------------------


@router.get("/api/v1/schedules")
def list_schedules(rt: RuntimeDep, conn: ReadConn, _who: CallerDep) -> dict[str, Any]:
    """Every schedule with who is on call now."""
    now = rt.clock.now()
    specs = _specs(conn)
    runtime = schedules_q.overrides_of(conn)
    out = []
    for ident in sorted(specs):
        spec = specs[ident]
        item: dict[str, Any] = {
            "id": ident,
            "name": spec.get("name") or ident,
            "time_zone": spec.get("time_zone"),
            "users": _layer_users(spec),
        }
        try:
            stored = _compile(spec, runtime.get(ident, []))
        except Problem as exc:
            item.update(on_call=None, error=exc.detail)
        else:
            item["on_call"] = oncall_at(stored.schedule, now)
        out.append(item)
    return {"at": _iso(now, UTC), "schedules": out}


@router.get("/api/v1/schedules/{schedule_id}")
def show_schedule(
    schedule_id: str, rt: RuntimeDep, conn: ReadConn, _who: CallerDep
) -> dict[str, Any]:
    """The schedule's layers, its overrides (the file's and the run-time ones) and who is on
    call now."""
    stored = _load(conn, schedule_id)
    return {
        "id": schedule_id,
        "name": stored.schedule.name,
        "time_zone": stored.spec.get("time_zone"),
        "layers": stored.spec.get("layers") or [],
        "overrides": [
            {"source": f"overrides[{index}]", **_override_out(spec, stored.zone)}
            for index, spec in enumerate(stored.spec.get("overrides") or [])
        ],
        "runtime_overrides": [_runtime_out(row, stored.zone) for row in stored.runtime],
        "on_call": oncall_at(stored.schedule, rt.clock.now()),
    }


@router.get("/api/v1/schedules/{schedule_id}/oncall")
def on_call(
    schedule_id: str,
    rt: RuntimeDep,
    conn: ReadConn,
    _who: CallerDep,
    at: Annotated[str | None, Query(description=INSTANT_FORMAT + "; default: now")] = None,
) -> dict[str, Any]:
    """Everyone on duty at `at` (an empty list when nobody is), with the shift each is in."""
    instant = rt.clock.now() if at is None else parse_instant(at, "at")
    stored = _load(conn, schedule_id)
    users = oncall_at(stored.schedule, instant)
    return {
        "schedule": schedule_id,
        "time_zone": stored.spec.get("time_zone"),
        "at": _iso(instant, stored.zone),
        "users": users,
        "shifts": [_shift_out(s, stored) for s in _shifts_at(stored.schedule, instant, users)],
    }


@router.get("/api/v1/schedules/{schedule_id}/shifts")
def list_shifts(
    schedule_id: str,
    conn: ReadConn,
    _who: CallerDep,
    from_: Annotated[str, Query(alias="from", description=INSTANT_FORMAT)],
    to: Annotated[str, Query(description=INSTANT_FORMAT + "; at most 92 days after from")],
) -> dict[str, Any]:
    """The final shifts over [from, to), clipped to it, in order of their start."""
    start, end = parse_instant(from_, "from"), parse_instant(to, "to")
    if end <= start:
        raise Problem("`to` must be after `from`", field="to", status=422)
    if end - start > MAX_WINDOW:
        raise Problem(
            f"the window is {_days(end - start)} long; ask for at most {MAX_WINDOW.days} days",
            field="to",
            allowed=f"at most {MAX_WINDOW.days} days after from",
            status=422,
        )
    stored = _load(conn, schedule_id)
    return {
        "schedule": schedule_id,
        "time_zone": stored.spec.get("time_zone"),
        "from": _iso(start, stored.zone),
        "to": _iso(end, stored.zone),
        "shifts": [_shift_out(s, stored) for s in shifts(stored.schedule, start, end)],
    }


# --- run-time overrides ---------------------------------------------------------------------


@router.post("/api/v1/schedules/{schedule_id}/overrides", status_code=201)
def add_override(
    schedule_id: str, body: Override, rt: RuntimeDep, who: CallerDep
) -> dict[str, Any]:
    """Add, replace, remove or swap people for an interval, as in the file:
    `{user, from, to}`, `{user, replaces, from, to}`, `{remove, from, to}`,
    `{swap: [a, b], from, to}`. It applies after the file's overrides and older run-time ones."""
    now = rt.now()
    if body.to.timestamp() <= now:
        raise Problem("the override has already ended", field="to", status=422)
    spec = body.model_dump(mode="json", by_alias=True)
    with rt.db.begin() as conn:
        stored = _load(conn, schedule_id)
        known = {str(ident) for ident in conn.execute(select(users_table.c.id)).scalars()}
        people = schedule_people(stored.spec, [row.spec for row in stored.runtime])
        errors = [
            (where.lstrip("."), message)
            for where, message in check_override(spec, "", users=known, on_schedule=people)
        ]
        if errors:
            raise Problem(
                errors[0][1],
                field=errors[0][0],
                status=422,
                title="Invalid override",
                extra={"errors": [{"field": f, "message": m} for f, m in errors]},
            )
        try:
            parse_schedule(
                schedules_q.with_runtime_overrides(
                    stored.spec, [*(row.spec for row in stored.runtime), spec]
                )
            )
        except (InvalidSchedule, ValueError) as exc:
            raise Problem(str(exc), status=422, title="Invalid override") from None
        override_id = schedules_q.add_override(
            conn, schedule_id=schedule_id, spec=spec, created_by=who.actor, now=now
        )
        config_store.bump(conn, now)
        row = schedules_q.get_override(conn, schedule_id=schedule_id, override_id=override_id)
    rt.snapshots.invalidate()
    assert row is not None
    return _runtime_out(row, stored.zone)


@router.delete("/api/v1/schedules/{schedule_id}/overrides/{override_id}")
def delete_override(
    schedule_id: str, override_id: str, rt: RuntimeDep, _who: CallerDep
) -> dict[str, Any]:
    """Take back a run-time override (the file's overrides change only by `apply`)."""
    now = rt.now()
    with rt.db.begin() as conn:
        stored = _load(conn, schedule_id)
        row = schedules_q.get_override(conn, schedule_id=schedule_id, override_id=override_id)
        if row is None:
            raise NotFound(
                f"schedule {schedule_id} has no run-time override {override_id}",
                field="override_id",
                allowed=", ".join(r.id for r in stored.runtime) or "it has none",
            )
        schedules_q.delete_override(conn, schedule_id=schedule_id, override_id=override_id)
        config_store.bump(conn, now)
    rt.snapshots.invalidate()
    return _runtime_out(row, stored.zone)


# --- iCal feeds -----------------------------------------------------------------------------


@router.post("/api/v1/schedules/{schedule_id}/feed", status_code=201)
def create_schedule_feed(schedule_id: str, rt: RuntimeDep, _who: CallerDep) -> dict[str, Any]:
    """A secret URL of the schedule's shifts as an iCal feed; shown once, only a hash is kept."""
    with rt.db.begin() as conn:
        _load(conn, schedule_id)
        token = schedules_q.create_feed_token(conn, kind="schedule", ref=schedule_id, now=rt.now())
    return _feed_out(rt, "schedule", schedule_id, token)


@router.delete("/api/v1/schedules/{schedule_id}/feed")
def revoke_schedule_feed(schedule_id: str, rt: RuntimeDep, _who: CallerDep) -> dict[str, Any]:
    """Revoke every feed URL of the schedule."""
    with rt.db.begin() as conn:
        count = schedules_q.revoke_feeds(conn, kind="schedule", ref=schedule_id, now=rt.now())
    return {"kind": "schedule", "ref": schedule_id, "revoked": count}


@router.post("/api/v1/users/{user_id}/feed", status_code=201)
def create_user_feed(user_id: str, rt: RuntimeDep, who: CallerDep) -> dict[str, Any]:
    """A secret URL of the user's shifts in every schedule (the user's own token, or admin)."""
    _may_manage(who, user_id)
    with rt.db.begin() as conn:
        _user_name(conn, user_id)
        token = schedules_q.create_feed_token(conn, kind="user", ref=user_id, now=rt.now())
    return _feed_out(rt, "user", user_id, token)


@router.delete("/api/v1/users/{user_id}/feed")
def revoke_user_feed(user_id: str, rt: RuntimeDep, who: CallerDep) -> dict[str, Any]:
    """Revoke every feed URL of the user."""
    _may_manage(who, user_id)
    with rt.db.begin() as conn:
        count = schedules_q.revoke_feeds(conn, kind="user", ref=user_id, now=rt.now())
    return {"kind": "user", "ref": user_id, "revoked": count}


@router.get("/feeds/{token}.ics", response_class=Response)
def feed(token: str, rt: RuntimeDep, conn: ReadConn) -> Response:
    """The feed itself: no Authorization header, the secret in the URL is the key."""
    row = schedules_q.find_feed(conn, token)
    if row is None:
        raise NotFound("no such feed, or it was revoked", field="token")
    now = rt.clock.now()
    start, end = now - FEED_BEHIND, now + FEED_AHEAD
    if row.kind == "schedule":
        stored = _load(conn, row.ref)
        body = ical_feed(
            shifts(stored.schedule, start, end),
            name=f"On call: {stored.schedule.name}",
            now=now,
            uid_scope=stored.schedule.id,
        )
    else:
        body = _user_feed(conn, row.ref, start, end, now)
    return Response(content=body, media_type="text/calendar; charset=utf-8")


def _user_feed(
    conn: Connection, user_id: str, start: datetime, end: datetime, now: datetime
) -> bytes:
    """The user's shifts across every schedule, one event each, named after the schedule."""
    name = _user_name(conn, user_id)
    specs = _specs(conn)
    runtime = schedules_q.overrides_of(conn)
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"On call: {name}")
    for ident in sorted(specs):
        try:
            stored = _compile(specs[ident], runtime.get(ident, []))
        except Problem:
            continue  # the schedule's own endpoints report it
        for shift in shifts(stored.schedule, start, end):
            if shift.user != user_id:
                continue
            event = Event()
            event.add("uid", shift_uid(f"user:{ident}", shift.user, shift.start))
            event.add("dtstamp", now.astimezone(UTC))
            event.add("dtstart", shift.start.astimezone(UTC))
            event.add("dtend", shift.end.astimezone(UTC))
            event.add("summary", f"On call: {stored.schedule.name}")
            event.add("description", f"Schedule {ident}, from {', '.join(shift.sources)}")
            calendar.add_component(event)
    feed_bytes: bytes = calendar.to_ical()
    return feed_bytes


# --- helpers --------------------------------------------------------------------------------


def parse_instant(value: str, field: str) -> datetime:
    """An ISO 8601 instant with an offset, or a 422 problem naming `field`."""
    text = _SPACED_OFFSET.sub(r"+\1", value.strip())
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise Problem(
            f"{value!r} is not an ISO 8601 date-time",
            field=field,
            allowed=INSTANT_FORMAT,
            status=422,
        ) from None
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise Problem(
            f"{value!r} has no UTC offset (the same wall time names different instants in"
            " different zones)",
            field=field,
            allowed=INSTANT_FORMAT,
            status=422,
        )
    return instant.astimezone(UTC)


def _specs(conn: Connection) -> Mapping[str, Mapping[str, Any]]:
    # Read from storage rather than the pipeline's snapshot: always the applied file's own
    # spec, to which the run-time overrides are added here, once.
    return schedules_q.schedule_specs(conn)


def _load(conn: Connection, schedule_id: str) -> Stored:
    spec = schedules_q.schedule_specs(conn, schedule_id=schedule_id).get(schedule_id)
    if spec is None:
        specs = _specs(conn)
        raise NotFound(
            f"no schedule {schedule_id!r}",
            field="schedule_id",
            allowed=", ".join(sorted(specs)) or "no schedules are configured",
        )
    runtime = schedules_q.overrides_of(conn, schedule_id=schedule_id).get(schedule_id, [])
    return _compile(spec, runtime)


def _compile(spec: Mapping[str, Any], runtime: list[Row[Any]]) -> Stored:
    data = schedules_q.with_runtime_overrides(spec, [row.spec for row in runtime])
    try:
        schedule = parse_schedule(data)
    except (InvalidSchedule, ValueError) as exc:
        raise Problem(
            f"schedule {spec.get('id')!r} cannot be computed: {exc}",
            status=500,
            title="Invalid schedule",
        ) from None
    return Stored(spec=spec, runtime=runtime, schedule=schedule)


def _shifts_at(schedule: Schedule, at: datetime, users: Sequence[str]) -> list[Shift]:
    """The shifts running at `at`, whole, in the order of `users`: the window widens until no
    end is clipped, up to MAX_WINDOW either side (a longer shift, e.g. a one-person rotation,
    shows that far)."""
    reach = timedelta(days=1)
    while True:
        low, high = at - reach, at + reach
        found = [s for s in shifts(schedule, low, high) if s.start <= at < s.end]
        if reach >= MAX_WINDOW or all(low < s.start and s.end < high for s in found):
            break
        reach = min(reach * 4, MAX_WINDOW)
    order = {user: index for index, user in enumerate(users)}
    return sorted(found, key=lambda s: order.get(s.user, len(order)))


def _shift_out(shift: Shift, stored: Stored) -> dict[str, Any]:
    return {
        "user": shift.user,
        "start": _iso(shift.start, stored.zone),
        "end": _iso(shift.end, stored.zone),
        "sources": [stored.source(name) for name in shift.sources],
    }


def _override_kind(spec: Mapping[str, Any]) -> str:
    if spec.get("swap"):
        return "swap"
    if spec.get("remove"):
        return "remove"
    return "replace" if spec.get("replaces") else "add"


def _override_out(spec: Mapping[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    out = {k: v for k, v in spec.items() if v is not None and k not in ("from", "to")}
    out["kind"] = _override_kind(spec)
    for key in ("from", "to"):
        out[key] = _iso(datetime.fromisoformat(str(spec[key])), zone)
    return out


def _runtime_out(row: Row[Any], zone: ZoneInfo) -> dict[str, Any]:
    return {
        "id": row.id,
        "source": f"override:{row.id}",
        **_override_out(row.spec, zone),
        "created_by": row.created_by,
        "created_at": _iso(datetime.fromtimestamp(row.created_at, UTC), zone),
    }


def _layer_users(spec: Mapping[str, Any]) -> list[str]:
    seen: list[str] = []
    for layer in spec.get("layers") or []:
        seen.extend(u for u in layer.get("users") or [] if u not in seen)
    return seen


def _may_manage(who: Caller, user_id: str) -> None:
    if not who.admin and who.user_id != user_id:
        raise Forbidden(f"only {user_id} (or an admin) manages {user_id}'s feed", field="user_id")


def _user_name(conn: Connection, user_id: str) -> str:
    row = conn.execute(select(users_table.c.name).where(users_table.c.id == user_id)).first()
    if row is None:
        raise NotFound(f"no user {user_id!r}", field="user_id")
    return str(row.name)


def _feed_out(rt: Runtime, kind: FeedKind, ref: str, token: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "ref": ref,
        "token": token,
        "url": f"{rt.settings.base_url.rstrip('/')}/feeds/{token}.ics",
        "note": "shown once: only a hash of the token is kept; DELETE the feed to revoke it",
    }


def _iso(instant: datetime, zone: tzinfo) -> str:
    return instant.astimezone(zone).isoformat()


def _days(span: timedelta) -> str:
    return f"{span.total_seconds() / 86400:g} days"
