"""Everyone's pager in the demo: an HTTP server on loopback that keeps what it receives.

Each user's webhook contact points at `<url>/page/<user>`; the demo prints the pages that
arrive during the live incident, and counts those of the history.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True, slots=True)
class Page:
    user: str
    phase: str  # "history" or "live"
    received: float  # wall-clock seconds (time.time())
    delivery_id: str
    title: str
    tickets: tuple[dict[str, Any], ...] = ()
    signed: bool = False
    body: dict[str, Any] = field(default_factory=dict)


class PageReceiver:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._lock = threading.Lock()
        self._pages: list[Page] = []
        self.phase = "history"
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                receiver._keep(self.path, dict(self.headers.items()), raw)
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args: Any) -> None:
                return  # quiet: the demo prints what matters

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="demo-receiver", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> PageReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _keep(self, path: str, headers: dict[str, str], raw: bytes) -> None:
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {"text": raw[:2000].decode("utf-8", "replace")}
        if not isinstance(body, dict):
            body = {"body": body}
        lowered = {k.lower(): v for k, v in headers.items()}
        parts = [p for p in path.split("?")[0].split("/") if p]
        page = Page(
            user=parts[-1] if parts else "?",
            phase=self.phase,
            received=time.time(),
            delivery_id=str(body.get("delivery_id") or lowered.get("x-watchkeeper-delivery", "")),
            title=str(body.get("title") or body.get("text") or ""),
            tickets=tuple(t for t in body.get("tickets", []) if isinstance(t, dict)),
            signed="x-watchkeeper-signature" in lowered,
            body=body,
        )
        with self._lock:
            self._pages.append(page)

    def pages(self, phase: str | None = None) -> list[Page]:
        with self._lock:
            return [p for p in self._pages if phase is None or p.phase == phase]

    def count(self, phase: str | None = None) -> int:
        return len(self.pages(phase))

    def wait_quiet(self, *, quiet: float = 0.4, timeout: float = 5.0) -> None:
        """Until no page arrived for `quiet` seconds (or `timeout` passed)."""
        deadline = time.monotonic() + timeout
        seen, since = self.count(), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.05)
            now = self.count()
            if now != seen:
                seen, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return
