"""SMS and voice through an HTTP gateway running on 127.0.0.1."""

from __future__ import annotations

from notify_receivers import HttpReceiver
from notify_samples import bundle, loopback_settings, single

from watchkeeper.clock import FakeClock
from watchkeeper.notify import Contact, Registry
from watchkeeper.notify.settings import GatewaySettings, NotifySettings

PHONE = "+44 7700 900123"


def with_gateways(receiver: HttpReceiver) -> NotifySettings:
    base = loopback_settings()
    return NotifySettings(
        outbound=base.outbound,
        sms=GatewaySettings(url=receiver.url("/sms"), token="Bearer gw-token", sender="+15550100"),
        voice=GatewaySettings(url=receiver.url("/call"), auth_header="X-Api-Key", token="k-1"),
    )


def test_an_sms_reaches_the_gateway_with_its_token(
    receiver: HttpReceiver, clock: FakeClock
) -> None:
    contact = Contact(id="p", type="sms", address=PHONE)
    result = (
        Registry(with_gateways(receiver), clock).notifier_for("sms").send(contact, single("d-5"))
    )
    assert result.ok
    [seen] = receiver.seen
    assert seen.path == "/sms"
    assert seen.headers["authorization"] == "Bearer gw-token"
    assert seen.headers["x-watchkeeper-delivery"] == "d-5"
    body = seen.json()
    assert (body["to"], body["from"], body["delivery_id"], body["ticket_ids"]) == (
        PHONE,
        "+15550100",
        "d-5",
        ["T-1"],
    )
    assert body["body"].startswith("[CRITICAL] checkout: Checkout error rate above 5% (1) (#T-1")
    assert "Ack: https://oncall.example.com/a/ack-token-1" in body["body"]


def test_a_voice_call_carries_speakable_text(receiver: HttpReceiver, clock: FakeClock) -> None:
    contact = Contact(id="p", type="voice", address=PHONE)
    result = Registry(with_gateways(receiver), clock).notifier_for("voice").send(contact, bundle())
    assert result.ok
    [seen] = receiver.seen
    assert seen.path == "/call" and seen.headers["x-api-key"] == "k-1"
    body = seen.json()
    assert body["to"] == PHONE and body["ticket_ids"] == ["T-1", "T-2", "T-3", "T-4"]
    assert "You have 4 tickets" in body["message"] and "http" not in body["message"]


def test_without_a_gateway_or_a_number_nothing_is_sent(
    receiver: HttpReceiver, clock: FakeClock
) -> None:
    unconfigured = Registry(loopback_settings(), clock).notifier_for("sms")
    result = unconfigured.send(Contact(id="p", type="sms", address=PHONE), single())
    assert (result.ok, result.retryable, result.error) == (
        False,
        False,
        "no gateway configured (sms.url)",
    )
    bad = Registry(with_gateways(receiver), clock).notifier_for("sms")
    result = bad.send(Contact(id="p", type="sms", address="call me maybe"), single())
    assert not result.ok and not result.retryable and "not a phone number" in (result.error or "")
    assert receiver.seen == []
