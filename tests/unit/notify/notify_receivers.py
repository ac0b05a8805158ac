"""Real receivers on 127.0.0.1 for notify tests: an HTTP(S) server and an SMTP server."""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from tests.support.receivers import QuietHandler, answer, read_body


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    peer: int = 0  # the sender's port: the same for requests on one kept-alive connection

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    hang: bool = False  # read the request, then never answer


class HttpReceiver:
    """A threaded HTTP server that records every request and answers with `reply`."""

    def __init__(self, tls: ssl.SSLContext | None = None, *, keep_alive: bool = False) -> None:
        self.seen: list[Seen] = []
        self.reply = Reply()
        self.replies: dict[str, Reply] = {}  # by path, over `reply`
        self._release = threading.Event()
        receiver = self

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

            def do_POST(self) -> None:
                body = read_body(self)
                if body is None:
                    return
                headers = {k.lower(): v for k, v in self.headers.items()}
                peer = self.client_address[1]
                receiver.seen.append(Seen("POST", self.path, headers, body, peer))
                reply = receiver.replies.get(self.path, receiver.reply)
                if reply.hang:
                    receiver._release.wait(30)
                    return
                answer(self, reply.status, reply.headers, reply.body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        self.scheme = "https" if tls else "http"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def close(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()


@dataclass
class Mail:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    encrypted: bool


class SmtpHandler:
    def __init__(self) -> None:
        self.mails: list[Mail] = []
        self.logins: list[tuple[str, str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        encrypted = server.transport.get_extra_info("ssl_object") is not None
        self.mails.append(
            Mail(envelope.mail_from, list(envelope.rcpt_tos), envelope.content, encrypted)
        )
        return "250 2.0.0 Ok: queued as TESTQUEUE1"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        pair = (auth_data.login.decode(), auth_data.password.decode())
        self.logins.append(pair)
        # handled=False: the server itself answers 535 to a wrong password.
        return AuthResult(success=pair == ("oncall", "s3cret"), handled=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def smtp_server(
    *,
    starttls: ssl.SSLContext | None = None,
    implicit: ssl.SSLContext | None = None,
    auth: bool = False,
    auth_without_tls: bool = False,
) -> Iterator[tuple[SmtpHandler, int]]:
    handler = SmtpHandler()
    port = free_port()
    kwargs: dict[str, Any] = {"hostname": "127.0.0.1", "port": port}
    if starttls is not None:
        kwargs["tls_context"] = starttls
    if implicit is not None:
        kwargs["ssl_context"] = implicit
    if auth:
        kwargs["authenticator"] = handler.authenticate
        kwargs["auth_require_tls"] = not auth_without_tls
    controller = Controller(handler, **kwargs)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@dataclass
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context


def make_certificate(directory: Path, name: str) -> Certificate:
    """A self-signed certificate for `name` (and 127.0.0.1), which doubles as its own CA."""
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec",
            "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name},IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return Certificate(cert, key)
