"""Outbound HTTP that only reaches public addresses (or allow-listed networks), checked at connect.

The host is resolved here, every address it resolves to is vetted, and the socket connects to a
vetted address; TLS still verifies the certificate for the host name (SNI), and the Host header
is unchanged. Checking the URL alone would miss DNS answers that point inside the network.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Final

import httpcore
import httpx

from watchkeeper.notify.settings import OutboundSettings

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
        raise httpcore.ConnectTimeout(f"resolving {host} took longer than {timeout}s")
    result = answer[0]
    if isinstance(result, OSError):
        raise httpcore.ConnectError(f"cannot resolve {host}: {result}")
    return result


class VettedBackend(httpcore.NetworkBackend):
    """Connects only to addresses the policy accepts; refuses a host if any address is bad."""

    def __init__(self, policy: AddressPolicy) -> None:
        self._policy = policy
        self._sockets = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        deadline = None if timeout is None else time.monotonic() + timeout
        addresses = resolve(host, port, timeout)
        # All of them, not only the first: a name that also points inside is refused outright,
        # so a rebinding resolver cannot pick the address later.
        for ip in addresses:
            reason = self._policy.refusal(ip)
            if reason is not None:
                raise OutboundRefused(
                    f"refused to connect to {host} ({ip}, {reason}): not covered by outbound.allow"
                )
        last: Exception | None = None
        for ip in addresses:
            left = None if deadline is None else max(deadline - time.monotonic(), 0.001)
            try:
                return self._sockets.connect_tcp(str(ip), port, left, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None  # resolve() never returns an empty list without raising
        raise last

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise OutboundRefused("unix sockets are not an outbound destination")


_EXCEPTIONS: Final[tuple[tuple[type[Exception], type[httpx.TransportError]], ...]] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


@contextlib.contextmanager
def _httpx_errors() -> Iterator[None]:
    """httpcore's errors as httpx's, so callers handle one family (OutboundRefused passes)."""
    try:
        yield
    except Exception as exc:
        for source, target in _EXCEPTIONS:
            if isinstance(exc, source):
                raise target(str(exc)) from exc
        raise


class _ResponseStream(httpx.SyncByteStream):
    def __init__(self, stream: Iterable[bytes]) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        with _httpx_errors():
            yield from self._stream

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


class VettedTransport(httpx.BaseTransport):
    """An httpx transport over a connection pool that uses VettedBackend."""

    def __init__(self, policy: AddressPolicy, ssl_context: ssl.SSLContext) -> None:
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            network_backend=VettedBackend(policy),
            retries=0,  # retries belong to the engine
            # no cap: a receiver that hangs must not keep other deliveries waiting for a slot
            max_connections=None,
            max_keepalive_connections=32,
            keepalive_expiry=30.0,
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _httpx_errors():
            response = self._pool.handle_request(core)
        assert isinstance(response.stream, Iterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseStream(response.stream),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._pool.close()


class Outbound:
    """Everything a delivery needs to make a safe request: policy, TLS trust and timeouts."""

    def __init__(self, settings: OutboundSettings) -> None:
        self.policy = AddressPolicy(settings.allow)
        t = settings.timeouts
        self.timeout = httpx.Timeout(connect=t.connect, read=t.read, write=t.write, pool=t.pool)
        if settings.ca_file:
            self._ssl = ssl.create_default_context(cafile=settings.ca_file)
        else:
            self._ssl = httpx.create_ssl_context()

        # One client, shared by the sender threads (httpx clients are thread-safe): its pool
        # keeps connections alive between deliveries, so a page to a receiver paged a moment
        # ago skips the connect and TLS handshake. Every connection was vetted when it was
        # opened; a changed allow-list builds a new Outbound, hence a new pool.
        self._client = httpx.Client(
            transport=VettedTransport(self.policy, self._ssl),
            timeout=self.timeout,
            follow_redirects=False,
            trust_env=False,
        )

    @contextlib.contextmanager
    def client(self) -> Iterator[httpx.Client]:
        """The client: no redirects, no proxies from the environment (a proxy would connect
        on our behalf, past the address check). Leaving the block keeps it open."""
        yield self._client

    def close(self) -> None:
        self._client.close()
