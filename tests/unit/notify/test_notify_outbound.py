"""Outbound safety: internal addresses refused unless allow-listed, no redirects, timeouts, TLS."""

from __future__ import annotations

import ipaddress
import time

import pytest
from notify_receivers import Certificate, HttpReceiver, Reply
from notify_samples import loopback_settings, single

from watchkeeper.clock import FakeClock
from watchkeeper.notify import Contact, Registry
from watchkeeper.notify.outbound import AddressPolicy
from watchkeeper.notify.settings import NotifySettings, OutboundSettings, Timeouts


def send(settings: NotifySettings, clock: FakeClock, url: str) -> tuple[bool, bool, str]:
    contact = Contact(id="c", type="webhook", address=url)
    result = Registry(settings, clock).notifier_for("webhook").send(contact, single())
    return result.ok, result.retryable, result.error or ""


REFUSED = [
    ("127.0.0.1", "loopback"),
    ("::1", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "cloud metadata"),
    ("fd00:ec2::254", "cloud metadata"),
    ("169.254.10.10", "link-local"),
    ("fe80::1", "link-local"),
    ("fd12:3456::1", "unique-local"),
    ("224.0.0.1", "multicast"),
    ("ff02::1", "multicast"),
    ("0.0.0.0", "unspecified"),
    ("::", "unspecified"),
    ("100.64.0.1", "not public"),
    ("::ffff:127.0.0.1", "loopback (embedded in ::ffff:7f00:1)"),
    ("2002:a00:1::1", "private (embedded in 2002:a00:1::1)"),
    ("64:ff9b::a9fe:a9fe", "cloud metadata (embedded in 64:ff9b::a9fe:a9fe)"),
]


@pytest.mark.parametrize(("address", "reason"), REFUSED, ids=[a for a, _ in REFUSED])
def test_internal_addresses_are_refused(address: str, reason: str) -> None:
    assert AddressPolicy().refusal(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700:4700::1111", "8.8.8.8"])
def test_public_addresses_pass(address: str) -> None:
    assert AddressPolicy().refusal(ipaddress.ip_address(address)) is None


def test_the_allow_list_opens_only_its_networks() -> None:
    policy = AddressPolicy(["10.20.0.0/16", "127.0.0.0/8"])
    assert policy.refusal(ipaddress.ip_address("10.20.3.4")) is None
    assert policy.refusal(ipaddress.ip_address("::ffff:127.0.0.1")) is None
    assert policy.refusal(ipaddress.ip_address("10.21.0.1")) == "private"
    assert policy.refusal(ipaddress.ip_address("169.254.169.254")) == "cloud metadata"


def test_a_loopback_receiver_is_refused_without_the_allow_list(
    receiver: HttpReceiver, clock: FakeClock
) -> None:
    ok, retryable, error = send(loopback_settings(allow=()), clock, receiver.url())
    assert (ok, retryable) == (False, False)
    assert error == (
        "refused to connect to 127.0.0.1 (127.0.0.1, loopback): not covered by outbound.allow"
    )
    assert receiver.seen == []


def test_a_loopback_receiver_is_reached_when_allowed(
    receiver: HttpReceiver, clock: FakeClock
) -> None:
    assert send(loopback_settings(allow=("127.0.0.0/8",)), clock, receiver.url())[0]
    assert len(receiver.seen) == 1


def test_deliveries_to_one_receiver_reuse_a_kept_alive_connection(clock: FakeClock) -> None:
    receiver = HttpReceiver(keep_alive=True)
    try:
        webhook = Registry(loopback_settings(), clock).notifier_for("webhook")
        contact = Contact(id="c", type="webhook", address=receiver.url())
        for delivery in ("d-1", "d-2", "d-3"):
            assert webhook.send(contact, single(delivery)).ok
        assert [s.headers["x-watchkeeper-delivery"] for s in receiver.seen] == ["d-1", "d-2", "d-3"]
        assert len({s.peer for s in receiver.seen}) == 1  # one connection, no new handshakes
        # a changed allow-list is a new registry: its connections are vetted anew
        other = Registry(loopback_settings(allow=("127.0.0.1/32",)), clock)
        assert other.notifier_for("webhook").send(contact, single("d-4")).ok
        assert receiver.seen[-1].peer != receiver.seen[0].peer
    finally:
        receiver.close()


def test_a_name_that_resolves_inside_is_refused_unless_allowed(
    receiver: HttpReceiver, clock: FakeClock
) -> None:
    url = receiver.url(host="localhost")
    ok, retryable, error = send(loopback_settings(allow=()), clock, url)
    assert not ok and not retryable
    assert error.startswith("refused to connect to localhost (") and "loopback" in error
    assert receiver.seen == []
    # Only the IPv4 loopback is allowed: a "localhost" that also resolves to ::1 stays refused.
    allowed = loopback_settings(allow=("127.0.0.0/8", "::1/128"))
    assert send(allowed, clock, url)[0]
    assert receiver.seen[0].headers["host"] == f"localhost:{receiver.port}"


def test_redirects_are_not_followed(receiver: HttpReceiver, clock: FakeClock) -> None:
    receiver.reply = Reply(302, {"Location": receiver.url("/elsewhere")})
    ok, retryable, error = send(loopback_settings(), clock, receiver.url("/hook"))
    assert (ok, retryable) == (False, False)
    assert error == (
        f"receiver answered 302 Found, a redirect to {receiver.url('/elsewhere')}; "
        "redirects are not followed"
    )
    assert [s.path for s in receiver.seen] == ["/hook"]


def test_a_receiver_that_never_answers_times_out_in_time(
    receiver: HttpReceiver, clock: FakeClock
) -> None:
    receiver.reply = Reply(hang=True)
    started = time.monotonic()
    ok, retryable, error = send(loopback_settings(read=0.5), clock, receiver.url())
    elapsed = time.monotonic() - started
    assert (ok, retryable) == (False, True)
    assert error == "waiting for the answer timed out for 127.0.0.1"
    assert 0.4 < elapsed < 2.0


def test_a_closed_port_is_a_retryable_connection_error(clock: FakeClock) -> None:
    receiver = HttpReceiver()
    url = receiver.url()
    receiver.close()
    ok, retryable, error = send(loopback_settings(), clock, url)
    assert (ok, retryable) == (False, True)
    assert error.startswith("could not connect to 127.0.0.1")


def test_only_http_urls_are_posted(clock: FakeClock) -> None:
    for url in ("file:///etc/passwd", "gopher://127.0.0.1/", "not a url"):
        ok, retryable, error = send(loopback_settings(), clock, url)
        assert (ok, retryable) == (False, False) and error.startswith("not an http(s) URL")


def https_settings(cert: Certificate) -> NotifySettings:
    timeouts = Timeouts(connect=2, read=2, write=2, pool=1)
    return NotifySettings(
        outbound=OutboundSettings(
            allow=("127.0.0.0/8", "::1/128"), timeouts=timeouts, ca_file=str(cert.cert)
        )
    )


def test_tls_is_verified_for_the_host_name_while_connecting_to_the_vetted_address(
    certs: dict[str, Certificate], clock: FakeClock
) -> None:
    server = HttpReceiver(tls=certs["localhost"].server_context())
    try:
        assert send(https_settings(certs["localhost"]), clock, server.url(host="localhost"))[0]
        assert server.seen[0].headers["host"] == f"localhost:{server.port}"
        # A certificate for another name is refused, and refusing is final.
        other = HttpReceiver(tls=certs["elsewhere.test"].server_context())
        try:
            ok, retryable, error = send(
                https_settings(certs["elsewhere.test"]), clock, other.url(host="localhost")
            )
        finally:
            other.close()
        assert (ok, retryable) == (False, False)
        assert error.startswith("TLS certificate of localhost not accepted")
        assert other.seen == []
    finally:
        server.close()
