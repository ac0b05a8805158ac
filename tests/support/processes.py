"""Real `watchkeeper serve` processes for end-to-end tests: start one on a free loopback port
(SQLite file or PostgreSQL database), wait for /readyz, kill it with SIGKILL, start it again.

Every wait here is bounded in time; a process that fails to come up fails the test with the
tail of its log.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

ADMIN_TOKEN = "e2e-admin-token-0123456789"
PG_ADMIN_URL = os.environ.get(
    "WATCHKEEPER_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SHOP = Path(__file__).parent / "shop.yaml"
READY_TIMEOUT = 60.0


_scratch = itertools.count()


def _pg_admin(sql: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(sql))
    finally:
        admin.dispose()


@contextlib.contextmanager
def scratch_database(kind: str, directory: Path, pg_template: str | None = None) -> Iterator[str]:
    """A database for a group of tests: a SQLite file in `directory`, or a PostgreSQL database
    cloned from `pg_template` (the migrated template of tests/conftest.py), dropped after."""
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'watchkeeper.db'}"
        return
    assert kind == "postgresql" and pg_template, kind
    name = f"wk_scratch_{os.getpid()}_{next(_scratch)}"
    _pg_admin(f"CREATE DATABASE {name} TEMPLATE {pg_template}")
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        _pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def free_port() -> int:
    """A TCP port nothing listens on right now (the kernel's choice, on 127.0.0.1)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def watchkeeper_command() -> list[str]:
    """The installed `watchkeeper` console script of this interpreter's environment."""
    script = Path(sys.executable).with_name("watchkeeper")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "watchkeeper.cli.main"]


def _load_prctl() -> Any:
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _load_prctl() if sys.platform == "linux" else None  # loaded here, not in the child


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """Linux: the server gets SIGKILL when the thread that started it ends (the test process,
    whose main thread starts servers), so no server outlives a crashed run."""
    if _PRCTL is not None:
        _PRCTL(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The test's environment without WATCHKEEPER_* settings (they would leak into servers)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHKEEPER_")}
    env.update(extra or {})
    return env


def self_signed_cert(directory: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A self-signed certificate (and key) for `host`, made with the openssl command."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-sha256",
            "-days",
            "2",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            f"/CN={host}",
            "-addext",
            f"subjectAltName=IP:{host}",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


@dataclass
class ServerProcess:
    """One `watchkeeper serve` subprocess. `start()` again after `kill()` restarts it on the
    same database (on a new free port unless `port` is given)."""

    db_url: str
    workdir: Path
    config: Path | None = SHOP
    tls: tuple[Path, Path] | None = None  # (certificate, key)
    role: str = "all"
    admin_token: str = ADMIN_TOKEN
    log_level: str = "warning"
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"server-{self.starts}.log"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    def verify(self) -> ssl.SSLContext | bool:
        if self.tls is None:
            return True
        return ssl.create_default_context(cafile=str(self.tls[0]))

    def command(self) -> list[str]:
        cmd = [
            *watchkeeper_command(),
            "serve",
            "--db",
            self.db_url,
            "--port",
            str(self.port),
            "--host",
            "127.0.0.1",
            "--role",
            self.role,
            "--log-level",
            self.log_level,
        ]
        if self.config is not None:
            cmd += ["--config", str(self.config)]
        if self.tls is not None:
            cmd += ["--tls-cert", str(self.tls[0]), "--tls-key", str(self.tls[1])]
        return cmd

    def spawn(self, *, port: int | None = None) -> subprocess.Popen[bytes]:
        """Start the process without waiting for it."""
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError(f"server pid {self.proc.pid} is still running")
        self.port = port or free_port()
        self.starts += 1
        self.workdir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=child_env({"WATCHKEEPER_ADMIN_TOKEN": self.admin_token, **self.env}),
                cwd=self.workdir,
                preexec_fn=_die_with_parent if _PRCTL is not None else None,
            )
        return self.proc

    def start(self, *, port: int | None = None, timeout: float = READY_TIMEOUT) -> ServerProcess:
        self.spawn(port=port)
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Poll /readyz until it answers 200; fail with the log if the process exits first."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        last: str = "no answer yet"
        with httpx.Client(verify=self.verify(), timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise AssertionError(
                        f"watchkeeper serve exited with {self.proc.returncode} before it was "
                        f"ready:\n{self.log_tail()}"
                    )
                try:
                    response = client.get(f"{self.base_url}/readyz")
                    if response.status_code == 200:
                        return
                    last = f"{response.status_code} {response.text[:200]}"
                except httpx.TransportError as exc:
                    last = repr(exc)
                time.sleep(0.1)
        self.kill()
        raise AssertionError(
            f"watchkeeper serve not ready within {timeout}s ({last}):\n{self.log_tail()}"
        )

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, nothing is flushed (what a crash looks like)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM and wait; SIGKILL if it does not exit in time."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode

    def restart(self, *, same_port: bool = False, timeout: float = READY_TIMEOUT) -> None:
        port = self.port if same_port else None
        self.stop()
        self.start(port=port, timeout=timeout)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def client(self, **kwargs: Any) -> httpx.Client:
        """An HTTP client for this server (the admin token is sent only to /api/v1)."""
        kwargs.setdefault("timeout", 30.0)
        return httpx.Client(base_url=self.base_url, verify=self.verify(), **kwargs)

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.auth, **kwargs.pop("headers", {})}
        with self.client() as client:
            return client.request(method, path, headers=headers, **kwargs)


class Servers:
    """Every server a test started; all are stopped (SIGKILL if need be) at teardown."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.started: list[ServerProcess] = []

    def new(self, db_url: str, **kwargs: Any) -> ServerProcess:
        server = ServerProcess(
            db_url=db_url, workdir=self.workdir / f"server{len(self.started)}", **kwargs
        )
        self.started.append(server)
        return server

    def start(self, db_url: str, **kwargs: Any) -> ServerProcess:
        return self.new(db_url, **kwargs).start()

    def stop_all(self) -> None:
        for server in self.started:
            server.stop(timeout=10)


@contextlib.contextmanager
def serving(db_url: str, workdir: Path, **kwargs: Any) -> Iterator[ServerProcess]:
    servers = Servers(workdir)
    try:
        yield servers.start(db_url, **kwargs)
    finally:
        servers.stop_all()


def wait_for(
    check: Any, *, timeout: float = 15.0, interval: float = 0.1, what: str = "condition"
) -> Any:
    """Call `check()` until it returns something truthy (returned) or the deadline passes.
    A check may raise AssertionError while it waits; the last one is reported."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    value: Any = None
    while True:
        try:
            value = check()
            if value:
                return value
        except AssertionError as exc:
            last = exc
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    detail = f": {last}" if last is not None else f" (last value {value!r})"
    raise AssertionError(f"{what} not reached within {timeout}s{detail}")


def run_to_exit(
    args: Sequence[str], *, timeout: float = 60.0, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """A command expected to exit by itself (bounded in time)."""
    return subprocess.run(
        list(args),
        capture_output=True,
        text=True,
        timeout=timeout,
        env=child_env(env),
        stdin=subprocess.DEVNULL,
    )
