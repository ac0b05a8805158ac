"""A database that cannot commit gets 503 with Retry-After, and nothing acknowledged is lost."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from tests.conftest import PG_ADMIN_URL, drop_pg_database, fresh_pg_database
from tests.support.harness import Harness, running

from watchkeeper.storage import tables


@pytest.fixture
def pg(pg_template: str) -> Iterator[tuple[str, str]]:
    name, url = fresh_pg_database(pg_template)
    try:
        yield name, url
    finally:
        _allow(name, True)
        drop_pg_database(name)


def _allow(name: str, allowed: bool) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"ALTER DATABASE {name} ALLOW_CONNECTIONS {str(allowed).lower()}"))
        if not allowed:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
    admin.dispose()


def _post(wk: Harness, key: str) -> int:
    response = wk.post(
        "/integrations/gen-key-0123456789abcdef/generic",
        json={"summary": f"disk {key}", "dedup": key, "service": "cart"},
    )
    if response.status_code == 503:
        assert response.headers["retry-after"]
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == 503
    return int(response.status_code)


def test_postgresql_down_answers_503_and_recovers(pg: tuple[str, str]) -> None:
    name, url = pg
    assert make_url(url).database == name
    with running(url) as wk:
        assert _post(wk, "before") == 202
        _allow(name, False)
        assert _post(wk, "during") == 503
        _allow(name, True)
        assert _post(wk, "after") == 202
        keys = {e.dedup_key for e in wk.events()}
        assert keys == {"before", "after"}
        assert wk.count(tables.alerts) == 2
