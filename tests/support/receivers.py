"""Real receivers on 127.0.0.1 for on-call tests: an HTTP server standing in for webhooks, chat
and SMS/voice gateways, and an aiosmtpd SMTP server. Each records what arrived and when (on the
test's clock, so a scenario can say "at 02:05 bob got an SMS")."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes
from email.message import Message as EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Request:
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    at: datetime | None

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def delivery_id(self) -> str:
        return self.headers.get("x-watchkeeper-delivery", "")


def read_body(handler: BaseHTTPRequestHandler) -> bytes | None:
    """The request's body; None when the sender died mid-request (an engine killed in a
    test): like any real receiver, take nothing from a request that never completed."""
    length = int(handler.headers.get("content-length", "0"))
    body = handler.rfile.read(length)
    if len(body) < length:
        handler.close_connection = True
        return None
    return body


def answer(
    handler: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes
) -> None:
    handler.send_response(status)
    for name, value in headers.items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing (tests read what it recorded), and answers without
    Nagle's delay (its status line and body go out in separate writes)."""

    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    hang: float = 0.0  # seconds to hold the answer back


class HttpReceiver:
    """Records every POST; answers with the reply set for its path (or the default)."""

    def __init__(self, now: Callable[[], datetime] | None = None) -> None:
        self.requests: list[Request] = []
        self.default = Reply()
        self.replies: dict[str, list[Reply]] = {}  # path -> replies used in turn, last repeats
        self._now = now
        self._lock = threading.Lock()
        self._release = threading.Event()
        receiver = self

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = read_body(self)
                if body is None:
                    return
                headers = {k.lower(): v for k, v in self.headers.items()}
                at = receiver._now() if receiver._now else None
                with receiver._lock:
                    receiver.requests.append(Request(self.path, headers, body, at))
                    queue = receiver.replies.get(self.path)
                    reply = (queue.pop(0) if len(queue) > 1 else queue[0]) if queue else None
                reply = reply or receiver.default
                if reply.hang:
                    receiver._release.wait(reply.hang)
                answer(self, reply.status, reply.headers, reply.body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def to(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    def close(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()


@dataclass
class Mail:
    rcpt_tos: list[str]
    message: EmailMessage
    at: datetime | None

    @property
    def delivery_id(self) -> str:
        return str(self.message["X-Watchkeeper-Delivery"] or "")

    def text(self) -> str:
        for part in self.message.walk():
            if part.get_content_type() == "text/plain":
                payload = part.get_payload(decode=True)
                assert isinstance(payload, bytes)
                return payload.decode()
        return ""


class _SmtpHandler:
    def __init__(self, now: Callable[[], datetime] | None) -> None:
        self.mails: list[Mail] = []
        self._now = now

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        at = self._now() if self._now else None
        message = message_from_bytes(envelope.content)
        self.mails.append(Mail(list(envelope.rcpt_tos), message, at))
        return "250 2.0.0 Ok: queued"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def smtp_server(now: Callable[[], datetime] | None = None) -> Iterator[tuple[list[Mail], int]]:
    """A plain SMTP server (no TLS offered) on a free port: (mails received, port)."""
    handler = _SmtpHandler(now)
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler.mails, port
    finally:
        controller.stop()
