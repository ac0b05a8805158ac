"""A Watchkeeper in the test process: real database, fake clock, real HTTP app."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from starlette.testclient import TestClient

from watchkeeper.api.app import create_app
from watchkeeper.clock import FakeClock
from watchkeeper.config.apply import apply_config
from watchkeeper.config.load import load_config
from watchkeeper.engine.loop import Engine, default_modules
from watchkeeper.runtime import Runtime, build_runtime
from watchkeeper.settings import Settings
from watchkeeper.storage import tables

SHOP = Path(__file__).parent / "shop.yaml"
ADMIN = "test-admin-token"


class Harness:
    def __init__(self, rt: Runtime, client: TestClient, clock: FakeClock) -> None:
        self.rt = rt
        self.client = client
        self.clock = clock
        self.engine = Engine(rt.db, rt.snapshots, clock, default_modules(rt.pipeline, "test"))
        self.auth = {"Authorization": f"Bearer {ADMIN}"}

    def apply(self, yaml_text: str, *, prune: bool = False) -> dict[str, Any]:
        config = load_config(yaml_text, source="test")
        with self.rt.db.begin() as conn:
            report = apply_config(conn, config, prune=prune, now=self.rt.now()).as_dict()
        self.rt.snapshots.invalidate()
        return report

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.engine.tick()

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.client.post(path, **kwargs)

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {**self.auth, **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    def generic(self, key: str = "gen-key-0123456789abcdef", **body: Any) -> Any:
        response = self.post(f"/integrations/{key}/generic", json=body)
        assert response.status_code == 202, response.text
        return response.json()

    def count(self, table: Any, *where: Any) -> int:
        with self.rt.db.connect() as conn:
            return int(
                conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
            )

    def tickets(self, *where: Any) -> list[Any]:
        with self.rt.db.connect() as conn:
            stmt = select(tables.tickets).where(*where).order_by(tables.tickets.c.id)
            return list(conn.execute(stmt).all())

    def alerts(self, *where: Any) -> list[Any]:
        with self.rt.db.connect() as conn:
            stmt = select(tables.alerts).where(*where).order_by(tables.alerts.c.id)
            return list(conn.execute(stmt).all())

    def events(self, *where: Any) -> list[Any]:
        with self.rt.db.connect() as conn:
            stmt = select(tables.events).where(*where).order_by(tables.events.c.id)
            return list(conn.execute(stmt).all())


@contextmanager
def running(db_url: str, config: str | None = None) -> Iterator[Harness]:
    clock = FakeClock()
    rt = build_runtime(Settings(db_url=db_url, admin_token=ADMIN), clock=clock)
    app = create_app(rt)
    with TestClient(app, raise_server_exceptions=True) as client:
        h = Harness(rt, client, clock)
        h.apply(config if config is not None else SHOP.read_text())
        yield h
    rt.db.dispose()
