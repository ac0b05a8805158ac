"""End-to-end fixtures: real `watchkeeper serve` subprocesses on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from tests.support.processes import Servers

PG_ADMIN_URL = os.environ.get(
    "WATCHKEEPER_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
_names = itertools.count()


def _pg_admin(sql: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(sql))
    finally:
        admin.dispose()


@pytest.fixture
def servers(db_url: str, tmp_path: Path) -> Iterator[Servers]:
    """Servers this test starts; each is stopped before its database is dropped."""
    del db_url  # only to order teardown: servers stop first
    started = Servers(tmp_path / "servers")
    try:
        yield started
    finally:
        started.stop_all()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Like `db_url`, for one server shared by the tests of a module (a server takes seconds
    to start): a SQLite file, or a fresh PostgreSQL database cloned from the template."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'watchkeeper.db'}"
        return
    template = request.getfixturevalue("pg_template")
    name = f"wk_e2e_{os.getpid()}_{next(_names)}"
    _pg_admin(f"CREATE DATABASE {name} TEMPLATE {template}")
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        _pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def module_servers(
    module_db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Servers]:
    del module_db_url  # only to order teardown: servers stop first
    started = Servers(tmp_path_factory.mktemp("servers"))
    try:
        yield started
    finally:
        started.stop_all()


_REPORT = pytest.StashKey[list[str]]()


@pytest.fixture
def e2e_report(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Add a line to the summary printed at the end of the run (counts of a stress test)."""
    lines = request.config.stash.setdefault(_REPORT, [])

    def add(line: str) -> None:
        print(line)  # also in the test's captured output
        lines.append(f"{request.node.nodeid}: {line}")

    return add


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    lines = config.stash.get(_REPORT, [])
    if lines:
        terminalreporter.section("end-to-end counts")
        for line in lines:
            terminalreporter.write_line(line)
