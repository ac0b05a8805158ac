"""PostgreSQL: the ingest path's statements are prepared on the server, unless switched off
(PgBouncer before 1.21 in transaction mode cannot carry prepared statements)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from tests.conftest import drop_pg_database, fresh_pg_database

from watchkeeper.settings import from_env
from watchkeeper.storage.db import open_engine


def _prepared_after_repeats(url: str, *, pg_prepare: bool) -> int:
    engine = open_engine(url, pg_prepare=pg_prepare, pool_size=1)
    try:
        with engine.connect() as conn:
            for _ in range(8):
                conn.connection.cursor().execute(
                    "SELECT id FROM alerts WHERE status = 'firing' AND scope = %s", ("x",)
                )
            return int(conn.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar())
    finally:
        engine.dispose()


def test_postgresql_prepares_repeated_statements_unless_told_not_to(pg_template: str) -> None:
    name, url = fresh_pg_database(pg_template)
    try:
        assert _prepared_after_repeats(url, pg_prepare=True) >= 1
        assert _prepared_after_repeats(url, pg_prepare=False) == 0
    finally:
        drop_pg_database(name)


def test_the_setting_reads_on_and_off_and_refuses_anything_else() -> None:
    assert from_env({}).pg_prepare is True
    assert from_env({"WATCHKEEPER_PG_PREPARE": "off"}).pg_prepare is False
    assert from_env({"WATCHKEEPER_PG_PREPARE": "on"}).pg_prepare is True
    with pytest.raises(ValueError, match="WATCHKEEPER_PG_PREPARE='sometimes'"):
        from_env({"WATCHKEEPER_PG_PREPARE": "sometimes"})
