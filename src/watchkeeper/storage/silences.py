"""Silences made at run time (API, CLI): stored rows, never touched by `apply`."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import Connection, Row, select

from watchkeeper.storage.tables import silences


def create(
    conn: Connection,
    *,
    matchers: list[str],
    starts_at: float,
    ends_at: float,
    created_by: str,
    comment: str,
    now: float,
    silence_id: str | None = None,
    managed: bool = False,
) -> str:
    sid = silence_id or secrets.token_hex(6)
    conn.execute(
        silences.insert().values(
            id=sid,
            matchers=matchers,
            starts_at=starts_at,
            ends_at=ends_at,
            created_by=created_by,
            comment=comment,
            created_at=now,
            managed=managed,
        )
    )
    return sid


def get(conn: Connection, silence_id: str) -> Row[Any] | None:
    return conn.execute(select(silences).where(silences.c.id == silence_id)).first()


def expire(conn: Connection, silence_id: str, now: float) -> None:
    conn.execute(silences.update().where(silences.c.id == silence_id).values(expired_at=now))


def list_all(conn: Connection, *, include_expired: bool, now: float) -> list[Row[Any]]:
    stmt = select(silences).order_by(silences.c.created_at.desc())
    if not include_expired:
        stmt = stmt.where(silences.c.ends_at > now, silences.c.expired_at.is_(None))
    return list(conn.execute(stmt).all())
