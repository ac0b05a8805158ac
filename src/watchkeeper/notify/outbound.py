"""Outbound HTTP that only reaches public addresses (or allow-listed networks), checked at connect.

The host is resolved here, every address it resolves to is vetted, and the socket connects to a
vetted address; TLS still verifies the certificate for the host name (SNI), and the Host header
is unchanged. Checking the URL alone would miss DNS answers that point inside the network.

Requests are written by hand and answers parsed by `http.client`, over a small keep-alive pool:
deliveries are on the path from an alert to the first page, so the request path stays lean.
Nothing here reads proxies from the environment, follows redirects or opens unix sockets.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import os
import re
import select
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Final
from urllib.parse import SplitResult, quote

from watchkeeper.notify.settings import OutboundSettings, Timeouts

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

METADATA_ADDRESSES: Final[frozenset[IPAddress]] = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack
        ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    }
)
_UNIQUE_LOCAL: Final = ipaddress.ip_network("fc00::/7")
_NAT64: Final = ipaddress.ip_network("64:ff9b::/96")


class OutboundRefused(Exception):
    """The destination is not allowed; retrying cannot help."""


class RequestInvalid(Exception):
    """The request cannot be written (a bad port, host name or header); retrying cannot help."""


class OutboundError(Exception):
    """The request did not go through; a later attempt may."""


class ConnectFailed(OutboundError):
    """No connection: the name did not resolve, every address failed, or the TLS handshake did."""


class ExchangeFailed(OutboundError):
    """The connection broke after connecting, or the answer was not HTTP."""


CONNECTING: Final = "connecting"
SENDING: Final = "sending"
WAITING: Final = "waiting for the answer"


class OutboundTimeout(OutboundError):
    """A phase (CONNECTING, SENDING or WAITING) took longer than its timeout."""

    def __init__(self, phase: str) -> None:
        super().__init__(f"{phase} timed out")
        self.phase = phase


class AddressPolicy:
    """Public addresses pass; others only inside an allow-listed network."""

    def __init__(self, allow: Iterable[str] = ()) -> None:
        self.allow: tuple[IPNetwork, ...] = tuple(
            ipaddress.ip_network(network, strict=False) for network in allow
        )

    def refusal(self, ip: IPAddress) -> str | None:
        """Why `ip` may not be reached, or None when it may."""
        embedded = _embedded_ipv4(ip)
        if any(ip in net or (embedded is not None and embedded in net) for net in self.allow):
            return None
        return _not_public(ip)


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, NAT64), which is where it leads."""
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _not_public(ip: IPAddress) -> str | None:
    embedded = _embedded_ipv4(ip)
    if embedded is not None and (reason := _not_public(embedded)):
        return f"{reason} (embedded in {ip})"
    checks: tuple[tuple[bool, str], ...] = (
        (ip in METADATA_ADDRESSES, "cloud metadata"),
        (ip.is_unspecified, "unspecified"),
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip.is_multicast, "multicast"),
        (isinstance(ip, ipaddress.IPv6Address) and ip in _UNIQUE_LOCAL, "unique-local"),
        (ip.is_private, "private"),
        (not ip.is_global, "not public"),
    )
    return next((reason for hit, reason in checks if hit), None)


def resolve(host: str, port: int, timeout: float | None) -> list[IPAddress]:
    """Every address `host` resolves to, within `timeout` (getaddrinfo itself has none)."""
    with contextlib.suppress(ValueError):
        return [ipaddress.ip_address(host)]
    answer: list[list[IPAddress] | OSError] = []

    def lookup() -> None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            answer.append(list(dict.fromkeys(ipaddress.ip_address(i[4][0]) for i in infos)))
        except OSError as exc:
            answer.append(exc)

    # A daemon thread, so a resolver that hangs past the timeout never blocks shutdown.
    worker = threading.Thread(target=lookup, name=f"resolve {host}", daemon=True)
    worker.start()
    worker.join(timeout)
    if not answer:
        raise OutboundTimeout(CONNECTING)
    result = answer[0]
    if isinstance(result, OSError):
        raise ConnectFailed(f"cannot resolve {host}: {result}") from result
    return result


def connect_vetted(
    policy: AddressPolicy, host: str, port: int, timeout: float | None
) -> socket.socket:
    """A TCP connection to a vetted address of `host`; refuses the host if any address is bad.

    Resolving and trying the addresses in order share `timeout`.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    addresses = resolve(host, port, timeout)
    # All of them, not only the first: a name that also points inside is refused outright,
    # so a rebinding resolver cannot pick the address later.
    for ip in addresses:
        reason = policy.refusal(ip)
        if reason is not None:
            raise OutboundRefused(
                f"refused to connect to {host} ({ip}, {reason}): not covered by outbound.allow"
            )
    last: OSError | None = None
    for ip in addresses:
        left = None if deadline is None else max(deadline - time.monotonic(), 0.001)
        try:
            # An IP address, never the name: the connection goes where the check looked.
            sock = socket.create_connection((str(ip), port), timeout=left)
        except OSError as exc:
            last = exc
            continue
        # The request goes out in one write; nothing should wait for an ACK to leave.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    assert last is not None  # resolve() never returns an empty list without raising
    if isinstance(last, TimeoutError):
        raise OutboundTimeout(CONNECTING) from last
    raise ConnectFailed(str(last)) from last


def default_trust() -> ssl.SSLContext:
    """The trust outbound HTTPS has always had: SSL_CERT_FILE or SSL_CERT_DIR when set, else
    certifi's bundle (the system store where certifi is not installed)."""
    if cafile := os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=cafile)
    if capath := os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=capath)
    try:
        import certifi
    except ImportError:  # pragma: no cover - certifi comes with the HTTP client the CLI uses
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


KEEP_IDLE: Final = 32  # idle connections kept, over all receivers
IDLE_SECONDS: Final = 30.0  # how long one is kept idle
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
# A reg-name, an IPv4 address or an IPv6 one (brackets removed): nothing that could end a line.
_HOST: Final = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=%:-]+")
_TOKEN: Final = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_NOT_IN_VALUE: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# What a request target keeps as it is (the rest is percent-encoded, as browsers do).
_TARGET_SAFE: Final = "!#$%&'()*+,/:;=?@[\\]^|~"
# How a kept-alive connection the peer closed while it was idle shows up.
_PEER_GONE: Final = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, ssl.SSLEOFError)

# Scheme, host, port, and the networks the policy that vetted the connection allowed.
PoolKey = tuple[str, str, int, tuple[IPNetwork, ...]]


class _Stale(Exception):
    """A reused connection turned out closed before any byte of the answer came back."""


class _Connection:
    __slots__ = ("idle_since", "key", "reused", "sock")

    def __init__(self, sock: socket.socket, key: PoolKey) -> None:
        self.sock = sock
        self.key = key
        self.idle_since = 0.0
        self.reused = False

    def usable(self) -> bool:
        """Nothing to read on an idle connection: data or EOF there means the peer closed it
        (or broke the protocol), and a request sent on it would be lost."""
        if isinstance(self.sock, ssl.SSLSocket) and self.sock.pending():
            return False
        try:
            if hasattr(select, "poll"):
                poller = select.poll()
                poller.register(self.sock, select.POLLIN)
                return not poller.poll(0)
            return not select.select([self.sock], [], [], 0)[0]
        except (OSError, ValueError):
            return False

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


class _Pool:
    """Idle kept-alive connections, shared by the sender threads.

    Only idle connections are held here, at most KEEP_IDLE and each for IDLE_SECONDS; there is
    no cap on connections in use, so a receiver that hangs keeps no other delivery waiting.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[_Connection] = []  # oldest first
        self._closed = False

    def take(self, key: PoolKey) -> _Connection | None:
        """The most recently used idle connection for `key` that is still open, if any."""
        while True:
            with self._lock:
                stale = self._expire(time.monotonic())
                found = None
                for index in range(len(self._idle) - 1, -1, -1):
                    if self._idle[index].key == key:
                        found = self._idle.pop(index)
                        break
            for conn in stale:
                conn.close()
            if found is None:
                return None
            if found.usable():
                found.reused = True
                return found
            found.close()

    def give(self, conn: _Connection) -> None:
        now = time.monotonic()
        conn.idle_since = now
        with self._lock:
            if self._closed:
                stale = [conn]
            else:
                self._idle.append(conn)
                stale = self._expire(now)
                while len(self._idle) > KEEP_IDLE:
                    stale.append(self._idle.pop(0))
        for old in stale:
            old.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def _expire(self, now: float) -> list[_Connection]:
        expired = 0
        while expired < len(self._idle) and now - self._idle[expired].idle_since > IDLE_SECONDS:
            expired += 1
        gone, self._idle[:expired] = self._idle[:expired], []
        return gone


class Answer:
    """The status and headers of an answer, and its body in pieces."""

    def __init__(
        self, response: http.client.HTTPResponse, sock: socket.socket, read: float
    ) -> None:
        self.status = response.status
        self.reason = response.reason
        self.headers = response.headers
        self._response = response
        self._sock = sock
        self._read_timeout = read
        self._broken = False

    def read1(self, limit: int, deadline: float) -> bytes:
        """Up to `limit` bytes of the body as they arrive; b"" at its end, at `deadline` (a
        time.monotonic() value) or when the connection fails."""
        left = deadline - time.monotonic()
        if self._broken or left <= 0:
            return b""
        try:
            self._sock.settimeout(min(self._read_timeout, left))
            return self._response.read1(limit)
        except (OSError, ValueError, http.client.HTTPException):
            self._broken = True
            return b""

    @property
    def complete(self) -> bool:
        """The whole body was read, so the connection is ready for another request."""
        response = self._response
        return not self._broken and (response.isclosed() or response.length == 0)

    @property
    def keeps_alive(self) -> bool:
        return self.complete and not self._response.will_close


class Outbound:
    """Everything a delivery needs to make a safe request: policy, TLS trust, timeouts, and the
    connections kept alive between deliveries.

    One Outbound is shared by the sender threads: a page to a receiver paged a moment ago skips
    the connect and TLS handshake. Every pooled connection was vetted by this Outbound's policy
    when it was opened; a changed allow-list builds a new Outbound, hence a new pool.
    """

    def __init__(self, settings: OutboundSettings) -> None:
        self.policy = AddressPolicy(settings.allow)
        self.timeouts: Timeouts = settings.timeouts
        if settings.ca_file:
            self._ssl = ssl.create_default_context(cafile=settings.ca_file)
        else:
            self._ssl = default_trust()
        self._ssl.set_alpn_protocols(["http/1.1"])
        self._pool = _Pool()

    @contextlib.contextmanager
    def post(
        self, url: SplitResult, headers: Sequence[tuple[str, str]], body: bytes
    ) -> Iterator[Answer]:
        """POST `body` to `url` (http or https, with a host) with `headers` after Host, and
        yield the answer once its status and headers are in; leaving the block returns the
        connection to the pool when the body was read to its end, and closes it otherwise.

        Raises OutboundRefused, RequestInvalid, OutboundTimeout, ConnectFailed, ExchangeFailed.
        """
        host, port, request = _request(url, headers, body)
        policy = self.policy
        key = (url.scheme, host, port, policy.allow)
        response: http.client.HTTPResponse | None = None
        conn = self._pool.take(key)
        if conn is not None:
            try:
                response = self._exchange(conn, request)
            except _Stale:
                # A kept-alive connection the receiver closed meanwhile, and no answer came: the
                # request goes once more, on a new one (receivers de-duplicate by delivery id).
                conn = None
        if conn is None:
            conn = self._open(key, policy)
            response = self._exchange(conn, request)
        assert response is not None
        answer = Answer(response, conn.sock, self.timeouts.read)
        try:
            yield answer
        finally:
            keep = answer.keeps_alive  # before closing the response, which marks it read
            response.close()
            if keep:
                self._pool.give(conn)
            else:
                conn.close()

    def close(self) -> None:
        """Close the idle connections; those in use close when their answer is done."""
        self._pool.close()

    def _open(self, key: PoolKey, policy: AddressPolicy) -> _Connection:
        scheme, host, port, _ = key
        sock = connect_vetted(policy, host, port, self.timeouts.connect)
        if scheme == "https":
            try:
                sock.settimeout(self.timeouts.connect)
                # The certificate is checked for the name, on the address that was vetted.
                sock = self._ssl.wrap_socket(sock, server_hostname=host)
            except TimeoutError as exc:
                sock.close()
                raise OutboundTimeout(CONNECTING) from exc
            except (OSError, ValueError) as exc:
                sock.close()
                raise ConnectFailed(str(exc)) from exc
        return _Connection(sock, key)

    def _exchange(self, conn: _Connection, request: bytes) -> http.client.HTTPResponse:
        """Send `request` and read the status line and headers; closes `conn` on failure."""
        sock = conn.sock
        response = None
        try:
            try:
                sock.settimeout(self.timeouts.write)
                sock.sendall(request)
            except TimeoutError as exc:
                raise OutboundTimeout(SENDING) from exc
            response = http.client.HTTPResponse(sock, method="POST")
            if _QUICKACK is not None:
                # Acknowledge the answer's first segment at once: a receiver that writes its
                # headers and body apart (Nagle on) otherwise waits ~40 ms for our delayed ACK
                # before the body, and this sender thread with it (Linux; reset after reads).
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
            try:
                sock.settimeout(self.timeouts.read)
                response.begin()
            except TimeoutError as exc:
                raise OutboundTimeout(WAITING) from exc
        except _PEER_GONE as exc:
            # http.client.RemoteDisconnected is a ConnectionResetError: no byte came back.
            _discard(conn, response)
            if conn.reused:
                raise _Stale from exc
            raise ExchangeFailed(str(exc)) from exc
        except (OSError, http.client.HTTPException) as exc:
            _discard(conn, response)
            raise ExchangeFailed(str(exc) or type(exc).__name__) from exc
        except BaseException:
            _discard(conn, response)
            raise
        return response


_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)


def _discard(conn: _Connection, response: http.client.HTTPResponse | None) -> None:
    if response is not None:
        response.close()
    conn.close()


def _request(
    url: SplitResult, headers: Sequence[tuple[str, str]], body: bytes
) -> tuple[str, int, bytes]:
    """The host to connect to (IDNA-encoded), the port and the request as it goes out."""
    assert url.hostname is not None
    try:
        port = _DEFAULT_PORTS[url.scheme] if url.port is None else url.port
        host = url.hostname if url.hostname.isascii() else url.hostname.encode("idna").decode()
    except ValueError as exc:  # a port out of range, a name IDNA cannot encode
        raise RequestInvalid(str(exc)) from exc
    if not _HOST.fullmatch(host):
        raise RequestInvalid(f"{host!r} is not a host name")
    authority = f"[{host}]" if ":" in host else host
    if port != _DEFAULT_PORTS[url.scheme]:
        authority = f"{authority}:{port}"
    target = quote(url.path or "/", safe=_TARGET_SAFE)
    if url.query:
        target += "?" + quote(url.query, safe=_TARGET_SAFE)
    lines = [f"POST {target} HTTP/1.1", f"Host: {authority}"]
    for name, value in headers:
        if not _TOKEN.fullmatch(name):
            raise RequestInvalid(f"{name!r} is not a header name")
        if _NOT_IN_VALUE.search(value):
            raise RequestInvalid(f"the value of header {name} has control characters")
        lines.append(f"{name}: {value}")
    lines.append(f"Content-Length: {len(body)}")
    try:
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    except UnicodeEncodeError as exc:
        raise RequestInvalid(f"a header is not Latin-1: {exc.reason}") from exc
    return host, port, head + body
