"""Rejected payloads, counted per integration with the last error and a sample (invariant 1)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, select
from sqlalchemy.dialects import postgresql, sqlite

from watchkeeper.storage.tables import rejections

UNKNOWN = ""  # the integration id under which payloads for unknown keys are counted
SAMPLE_CHARS = 2048


def record(
    conn: Connection,
    *,
    integration_id: str,
    status: int,
    error: str,
    sample: str | None,
    remote: str | None,
    now: float,
) -> None:
    ins = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(rejections)
    values = {
        "last_at": now,
        "last_status": status,
        "last_error": error[:2000],
        "sample": sample[:SAMPLE_CHARS] if sample else None,
        "last_remote": remote,
    }
    stmt = ins.values(integration_id=integration_id, count=1, **values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["integration_id"],
        set_={"count": rejections.c.count + 1, **values},
    )
    conn.execute(stmt)


def all_rows(conn: Connection) -> Sequence[Row[Any]]:
    return conn.execute(select(rejections).order_by(rejections.c.integration_id)).all()
