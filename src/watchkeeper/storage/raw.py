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
from collections import namedtuple
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import JSON, Boolean, Connection, Table
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


class _Shape:
    """How rows of one table are read raw: the column list, and per column what SQLite's
    values need to look as SQLAlchemy returns them (JSON decoded, booleans as bool)."""

    def __init__(self, table: Table) -> None:
        names = [c.name for c in table.columns]
        self.columns = ", ".join(names)
        base = namedtuple(f"{table.name}_row", names)  # type: ignore[misc]

        class TableRow(base):
            """A row read raw: attributes and `_mapping`, as a SQLAlchemy Row has."""

            __slots__ = ()

            @property
            def _mapping(self) -> dict[str, Any]:
                return dict(self._asdict())

        self.make: Callable[[Sequence[Any]], Any] = TableRow._make
        self.sqlite_fix: list[tuple[int, Callable[[Any], Any]]] = [
            (i, json.loads if isinstance(c.type, JSON) else bool)
            for i, c in enumerate(table.columns)
            if isinstance(c.type, JSON | Boolean)
        ]


@lru_cache(maxsize=32)
def shape(table: Table) -> _Shape:
    return _Shape(table)


def table_rows(conn: Connection, cursor: Any, table: Table) -> list[Any]:
    """The rows of a `SELECT {shape(table).columns} ...` (or RETURNING), as SQLAlchemy would
    return them."""
    form = shape(table)
    fetched = cursor.fetchall()
    if conn.dialect.name == "postgresql" or not form.sqlite_fix:
        return [form.make(row) for row in fetched]
    out = []
    for row in fetched:
        values = list(row)
        for i, fix in form.sqlite_fix:
            if values[i] is not None:
                values[i] = fix(values[i])
        out.append(form.make(values))
    return out
