"""Small SQL building blocks the quality queries share, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import BigInteger, ColumnElement, case, func, literal, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from watchkeeper.quality.scope import WEEK, WEEK_ORIGIN, Scope
from watchkeeper.storage.tables import tickets

T = tickets.c

# Knuth's multiplicative hash: id·A mod 2³² spreads consecutive ids evenly over [0, 2³²), so
# "hash < f·2³²" keeps a uniform fraction f of the rows without sorting anything.
_HASH_A: Final = 2654435761
_HASH_M: Final = 2**32


class floor_int(FunctionElement[int]):
    """The largest integer ≤ x. SQLite may lack FLOOR (it is an optional math function there),
    so it gets a CAST that truncates, corrected for negatives."""

    type = BigInteger()
    inherit_cache = True


@compiles(floor_int)
def _floor_default(element: floor_int, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(FLOOR({compiler.process(element.clauses, **kw)}) AS BIGINT)"


@compiles(floor_int, "sqlite")
def _floor_sqlite(element: floor_int, compiler: SQLCompiler, **kw: Any) -> str:
    x = compiler.process(element.clauses, **kw)
    return f"(CAST({x} AS INTEGER) - ({x} < CAST({x} AS INTEGER)))"


def week_index(instant: ColumnElement[Any]) -> ColumnElement[int]:
    """Index of the UTC week (Monday first) an instant falls in; see scope.week_label."""
    return floor_int((instant - WEEK_ORIGIN) / WEEK)


def flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """1 when the condition holds, else 0: for SUM in SELECT lists."""
    return case((condition, 1), else_=0)


def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(flag(condition)), 0)


def sample_condition(
    id_column: ColumnElement[Any], fraction: float, seed: int = 0
) -> ColumnElement[bool]:
    """Rows whose hashed id falls in the lowest `fraction`: a uniform, repeatable sample."""
    if fraction >= 1.0:
        return literal(True)
    threshold = int(fraction * _HASH_M)
    hashed = ((id_column + seed) * literal(_HASH_A, BigInteger)) % literal(_HASH_M, BigInteger)
    return hashed < threshold


def at_least(column: ColumnElement[Any], scope: Scope) -> list[ColumnElement[bool]]:
    wanted = scope.severities
    return [] if wanted is None else [column.in_(wanted)]


def in_services(column: ColumnElement[Any], scope: Scope) -> list[ColumnElement[bool]]:
    return [] if scope.service_ids is None else [column.in_(scope.service_ids)]


def detected_in(scope: Scope) -> list[ColumnElement[bool]]:
    """The window alone, as the time index can count it."""
    return [T.detected_at >= scope.start, T.detected_at < scope.end]


def ticket_conditions(scope: Scope) -> list[ColumnElement[bool]]:
    """Tickets a report counts: detected in the window, in scope, not merged into another
    (a merged ticket's alerts live on in the ticket it joined)."""
    return [
        *detected_in(scope),
        T.merged_into.is_(None),
        *in_services(T.service_id, scope),
        *at_least(T.severity, scope),
    ]


def as_int(value: Any) -> int:
    return 0 if value is None else int(value)


def as_float(value: Any) -> float:
    return 0.0 if value is None else float(value)


_EMPTY: ColumnElement[str] = literal_column("''")
_BAR: ColumnElement[str] = literal_column("'|'")


def pair_key(first: ColumnElement[Any], second: ColumnElement[Any]) -> ColumnElement[str]:
    """One text key for two id columns (ids never hold '|'): SQLite groups on one key about
    twice as fast as on two. Read it back with `split_pair`; NULL becomes ''."""
    return func.coalesce(first, _EMPTY).concat(_BAR).concat(func.coalesce(second, _EMPTY))


def split_pair(key: str) -> tuple[str | None, str | None]:
    first, _, second = key.partition("|")
    return first or None, second or None


def unindexed(column: ColumnElement[Any], wide: bool) -> ColumnElement[Any]:
    """`column + 0` when the window covers most of the table: the same values, but SQLite
    (which keeps no statistics unless ANALYZE ran) then scans the table in order instead of
    visiting most rows through the time index, about three times slower."""
    return column + 0 if wide else column
