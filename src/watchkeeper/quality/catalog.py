"""The configured objects a report names: services, channels, integrations, people, SLOs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from watchkeeper.storage.tables import (
    channels,
    config_objects,
    integrations,
    services,
    teams,
    users,
)


@dataclass(frozen=True)
class Catalog:
    """The configured objects a report names: services, channels, integrations, people, SLOs."""

    services: dict[str, dict[str, Any]]  # id -> {name, team}
    channels: dict[str, str]  # id -> kind
    integrations: dict[str, dict[str, Any]]  # id -> {name, channel, service}
    users: dict[str, dict[str, Any]]  # id -> {name, time_zone, team}
    teams: dict[str, list[str]]  # id -> members (the team's list, and users naming the team)
    objects: dict[str, list[dict[str, Any]]]  # kind -> specs (slo, objective, schedule)


def catalog(conn: Connection) -> Catalog:
    svc = {
        r.id: {"name": r.name, "team": r.team_id}
        for r in conn.execute(select(services.c.id, services.c.name, services.c.team_id))
    }
    chans = {r.id: r.kind for r in conn.execute(select(channels.c.id, channels.c.kind))}
    integ = {
        r.id: {"name": r.name, "channel": r.channel_id, "service": r.service_id}
        for r in conn.execute(
            select(
                integrations.c.id,
                integrations.c.name,
                integrations.c.channel_id,
                integrations.c.service_id,
            )
        )
    }
    people = {
        r.id: {"name": r.name, "time_zone": r.time_zone, "team": r.team_id}
        for r in conn.execute(select(users.c.id, users.c.name, users.c.time_zone, users.c.team_id))
    }
    members: dict[str, list[str]] = {}
    for r in conn.execute(select(teams.c.id, teams.c.spec).order_by(teams.c.id)):
        members[r.id] = [str(m) for m in (r.spec or {}).get("members") or []]
    for user, info in sorted(people.items()):
        team = info.get("team")
        if team and user not in members.setdefault(str(team), []):
            members[str(team)].append(user)
    objects: dict[str, list[dict[str, Any]]] = {}
    for r in conn.execute(
        select(config_objects.c.kind, config_objects.c.spec)
        .where(config_objects.c.kind.in_(("slo", "objective", "schedule")))
        .order_by(config_objects.c.kind, config_objects.c.id)
    ):
        objects.setdefault(r.kind, []).append(dict(r.spec))
    return Catalog(svc, chans, integ, people, members, objects)
