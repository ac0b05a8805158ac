"""Migrations build the schema the code expects, and undo it, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from watchkeeper.storage import migrate
from watchkeeper.storage.db import open_engine
from watchkeeper.storage.tables import metadata


def test_upgrade_matches_the_tables_the_code_uses(db_url: str) -> None:
    engine = open_engine(db_url)
    migrate.upgrade(engine)
    assert migrate.current(engine) == migrate.head()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == [], f"models and migrations disagree: {diff}"
    engine.dispose()


def test_downgrade_to_base_and_back(db_url: str) -> None:
    engine = open_engine(db_url)
    migrate.upgrade(engine)
    migrate.downgrade(engine, "base")
    names = set(inspect(engine).get_table_names()) - {"alembic_version"}
    assert names == set()
    migrate.upgrade(engine)
    assert {"tickets", "alerts", "events", "notifications"} <= set(
        inspect(engine).get_table_names()
    )
    engine.dispose()
