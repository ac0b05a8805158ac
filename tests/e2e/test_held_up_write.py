"""On PostgreSQL the ingest writer waits for the database in a thread of its own. While a write
is held up (here by a lock another session holds on the events table) the server keeps
answering its other requests; the held-up alert is acknowledged only once it is committed,
after the lock goes."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from tests.support.processes import serving, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(180)]

GENERIC = "/integrations/gen-key-0123456789abcdef/generic"


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def test_a_write_held_up_by_a_lock_leaves_the_server_answering(pg_url: str, tmp_path: Path) -> None:
    with serving(pg_url, tmp_path / "server") as server:
        database = _plain(pg_url).rsplit("/", 1)[1]
        with (
            psycopg.connect(_plain(pg_url)) as locker,
            psycopg.connect(_plain(pg_url), autocommit=True) as watcher,
        ):
            locker.execute("LOCK TABLE events IN EXCLUSIVE MODE")  # held until rollback
            sent: dict[str, Any] = {}

            def post() -> None:
                with server.client() as client:
                    sent["response"] = client.post(
                        GENERIC, json={"summary": "held up", "dedup": "held-up-1"}
                    )

            poster = threading.Thread(target=post)
            poster.start()

            def writer_waits() -> bool:
                row = watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
                    " AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO events%%'",
                    (database,),
                ).fetchone()
                return bool(row and row[0])

            wait_for(writer_waits, timeout=30, what="the writer waiting for the events lock")
            # the server answers while its writer waits
            with server.client(timeout=httpx.Timeout(10.0)) as client:
                assert client.get("/healthz").json() == {"status": "ok"}
                tickets = client.get("/api/v1/tickets", headers=server.auth)
                assert tickets.status_code == 200
            assert "response" not in sent  # nothing is acknowledged before its commit
            locker.rollback()
        poster.join(30)
        assert not poster.is_alive()
        assert sent["response"].status_code < 300, sent["response"].text
        events = server.api("GET", "/api/v1/events", params={"dedup_key": "held-up-1"})
        assert [e["summary"] for e in events.json()["events"]] == ["held up"]
