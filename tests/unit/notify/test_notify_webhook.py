"""Webhooks delivered to a real receiver on 127.0.0.1: content, delivery id, signature."""

from __future__ import annotations

from datetime import timedelta

from notify_receivers import HttpReceiver, Reply
from notify_samples import bundle, loopback_settings, single

from watchkeeper.clock import FakeClock
from watchkeeper.notify import Contact, Registry, next_delay, verify_signature

SECRET = "whsec-0123456789"


def webhook(receiver: HttpReceiver, **fields: object) -> Contact:
    return Contact(id="c1", type="webhook", address=receiver.url(), **fields)  # type: ignore[arg-type]


def test_the_receiver_gets_the_ticket_and_the_delivery_id(
    receiver: HttpReceiver, clock: FakeClock
) -> None:
    result = (
        Registry(loopback_settings(), clock)
        .notifier_for("webhook")
        .send(webhook(receiver), single("dlv-42"))
    )
    assert result.ok and result.status_code == 200 and result.response_excerpt == "ok"
    [seen] = receiver.seen
    assert seen.headers["x-watchkeeper-delivery"] == "dlv-42"
    assert seen.headers["content-type"] == "application/json"
    assert "x-watchkeeper-signature" not in seen.headers
    body = seen.json()
    assert body["delivery_id"] == "dlv-42"
    [ticket] = body["tickets"]
    assert ticket["id"] == "T-1"
    assert (ticket["service"], ticket["severity"], ticket["status"]) == (
        "checkout",
        "critical",
        "triggered",
    )
    assert ticket["alerts"][0]["annotations"]["description"] == "eu-west-1 pods failing"
    assert ticket["details"] == {"region": "eu-west-1", "pods": 12}
    assert ticket["runbook_url"] == "https://runbooks.example.com/checkout-errors"
    assert ticket["dashboard_url"] == "https://grafana.example.com/d/checkout"
    assert ticket["acknowledge_url"] == "https://oncall.example.com/a/ack-token-1"
    assert ticket["resolve_url"] == "https://oncall.example.com/a/resolve-token-1"


def test_a_signed_webhook_verifies_and_tampering_or_age_fails(
    receiver: HttpReceiver, clock: FakeClock
) -> None:
    notifier = Registry(loopback_settings(), clock).notifier_for("webhook")
    assert notifier.send(webhook(receiver, secret=SECRET), single()).ok
    [seen] = receiver.seen
    header = seen.headers["x-watchkeeper-signature"]
    assert header.startswith(f"t={int(clock.now().timestamp())},v1=")
    assert verify_signature(SECRET, header, seen.body, clock.now())
    assert not verify_signature(SECRET, header, seen.body + b" ", clock.now())
    assert not verify_signature(SECRET, header, seen.body, clock.now() + timedelta(minutes=6))
    assert not verify_signature("wrong-secret", header, seen.body, clock.now())


def test_a_retry_is_signed_at_its_own_time(receiver: HttpReceiver, clock: FakeClock) -> None:
    notifier = Registry(loopback_settings(), clock).notifier_for("webhook")
    notifier.send(webhook(receiver, secret=SECRET), single())
    clock.advance(timedelta(hours=1))
    notifier.send(webhook(receiver, secret=SECRET), single())
    first, retry = receiver.seen
    assert first.body == retry.body  # same delivery id: the receiver can drop the repeat
    assert verify_signature(
        SECRET, retry.headers["x-watchkeeper-signature"], retry.body, clock.now()
    )


def test_contact_headers_are_sent_but_cannot_replace_ours(
    receiver: HttpReceiver, clock: FakeClock
) -> None:
    contact = webhook(
        receiver,
        secret=SECRET,
        headers={
            "Authorization": "Bearer receiver-token",
            "X-Watchkeeper-Delivery": "forged",
            "X-Watchkeeper-Signature": "forged",
            "Content-Type": "text/plain",
        },
    )
    Registry(loopback_settings(), clock).notifier_for("webhook").send(contact, single("dlv-7"))
    [seen] = receiver.seen
    assert seen.headers["authorization"] == "Bearer receiver-token"
    assert seen.headers["x-watchkeeper-delivery"] == "dlv-7"
    assert seen.headers["content-type"] == "application/json"
    assert verify_signature(SECRET, seen.headers["x-watchkeeper-signature"], seen.body, clock.now())


def test_a_bundle_arrives_as_one_request(receiver: HttpReceiver, clock: FakeClock) -> None:
    Registry(loopback_settings(), clock).notifier_for("webhook").send(webhook(receiver), bundle())
    [seen] = receiver.seen
    body = seen.json()
    assert body["title"].startswith("4 tickets (2 critical, 1 high, 1 warning)")
    assert [t["id"] for t in body["tickets"]] == ["T-1", "T-2", "T-3", "T-4"]


def test_receiver_answers_become_retry_decisions(receiver: HttpReceiver, clock: FakeClock) -> None:
    notifier = Registry(loopback_settings(), clock).notifier_for("webhook")
    contact = webhook(receiver)

    receiver.reply = Reply(429, {"Retry-After": "7"}, b"slow down")
    busy = notifier.send(contact, single())
    assert (busy.ok, busy.status_code, busy.response_excerpt) == (False, 429, "slow down")
    assert next_delay(busy, 1, now=clock.now()) == 7

    receiver.reply = Reply(503, {"Retry-After": "Mon, 02 Mar 2026 09:02:00 GMT"})
    assert next_delay(notifier.send(contact, single()), 1, now=clock.now()) == 120

    receiver.reply = Reply(404, body=b"no such hook")
    gone = notifier.send(contact, single())
    assert not gone.retryable and gone.error == "receiver answered 404 Not Found"
    assert next_delay(gone, 1, now=clock.now()) is None

    receiver.reply = Reply(500)
    assert next_delay(notifier.send(contact, single()), 1, now=clock.now()) == 10
