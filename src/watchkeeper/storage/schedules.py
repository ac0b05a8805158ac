"""Run-time schedule overrides (made through the API, never touched by `apply`) and the secret
iCal feed tokens of schedules and users (stored as SHA-256 hashes, revocable)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from sqlalchemy import Connection, Row, delete, select

from watchkeeper.storage.tables import config_objects, feed_tokens, schedule_overrides

FeedKind = Literal["schedule", "user"]


def schedule_specs(conn: Connection, *, schedule_id: str | None = None) -> dict[str, Any]:
    """The schedules as `apply` stored them (the file's, without run-time overrides), by id."""
    stmt = select(config_objects.c.id, config_objects.c.spec).where(
        config_objects.c.kind == "schedule"
    )
    if schedule_id is not None:
        stmt = stmt.where(config_objects.c.id == schedule_id)
    return {str(row.id): row.spec for row in conn.execute(stmt)}


# --- run-time overrides -----------------------------------------------------------------------


def add_override(
    conn: Connection, *, schedule_id: str, spec: Mapping[str, Any], created_by: str, now: float
) -> str:
    """Store one override (its configuration shape, e.g. `{remove: bob, from, to}`); its id."""
    override_id = secrets.token_hex(8)
    conn.execute(
        schedule_overrides.insert().values(
            id=override_id,
            schedule_id=schedule_id,
            spec=dict(spec),
            created_by=created_by,
            created_at=now,
        )
    )
    return override_id


def get_override(conn: Connection, *, schedule_id: str, override_id: str) -> Row[Any] | None:
    return conn.execute(
        select(schedule_overrides).where(
            schedule_overrides.c.schedule_id == schedule_id,
            schedule_overrides.c.id == override_id,
        )
    ).first()


def delete_override(conn: Connection, *, schedule_id: str, override_id: str) -> bool:
    result = conn.execute(
        delete(schedule_overrides).where(
            schedule_overrides.c.schedule_id == schedule_id,
            schedule_overrides.c.id == override_id,
        )
    )
    return bool(result.rowcount)


def overrides_of(conn: Connection, *, schedule_id: str | None = None) -> dict[str, list[Row[Any]]]:
    """Run-time overrides per schedule id, oldest first: the order they apply in."""
    stmt = select(schedule_overrides).order_by(
        schedule_overrides.c.created_at, schedule_overrides.c.id
    )
    if schedule_id is not None:
        stmt = stmt.where(schedule_overrides.c.schedule_id == schedule_id)
    out: dict[str, list[Row[Any]]] = {}
    for row in conn.execute(stmt):
        out.setdefault(row.schedule_id, []).append(row)
    return out


def with_runtime_overrides(
    spec: Mapping[str, Any], runtime: Iterable[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    """A stored schedule spec with the run-time overrides' specs after the file's own, in the
    shape `oncall.parse_schedule` reads (keys whose value is null left out, as the configuration
    model dumps them; an older dump's `{user: bob, remove: true}` read as `{remove: bob}`)."""
    data = _without_nulls(spec)
    assert isinstance(data, dict)
    overrides = [_override_shape(o) for o in [*(data.get("overrides") or []), *runtime]]
    if overrides:
        data["overrides"] = overrides
    return data


def _override_shape(override: Mapping[str, Any]) -> dict[str, Any]:
    item = _without_nulls(override)
    assert isinstance(item, dict)
    if item.get("remove") is True and "user" in item:
        item["remove"] = item.pop("user")
    elif item.get("remove") is False:
        del item["remove"]
    return item


def _without_nulls(value: object) -> object:
    if isinstance(value, Mapping):
        return {str(k): _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


# --- feed tokens ------------------------------------------------------------------------------


def hash_feed_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_feed_token(conn: Connection, *, kind: FeedKind, ref: str, now: float) -> str:
    """A new secret for the feed of a schedule or a user: returned once, only its hash kept."""
    token = secrets.token_urlsafe(32)
    conn.execute(
        feed_tokens.insert().values(
            token_hash=hash_feed_token(token), kind=kind, ref=ref, created_at=now
        )
    )
    return token


def find_feed(conn: Connection, token: str) -> Row[Any] | None:
    """The live (not revoked) feed a token opens, or None."""
    return conn.execute(
        select(feed_tokens).where(
            feed_tokens.c.token_hash == hash_feed_token(token), feed_tokens.c.revoked_at.is_(None)
        )
    ).first()


def revoke_feeds(conn: Connection, *, kind: FeedKind, ref: str, now: float) -> int:
    """Revoke every live feed token of a schedule or user; how many there were."""
    result = conn.execute(
        feed_tokens.update()
        .where(
            feed_tokens.c.kind == kind,
            feed_tokens.c.ref == ref,
            feed_tokens.c.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    return int(result.rowcount)
