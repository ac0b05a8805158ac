"""Shared fixtures: a database of each kind, a runtime on a fake clock, an HTTP client."""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from watchkeeper.storage import migrate
from watchkeeper.storage.db import open_engine

PG_ADMIN_URL = os.environ.get(
    "WATCHKEEPER_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
_TEMPLATE = f"wk_template_{os.getpid()}"
_counter = itertools.count()


def _pg_admin():  # type: ignore[no-untyped-def]
    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated PostgreSQL database that every test's database is cloned from (fast)."""
    try:
        admin = _pg_admin()
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {_TEMPLATE}"))
            conn.execute(text(f"CREATE DATABASE {_TEMPLATE}"))
    except Exception as exc:
        pytest.fail(
            f"PostgreSQL at {PG_ADMIN_URL} is required (start it: scripts/start-services.sh): {exc}"
        )
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{_TEMPLATE}"
    engine = open_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield _TEMPLATE
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {_TEMPLATE} WITH (FORCE)"))
    admin.dispose()


def fresh_pg_database(template: str) -> tuple[str, str]:
    name = f"wk_t_{os.getpid()}_{next(_counter)}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {template}"))
    admin.dispose()
    return name, PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_pg_database(name: str) -> None:
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test's database is copied from (migrating every test's
    file from scratch would cost more than most tests)."""
    path = tmp_path_factory.mktemp("template") / "watchkeeper.db"
    engine = open_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    # one self-contained file to copy: everything checkpointed out of the write-ahead log
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every storage and pipeline test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "watchkeeper.db"
        shutil.copyfile(template, target)
        yield f"sqlite:///{target}"
        return
    pg: str = request.getfixturevalue("pg_template")
    name, url = fresh_pg_database(pg)
    try:
        yield url
    finally:
        drop_pg_database(name)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'watchkeeper.db'}"
