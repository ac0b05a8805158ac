"""End-to-end fixtures: real `watchkeeper serve` subprocesses on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser
from tests.conftest import drop_pg_database, fresh_pg_database
from tests.support.browser import chromium
from tests.support.processes import Servers, scratch_database


@pytest.fixture
def servers(db_url: str, tmp_path: Path) -> Iterator[Servers]:
    """Servers this test starts; each is stopped before its database is dropped."""
    del db_url  # only to order teardown: servers stop first
    started = Servers(tmp_path / "servers")
    try:
        yield started
    finally:
        started.stop_all()


@pytest.fixture
def pg_url(pg_template: str) -> Iterator[str]:
    """A fresh PostgreSQL database cloned from the migrated template, for tests of what only
    PostgreSQL does (several engines on one database, a writer off the event loop)."""
    name, url = fresh_pg_database(pg_template)
    try:
        yield url
    finally:
        drop_pg_database(name)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Like `db_url`, for one server shared by the tests of a module (a server takes seconds
    to start): a SQLite file, or a fresh PostgreSQL database cloned from the template."""
    template = request.getfixturevalue("pg_template") if request.param == "postgresql" else None
    with scratch_database(request.param, tmp_path_factory.mktemp("db"), template) as url:
        yield url


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


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium (Debian's, through Playwright), shared by the tests of a module."""
    with chromium() as launched:
        yield launched
