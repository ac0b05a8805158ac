"""Kept-alive connections to real receivers on 127.0.0.1: closed by the receiver while idle,
`Connection: close`, a body that stalls, and many sender threads at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from typing import Any

import pytest
from notify_receivers import HttpReceiver, Reply
from notify_samples import loopback_settings, single
from tests.support.receivers import QuietHandler, answer, read_body

from watchkeeper.clock import FakeClock
from watchkeeper.notify import Contact, DeliveryResult, Registry
from watchkeeper.notify.post import EXCERPT_SECONDS

REQUEST_TIMEOUT = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"


class Receiver:
    """An HTTP/1.1 receiver that records (delivery id, sender's port) for every request it
    answers, and behaves as `behaviour` says:

    ok: answers 200 and keeps the connection open.
    close-when-idle: answers 200, then closes the connection (a keep-alive timeout of zero).
    408-when-idle: the same, but says `408 Request Timeout` first, as some servers do.
    drop-reused: answers a connection's first request; a later one on it is dropped unanswered
        (the keep-alive timeout firing as the request came in).
    connection-close: answers 200 with `Connection: close`, but closes only `linger` s later.
    stall: sends the status, headers and `partial` of a 1000-byte body, then nothing.
    """

    def __init__(self, behaviour: str, linger: float = 0.0) -> None:
        self.behaviour = behaviour
        self.linger = linger
        self.arrived: list[tuple[str, int]] = []
        self.closed = threading.Semaphore(0)  # released each time a connection is closed
        self._release = threading.Event()
        receiver = self

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.1"
            answered = 0  # on this connection: one handler serves one connection

            def do_POST(self) -> None:
                if receiver.behaviour == "drop-reused" and self.answered:
                    self.close_connection = True
                    return
                if read_body(self) is None:
                    return
                peer = self.client_address[1]
                receiver.arrived.append((self.headers["x-watchkeeper-delivery"], peer))
                self.answered += 1
                if receiver.behaviour == "stall":
                    self.send_response(200)
                    self.send_header("Content-Length", "1000")
                    self.end_headers()
                    self.wfile.write(b"partial")
                    receiver._release.wait(30)
                    self.close_connection = True
                    return
                closing = receiver.behaviour == "connection-close"
                answer(self, 200, {"Connection": "close"} if closing else {}, b"ok")
                if closing:
                    receiver._release.wait(receiver.linger)
                if receiver.behaviour == "408-when-idle":
                    time.sleep(0.1)  # the sender has read the answer by now
                    self.wfile.write(REQUEST_TIMEOUT)
                if receiver.behaviour in ("close-when-idle", "408-when-idle"):
                    self.close_connection = True

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def shutdown_request(self, request: Any) -> None:
                super().shutdown_request(request)
                receiver.closed.release()

        self._server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def ids(self) -> list[str]:
        return [delivery for delivery, _ in self.arrived]

    def peers(self) -> list[int]:
        return [peer for _, peer in self.arrived]

    def close(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receivers() -> Iterator[list[Receiver]]:
    made: list[Receiver] = []
    yield made
    for receiver in made:
        receiver.close()


def deliver(registry: Registry, url: str, delivery_id: str) -> DeliveryResult:
    contact = Contact(id="c", type="webhook", address=url)
    return registry.notifier_for("webhook").send(contact, single(delivery_id))


def assert_each_delivered_once_on_a_new_connection(registry: Registry, receiver: Receiver) -> None:
    deliveries = ["d-1", "d-2", "d-3"]
    for delivery in deliveries:
        result = deliver(registry, receiver.url, delivery)
        assert (result.ok, result.error) == (True, None)
    assert receiver.ids() == deliveries
    assert len(set(receiver.peers())) == len(deliveries)


@pytest.mark.parametrize("behaviour", ["close-when-idle", "408-when-idle"])
def test_a_connection_the_receiver_closed_while_idle_does_not_fail_the_next_delivery(
    behaviour: str, receivers: list[Receiver], clock: FakeClock
) -> None:
    receiver = Receiver(behaviour)
    receivers.append(receiver)
    registry = Registry(loopback_settings(), clock)
    assert deliver(registry, receiver.url, "d-1").ok
    assert receiver.closed.acquire(timeout=5)  # the kept-alive connection is gone
    second = deliver(registry, receiver.url, "d-2")
    assert (second.ok, second.error) == (True, None)
    assert receiver.ids() == ["d-1", "d-2"]  # once each
    assert len(set(receiver.peers())) == 2


def test_a_connection_dropped_as_the_next_request_comes_is_retried_once_on_a_new_one(
    receivers: list[Receiver], clock: FakeClock
) -> None:
    receiver = Receiver("drop-reused")
    receivers.append(receiver)
    assert_each_delivered_once_on_a_new_connection(Registry(loopback_settings(), clock), receiver)


def test_a_receiver_answering_connection_close_gets_each_delivery_on_a_new_connection(
    receivers: list[Receiver], clock: FakeClock
) -> None:
    # It closes its end late: a connection kept despite `Connection: close` would hang.
    receiver = Receiver("connection-close", linger=3.0)
    receivers.append(receiver)
    registry = Registry(loopback_settings(read=0.5), clock)
    assert_each_delivered_once_on_a_new_connection(registry, receiver)


def test_a_body_that_stalls_keeps_what_came_and_stops_waiting_in_time(
    receivers: list[Receiver], clock: FakeClock
) -> None:
    stalling = Receiver("stall")
    receivers.append(stalling)
    # The read timeout is longer than the excerpt's limit: the limit is what ends the wait.
    registry = Registry(loopback_settings(read=EXCERPT_SECONDS + 3), clock)
    started = time.monotonic()
    result = deliver(registry, stalling.url, "d-1")
    elapsed = time.monotonic() - started
    assert (result.ok, result.status_code, result.response_excerpt) == (True, 200, "partial")
    assert elapsed < EXCERPT_SECONDS + 1.5
    # The connection with the rest of that body still due is not used again.
    stalling.behaviour = "ok"
    again = deliver(registry, stalling.url, "d-2")
    assert (again.ok, again.response_excerpt) == (True, "ok")
    assert stalling.ids() == ["d-1", "d-2"]
    assert len(set(stalling.peers())) == 2


def test_concurrent_deliveries_from_several_threads_all_arrive_and_are_classified(
    clock: FakeClock,
) -> None:
    receiver = HttpReceiver(keep_alive=True)
    receiver.replies = {
        "/busy": Reply(503, {"Retry-After": "7"}, b"busy"),
        "/gone": Reply(404, body=b"no such hook"),
        "/moved": Reply(301, {"Location": "https://elsewhere.example/"}, b""),
    }
    expected = {
        "/ok": (True, False, 200, "ok"),
        "/busy": (False, True, 503, "busy"),
        "/gone": (False, False, 404, "no such hook"),
        "/moved": (False, False, 301, ""),
    }
    paths = list(expected)
    threads, each = 6, 12
    registry = Registry(loopback_settings(), clock)
    start = threading.Barrier(threads)
    wrong: list[str] = []

    def sender(number: int) -> None:
        start.wait()
        for index in range(each):
            path = paths[(number + index) % len(paths)]
            result = deliver(registry, receiver.url(path), f"d-{number}-{index}")
            got = (result.ok, result.retryable, result.status_code, result.response_excerpt)
            if got != expected[path] or (path == "/busy" and result.retry_after_seconds != 7):
                wrong.append(f"d-{number}-{index} to {path}: {result}")

    workers = [threading.Thread(target=sender, args=(n,)) for n in range(threads)]
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(30)
    finally:
        receiver.close()
    assert wrong == []
    arrived = sorted(s.headers["x-watchkeeper-delivery"] for s in receiver.seen)
    assert arrived == sorted(f"d-{n}-{i}" for n in range(threads) for i in range(each))
    # Connections are reused: never more open than deliveries in flight at once.
    assert len({s.peer for s in receiver.seen}) <= threads
