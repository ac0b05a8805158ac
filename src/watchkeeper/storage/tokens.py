"""API tokens: stored as SHA-256 hashes; the bootstrap admin token comes from settings."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from sqlalchemy import Connection, Row, select

from watchkeeper.storage.tables import api_tokens


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(
    conn: Connection, *, user_id: str | None, name: str, admin: bool, now: float
) -> tuple[str, str]:
    """A new token (returned once, never stored in clear) and its id."""
    token = "wk_" + secrets.token_urlsafe(32)
    token_id = secrets.token_hex(8)
    conn.execute(
        api_tokens.insert().values(
            id=token_id,
            token_hash=hash_token(token),
            user_id=user_id,
            name=name,
            admin=admin,
            created_at=now,
        )
    )
    return token_id, token


def find(conn: Connection, token: str) -> Row[Any] | None:
    return conn.execute(
        select(api_tokens).where(
            api_tokens.c.token_hash == hash_token(token), api_tokens.c.revoked_at.is_(None)
        )
    ).first()


def revoke(conn: Connection, token_id: str, now: float) -> bool:
    res = conn.execute(
        api_tokens.update()
        .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return bool(res.rowcount)


def list_all(conn: Connection) -> list[Row[Any]]:
    return list(conn.execute(select(api_tokens).order_by(api_tokens.c.created_at)).all())
