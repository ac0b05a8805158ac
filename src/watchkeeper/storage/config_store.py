"""The stored configuration: its version counter and the rows a snapshot is compiled from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from watchkeeper.storage import schedules as schedules_q
from watchkeeper.storage.tables import (
    channels,
    config_objects,
    config_state,
    integrations,
    services,
    silences,
    teams,
    users,
)

_VERSION = select(config_state.c.version).where(config_state.c.id == 1)  # built once: hot


def version(conn: Connection) -> int:
    row = conn.execute(_VERSION).first()
    return int(row[0]) if row else 0


def bump(conn: Connection, now: float, document: Any = None) -> int:
    """Every change that the pipeline compiles (config, silences) bumps the version."""
    current = version(conn)
    if current == 0:
        conn.execute(
            config_state.insert().values(id=1, version=1, applied_at=now, document=document)
        )
        return 1
    values: dict[str, Any] = {"version": current + 1, "applied_at": now}
    if document is not None:
        values["document"] = document
    conn.execute(config_state.update().where(config_state.c.id == 1).values(**values))
    return current + 1


@dataclass(frozen=True, slots=True)
class StoredConfig:
    version: int
    channels: list[dict[str, Any]]
    services: list[dict[str, Any]]
    integrations: list[dict[str, Any]]
    objects: dict[str, list[dict[str, Any]]]  # kind -> specs
    silences: list[dict[str, Any]]
    teams: list[dict[str, Any]]
    users: list[dict[str, Any]]


def load(conn: Connection, *, now: float) -> StoredConfig:
    objects: dict[str, list[dict[str, Any]]] = {}
    runtime = schedules_q.overrides_of(conn)
    for row in conn.execute(
        select(config_objects).order_by(config_objects.c.kind, config_objects.c.id)
    ):
        spec = dict(row.spec)
        if row.kind == "schedule":
            # overrides made at run time page people too, not only the API's answers
            spec = schedules_q.with_runtime_overrides(
                spec, [o.spec for o in runtime.get(row.id, [])]
            )
        objects.setdefault(row.kind, []).append(spec)
    return StoredConfig(
        version=version(conn),
        channels=[dict(r._mapping) for r in conn.execute(select(channels))],
        services=[dict(r.spec) for r in conn.execute(select(services))],
        integrations=[dict(r.spec) for r in conn.execute(select(integrations))],
        objects=objects,
        silences=[
            dict(r._mapping)
            for r in conn.execute(
                select(silences).where(silences.c.ends_at > now, silences.c.expired_at.is_(None))
            )
        ],
        teams=[dict(r.spec) for r in conn.execute(select(teams))],
        users=[dict(r.spec) for r in conn.execute(select(users))],
    )
