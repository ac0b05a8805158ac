"""The demo's server: the real application and engine, on a clock the demo can move ahead.

`ReplayClock` runs behind the wall clock by a lag; the live replay "lets minutes pass" by
shrinking the lag, and once it reaches zero the server simply keeps real time. The server
itself is what `watchkeeper serve` runs (runtime, engine, uvicorn), in this process so the
demo can tick the engine right after moving the clock.
"""

from __future__ import annotations

import socket
import threading
import time
from datetime import datetime, timedelta

import uvicorn

from watchkeeper.api.app import create_app
from watchkeeper.clock import Clock, SystemClock
from watchkeeper.demo.simulation import work_due
from watchkeeper.runtime import Runtime, build_runtime
from watchkeeper.server import build_engine
from watchkeeper.settings import Settings


class ReplayClock:
    """The wall clock minus a lag that only ever shrinks: time never runs backwards."""

    def __init__(self, lag: timedelta, base: Clock | None = None) -> None:
        self._base = base or SystemClock()
        self._lag = max(lag, timedelta(0))
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._base.now() - self._lag

    def skip(self, delta: timedelta) -> None:
        with self._lock:
            self._lag = max(timedelta(0), self._lag - delta)

    def skip_to(self, instant: datetime) -> None:
        self.skip(instant - self.now())

    @property
    def lag(self) -> timedelta:
        with self._lock:
            return self._lag


class PortInUse(Exception):
    pass


def check_port(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise PortInUse(f"{host}:{port} is in use ({exc.strerror}); pass --port") from None


class DemoServer:
    """Runtime, engine and HTTP server in background threads; `stop()` ends all three."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.rt: Runtime = build_runtime(settings, clock=clock)
        self.engine = build_engine(self.rt)
        config = uvicorn.Config(
            create_app(self.rt),
            host=settings.host,
            port=settings.port,
            loop="uvloop",
            http="httptools",
            log_level="warning",
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=5,
        )
        self._http = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._http.run, name="demo-http", daemon=True)

    @property
    def url(self) -> str:
        return self.settings.base_url

    def start(self, *, timeout: float = 15.0) -> None:
        check_port(self.settings.host, self.settings.port)
        self.engine.start(self.settings.engine_tick_seconds)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._http.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise PortInUse(f"the server did not start on {self.url}")
            time.sleep(0.02)

    def tick(self, *, timeout: float = 10.0) -> None:
        """After the clock moved: until everything that fell due is done (pages delivered),
        whether this tick or the engine's own thread did it."""
        deadline = time.monotonic() + timeout
        while True:
            self.engine.tick()
            for module in self.engine.modules:
                wait_idle = getattr(module, "wait_idle", None)
                if wait_idle is not None:
                    wait_idle()
            with self.rt.db.connect() as conn:
                if not work_due(conn, self.clock.now().timestamp()):
                    return
            if time.monotonic() > deadline:
                return
            time.sleep(0.05)

    def stop(self) -> None:
        self._http.should_exit = True
        if self._thread.is_alive():
            self._thread.join(10)
        self.engine.stop()
        self.rt.db.dispose()
