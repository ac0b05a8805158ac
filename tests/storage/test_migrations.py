"""Migrations build the schema the code expects, and undo it, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

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


def test_alert_pages_keep_room_for_in_place_updates_on_postgresql(db_url: str) -> None:
    """Re-sent alerts update their rows; on PostgreSQL the room left on each page lets most of
    those updates skip the indexes. The setting comes with the upgrade and leaves with the
    downgrade; SQLite has no such setting and the migration passes over it."""
    engine = open_engine(db_url)
    try:
        migrate.upgrade(engine)
        assert _alert_options(engine) == (["fillfactor=70"] if _is_pg(engine) else None)
        migrate.downgrade(engine, "0006")
        assert _alert_options(engine) is None
        migrate.upgrade(engine)
        assert migrate.current(engine) == migrate.head()
    finally:
        engine.dispose()


def _is_pg(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def _alert_options(engine: Engine) -> list[str] | None:
    if not _is_pg(engine):
        return None
    with engine.connect() as conn:
        options = conn.execute(
            text("SELECT reloptions FROM pg_class WHERE relname = 'alerts'")
        ).scalar_one()
    return list(options) if options else None
