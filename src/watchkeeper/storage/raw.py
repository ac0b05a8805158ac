"""Statements on the paging path run on the driver's cursor, not through SQLAlchemy (as the
writer's batch statements in `hot` do; JSON parameters are encoded with `hot.encode`).

On an idle server, each SQLAlchemy execution of a cached statement costs ~0.1-0.4 ms before
and after the database's own work (measured inside an escalation step on SQLite; ~60-75 µs
warm, in a loop), against ~10-30 µs on the driver's cursor; an escalation step runs a dozen.
These statements are written once in SQL both dialects accept, with `?` placeholders
(turned into `%s` for psycopg, which then prepares them as it prepares SQLAlchemy's), and run
in the caller's transaction. Driver errors surface as SQLAlchemy's `DBAPIError` family, as
they would through `Connection.execute`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError


@lru_cache(maxsize=256)
def _for_postgresql(sql: str) -> str:
    return sql.replace("%", "%%").replace("?", "%s")


def execute(conn: Connection, sql: str, params: Sequence[Any] = ()) -> Any:
    """Run `sql` in `conn`'s transaction; the driver's cursor, to fetch from."""
    postgresql = conn.dialect.name == "postgresql"
    text = _for_postgresql(sql) if postgresql else sql
    cursor = conn.connection.cursor()
    dbapi = conn.dialect.loaded_dbapi
    try:
        cursor.execute(text, tuple(params))
    except dbapi.Error as exc:
        raise DBAPIError.instance(text, params, exc, dbapi.Error, dialect=conn.dialect) from exc
    return cursor


def json_column(conn: Connection, value: Any) -> Any:
    """A JSON column as read: SQLite returns its text, psycopg the value."""
    if value is None or conn.dialect.name == "postgresql":
        return value
    return json.loads(value)
