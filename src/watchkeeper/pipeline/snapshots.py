"""Builds the pipeline's Snapshot from the stored configuration, once per version."""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import Connection, Engine

from watchkeeper.oncall.targets import compile_directory
from watchkeeper.pipeline.mute import Muter, compile_filter, compile_maintenance, compile_window
from watchkeeper.pipeline.snapshot import Snapshot, compile_integration, compile_service
from watchkeeper.storage import config_store
from watchkeeper.storage.config_store import StoredConfig
from watchkeeper.storage.db import reader

# A silence that starts later still belongs to the snapshot; one that ended does not, so the
# snapshot is also rebuilt when the earliest stored end passes.


def build(stored: StoredConfig) -> Snapshot:
    channel_kinds = {c["id"]: c["kind"] for c in stored.channels}
    integrations = [
        compile_integration(spec, channel_kinds.get(spec.get("channel", ""), "automatic"))
        for spec in stored.integrations
    ]
    muters: list[Muter] = [compile_filter(spec) for spec in stored.objects.get("filter", [])]
    muters.extend(compile_maintenance(s) for s in stored.objects.get("maintenance_window", []))
    for row in stored.silences:
        spec = {"id": row["id"], "match": row["matchers"], "comment": row["comment"]}
        muters.append(
            compile_window("silence", spec, starts_at=row["starts_at"], ends_at=row["ends_at"])
        )
    policies = {p["id"]: p for p in stored.objects.get("escalation_policy", [])}
    outbound = next(iter(stored.objects.get("outbound", [])), {})
    return Snapshot(
        version=stored.version,
        integrations_by_key={i.key: i for i in integrations},
        integrations_by_id={i.id: i for i in integrations},
        services={s.id: s for s in (compile_service(spec) for spec in stored.services)},
        channels=channel_kinds,
        muters=tuple(muters),
        policies=policies,
        specs={kind: {str(s["id"]): s for s in specs} for kind, specs in stored.objects.items()},
        directory=compile_directory(stored.users, stored.teams, stored.objects.get("schedule", [])),
        outbound_allow=tuple(str(n) for n in outbound.get("allow") or ()),
    )


class SnapshotCache:
    """The current Snapshot, shared by the ingest edge (key lookups) and the writer."""

    def __init__(self, engine: Engine, clock: Any) -> None:
        self.engine = engine
        self.clock = clock
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._expires: float = float("inf")
        self._last_check = 0.0
        self._checked_at = 0.0  # monotonic time of the last version query
        self._stale = True

    def invalidate(self) -> None:
        """This process changed the configuration: look again before the next use."""
        self._stale = True

    @property
    def current(self) -> Snapshot:
        snap = self._snapshot
        if snap is None:
            with reader(self.engine).connect() as conn:
                return self.refresh(conn)
        return snap

    def refresh(self, conn: Connection, *, max_age: float = 0.0) -> Snapshot:
        """Rebuild when the stored version changed or a silence/window ended; else reuse.

        `max_age`: skip the version query when it ran less than this many seconds ago and
        nothing in this process changed the configuration (the writer's hot path); another
        process's change is then seen within `max_age`.
        """
        now = self.clock.now().timestamp()
        snap = self._snapshot
        mono = time.monotonic()
        if (
            snap is not None
            and not self._stale
            and mono - self._checked_at < max_age
            and now < self._expires
        ):
            return snap
        version = config_store.version(conn)
        self._checked_at = mono
        self._stale = False
        if snap is not None and snap.version == version and now < self._expires:
            return snap
        with self._lock:
            stored = config_store.load(conn, now=now)
            snap = build(stored)
            ends = [s["ends_at"] for s in stored.silences]
            self._expires = min(ends) if ends else float("inf")
            self._snapshot = snap
            return snap

    def check_soon(self) -> Snapshot:
        """On an unknown key at the edge: look again, at most once a second."""
        mono = time.monotonic()
        if mono - self._last_check < 1.0 and self._snapshot is not None:
            return self._snapshot
        self._last_check = mono
        with reader(self.engine).connect() as conn:
            return self.refresh(conn)
