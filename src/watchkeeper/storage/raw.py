"""Statements on the paging path run on the driver's cursor, not through SQLAlchemy (the
writer's batch statements in `hot` too; JSON parameters are encoded with `encode`).

On an idle server, each SQLAlchemy execution of a cached statement costs ~0.1-0.4 ms before
and after the database's own work (measured inside an escalation step on SQLite; ~60-75 µs
warm, in a loop), against ~10-30 µs on the driver's cursor; an escalation step runs a dozen.
These statements are written once in SQL both dialects accept, with `?` placeholders
(turned into `%s` for psycopg, which then prepares them as it prepares SQLAlchemy's), and run
in the caller's transaction. Driver errors surface as SQLAlchemy's `DBAPIError` family, as
they would through `Connection.execute`.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import msgspec
from sqlalchemy import JSON, Boolean, Connection, Table
from sqlalchemy.exc import DBAPIError

_decode_json = msgspec.json.decode
_json = msgspec.json.Encoder()


def encode(value: Any) -> str | None:
    """A JSON column's value, encoded once with msgspec (None: SQL NULL)."""
    return None if value is None else _json.encode(value).decode()


def questions(n: int) -> str:
    """`n` placeholders, for an IN list or a VALUES row."""
    return ", ".join("?" * n)


@lru_cache(maxsize=1024)
def _for_postgresql(sql: str) -> str:
    return sql.replace("%", "%%").replace("?", "%s")


def driver_sql(conn: Connection, sql: str) -> str:
    """`sql`, written with `?` placeholders, in the driver's own style (psycopg: `%s`)."""
    return _for_postgresql(sql) if conn.dialect.name == "postgresql" else sql


def _run(conn: Connection, sql: str, params: Any, many: bool, replan: bool = False) -> Any:
    text = driver_sql(conn, sql)
    found: Any = conn.connection.cursor()  # in the connection's transaction; nothing compiled
    dbapi = conn.dialect.loaded_dbapi
    try:
        if many:
            found.executemany(text, params)
        elif replan and conn.dialect.name == "postgresql":
            found.execute(text, tuple(params), prepare=False)
        else:
            found.execute(text, tuple(params))
    except dbapi.Error as exc:
        raise DBAPIError.instance(text, params, exc, dbapi.Error, dialect=conn.dialect) from exc
    return found


def execute(conn: Connection, sql: str, params: Sequence[Any] = (), *, replan: bool = False) -> Any:
    """Run `sql`, written with `?` placeholders, in `conn`'s transaction; the driver's
    cursor, to fetch from.

    `replan`: PostgreSQL plans the statement for these very values each time, never from a
    prepared statement's generic plan. For a long IN list: a generic plan, chosen while a
    new table's statistics still say it is nearly empty, may scan the whole table and test
    every row against every value (seen: 1 s for a batch's 2,000 keys, against ~0.05 s).
    """
    return _run(conn, sql, params, many=False, replan=replan)


def executemany(conn: Connection, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """`execute` once per row of parameters, in one driver call."""
    _run(conn, sql, rows, many=True)


def json_column(conn: Connection, value: Any) -> Any:
    """A JSON column as read: SQLite returns its text, psycopg the value."""
    if value is None or conn.dialect.name == "postgresql":
        return value
    return _decode_json(value)


class _Shape:
    """How rows of one table are read raw: the column list, and per column what SQLite's
    values need to look as SQLAlchemy returns them (JSON decoded, booleans as bool)."""

    def __init__(self, table: Table) -> None:
        self.names = tuple(c.name for c in table.columns)
        self.columns = ", ".join(self.names)
        base = namedtuple(f"{table.name}_row", self.names)  # type: ignore[misc]

        class TableRow(base):
            """A row read raw: attributes and `_mapping`, as a SQLAlchemy Row has."""

            __slots__ = ()

            @property
            def _mapping(self) -> dict[str, Any]:
                return dict(self._asdict())

        self.make: Callable[[Sequence[Any]], Any] = TableRow._make
        self.json = frozenset(c.name for c in table.columns if isinstance(c.type, JSON))
        self.sqlite_fix: list[tuple[int, Callable[[Any], Any]]] = [
            (i, _decode_json if isinstance(c.type, JSON) else bool)
            for i, c in enumerate(table.columns)
            if isinstance(c.type, JSON | Boolean)
        ]

    def values(self, conn: Connection, fetched: list[Any]) -> list[Sequence[Any]]:
        """The fetched rows' values as SQLAlchemy would return them."""
        if conn.dialect.name == "postgresql" or not self.sqlite_fix:
            return fetched
        out: list[Sequence[Any]] = []
        for row in fetched:
            values = list(row)
            for i, fix in self.sqlite_fix:
                if values[i] is not None:
                    values[i] = fix(values[i])
            out.append(values)
        return out


@lru_cache(maxsize=32)
def shape(table: Table) -> _Shape:
    return _Shape(table)


def table_rows(conn: Connection, found: Any, table: Table) -> list[Any]:
    """The rows of a `SELECT {shape(table).columns} ...` (or RETURNING) on cursor `found`,
    as SQLAlchemy would return them."""
    form = shape(table)
    return [form.make(values) for values in form.values(conn, found.fetchall())]


def table_dicts(conn: Connection, found: Any, table: Table) -> list[dict[str, Any]]:
    """`table_rows` as dicts of every column (for a caller that changes them)."""
    form = shape(table)
    return [dict(zip(form.names, v, strict=True)) for v in form.values(conn, found.fetchall())]


def insert_values(table: Table, values: dict[str, Any]) -> tuple[Any, ...]:
    """The parameters of an INSERT of `values` (in their order), JSON columns encoded."""
    json_columns = shape(table).json
    return tuple(encode(v) if k in json_columns else v for k, v in values.items())
