"""`apply`: make the stored configuration what the file says, idempotently.

Creates and updates what the file names; deletes managed objects the file no longer names
only with `prune`. Objects made at run time (silences from the API, overrides) are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, delete, select

from watchkeeper.clock import from_epoch
from watchkeeper.config.schema import Config
from watchkeeper.storage import alerts as alerts_q
from watchkeeper.storage import config_store
from watchkeeper.storage.tables import (
    channels,
    config_objects,
    integrations,
    service_dependencies,
    services,
    silences,
    teams,
    users,
)

# config section -> kind stored in config_objects
OBJECT_KINDS = {
    "filters": "filter",
    "maintenance_windows": "maintenance_window",
    "schedules": "schedule",
    "escalation_policies": "escalation_policy",
    "slos": "slo",
    "objectives": "objective",
}


@dataclass
class ApplyReport:
    created: dict[str, list[str]] = field(default_factory=dict)
    updated: dict[str, list[str]] = field(default_factory=dict)
    deleted: dict[str, list[str]] = field(default_factory=dict)
    unchanged: int = 0
    version: int = 0

    def note(self, bucket: dict[str, list[str]], section: str, ident: str) -> None:
        bucket.setdefault(section, []).append(ident)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "deleted": self.deleted,
            "unchanged": self.unchanged,
            "version": self.version,
        }


def _dump(config: Config, section: str) -> list[dict[str, Any]]:
    items = config.model_dump(mode="json", by_alias=True)[section]
    return list(items)


def apply_config(conn: Connection, config: Config, *, prune: bool, now: float) -> ApplyReport:
    report = ApplyReport()
    document = config.model_dump(mode="json", by_alias=True)

    def rows(table: Table, section: str, build: Any) -> None:
        wanted = {item["id"]: build(item) for item in document[section]}
        existing = {r.id: dict(r._mapping) for r in conn.execute(select(table))}
        for ident, values in wanted.items():
            if ident not in existing:
                conn.execute(table.insert().values(id=ident, **values))
                report.note(report.created, section, ident)
            elif any(existing[ident].get(k) != v for k, v in values.items()):
                conn.execute(table.update().where(table.c.id == ident).values(**values))
                report.note(report.updated, section, ident)
            else:
                report.unchanged += 1
        if prune:
            for ident in sorted(set(existing) - set(wanted)):
                conn.execute(delete(table).where(table.c.id == ident))
                report.note(report.deleted, section, ident)

    rows(teams, "teams", lambda t: {"name": t["name"], "spec": t})
    rows(
        users,
        "users",
        lambda u: {
            "name": u["name"],
            "email": u.get("email"),
            "time_zone": u.get("time_zone") or "UTC",
            "team_id": u.get("team"),
            "spec": u,
        },
    )
    rows(channels, "channels", lambda c: {"name": c["name"], "kind": c["kind"]})
    rows(services, "services", lambda s: {"name": s["name"], "team_id": s["team"], "spec": s})
    rows(
        integrations,
        "integrations",
        lambda i: {
            "name": i["name"],
            "type": i["type"],
            "key": i["key"],
            "channel_id": i["channel"],
            "service_id": i["service"],
            "spec": i,
        },
    )
    _dependencies(conn, document["services"])
    for section, kind in OBJECT_KINDS.items():
        _objects(conn, report, section, kind, document[section], prune)
    _objects(
        conn, report, "outbound", "outbound", [{"id": "outbound", **document["outbound"]}], prune
    )
    _silences(conn, report, config, now, prune)
    if report.changed:
        report.version = config_store.bump(conn, now, document=_redacted(document))
        alerts_q.recheck_muted(conn, now)
    else:
        report.version = config_store.version(conn)
    return report


def _dependencies(conn: Connection, specs: list[dict[str, Any]]) -> None:
    conn.execute(delete(service_dependencies))
    pairs = [
        {"service_id": s["id"], "depends_on": d} for s in specs for d in s.get("depends_on") or []
    ]
    if pairs:
        conn.execute(service_dependencies.insert(), pairs)


def _objects(
    conn: Connection,
    report: ApplyReport,
    section: str,
    kind: str,
    items: list[dict[str, Any]],
    prune: bool,
) -> None:
    existing = {
        r.id: r.spec
        for r in conn.execute(select(config_objects).where(config_objects.c.kind == kind))
    }
    wanted = {str(item["id"]): item for item in items}
    for ident, spec in wanted.items():
        if ident not in existing:
            conn.execute(config_objects.insert().values(kind=kind, id=ident, spec=spec))
            report.note(report.created, section, ident)
        elif existing[ident] != spec:
            conn.execute(
                config_objects.update()
                .where(config_objects.c.kind == kind, config_objects.c.id == ident)
                .values(spec=spec)
            )
            report.note(report.updated, section, ident)
        else:
            report.unchanged += 1
    if prune:
        for ident in sorted(set(existing) - set(wanted)):
            conn.execute(
                delete(config_objects).where(
                    config_objects.c.kind == kind, config_objects.c.id == ident
                )
            )
            report.note(report.deleted, section, ident)


def _silences(
    conn: Connection, report: ApplyReport, config: Config, now: float, prune: bool
) -> None:
    """Silences in the file are managed rows; re-applying keeps their original window."""
    existing = {r.id: r for r in conn.execute(select(silences).where(silences.c.managed.is_(True)))}
    applied_at: datetime = from_epoch(now)
    for silence in config.silences:
        matchers = [str(m) for m in silence.match]
        row = existing.get(silence.id)
        first_applied = from_epoch(row.created_at) if row is not None else applied_at
        starts, ends = silence.window(first_applied)
        values = {
            "matchers": matchers,
            "starts_at": starts.timestamp(),
            "ends_at": ends.timestamp(),
            "created_by": silence.author,
            "comment": silence.comment,
        }
        if row is None:
            conn.execute(
                silences.insert().values(id=silence.id, created_at=now, managed=True, **values)
            )
            report.note(report.created, "silences", silence.id)
        elif any(getattr(row, k) != v for k, v in values.items()):
            conn.execute(silences.update().where(silences.c.id == silence.id).values(**values))
            report.note(report.updated, "silences", silence.id)
        else:
            report.unchanged += 1
    if prune:
        named = {s.id for s in config.silences}
        for ident in sorted(set(existing) - named):
            conn.execute(delete(silences).where(silences.c.id == ident))
            report.note(report.deleted, "silences", ident)


def _redacted(document: dict[str, Any]) -> dict[str, Any]:
    """The stored copy of the file, without integration keys and contact secrets."""
    out = dict(document)
    out["integrations"] = [{**i, "key": "<redacted>"} for i in document["integrations"]]
    out["users"] = [
        {
            **u,
            "contacts": [
                {**c, "secret": "<redacted>"} if c.get("secret") else c
                for c in u.get("contacts", [])
            ],
        }
        for u in document["users"]
    ]
    return out
