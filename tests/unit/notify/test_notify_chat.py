"""Slack-compatible and Teams workflow webhooks, delivered to real receivers on 127.0.0.1."""

from __future__ import annotations

from notify_receivers import HttpReceiver
from notify_samples import bundle, loopback_settings, single

from watchkeeper.clock import FakeClock
from watchkeeper.notify import Contact, Registry


def test_slack_receives_text_and_blocks_with_action_buttons(
    receiver: HttpReceiver, clock: FakeClock
) -> None:
    contact = Contact(id="s", type="slack", address=receiver.url("/services/T0/B0/xyz"))
    result = Registry(loopback_settings(), clock).notifier_for("slack").send(contact, single("d-9"))
    assert result.ok
    [seen] = receiver.seen
    assert seen.path == "/services/T0/B0/xyz"
    assert seen.headers["x-watchkeeper-delivery"] == "d-9"
    body = seen.json()
    assert body["delivery_id"] == "d-9"
    assert body["text"] == "[CRITICAL] checkout: Checkout error rate above 5% (1) (#T-1, triggered)"
    fields = [
        f["text"] for b in body["blocks"] if b["type"] == "section" for f in b.get("fields", [])
    ]
    assert fields == [
        "*Service*\ncheckout",
        "*Severity*\ncritical",
        "*Status*\ntriggered",
        "*Ticket*\nT-1",
    ]
    sections = " ".join(b["text"]["text"] for b in body["blocks"] if "text" in b)
    assert "*description*: eu-west-1 pods failing" in sections
    [actions] = [b for b in body["blocks"] if b["type"] == "actions"]
    buttons = {e["text"]["text"]: e["url"] for e in actions["elements"]}
    assert buttons == {
        "Acknowledge": "https://oncall.example.com/a/ack-token-1",
        "Resolve": "https://oncall.example.com/a/resolve-token-1",
        "Runbook": "https://runbooks.example.com/checkout-errors",
        "Dashboard": "https://grafana.example.com/d/checkout",
        "Open ticket": "https://oncall.example.com/tickets/T-1",
    }


def test_slack_bundle_is_one_message_listing_every_ticket(
    receiver: HttpReceiver, clock: FakeClock
) -> None:
    contact = Contact(id="s", type="slack", address=receiver.url())
    Registry(loopback_settings(), clock).notifier_for("slack").send(contact, bundle())
    [seen] = receiver.seen
    text = str(seen.json()["blocks"])
    assert "4 tickets (2 critical, 1 high, 1 warning)" in text
    assert all(f"#T-{n}," in text for n in range(1, 5))


def test_teams_receives_an_adaptive_card_message(receiver: HttpReceiver, clock: FakeClock) -> None:
    contact = Contact(id="t", type="teams", address=receiver.url("/workflows/abc/triggers/manual"))
    result = Registry(loopback_settings(), clock).notifier_for("teams").send(contact, single("d-3"))
    assert result.ok
    [seen] = receiver.seen
    assert seen.headers["x-watchkeeper-delivery"] == "d-3"
    body = seen.json()
    assert body["type"] == "message"
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    texts = " ".join(b.get("text", "") for b in card["body"])
    assert "Checkout error rate above 5% (1)" in texts and "HTTP 5xx ratio 7.2%" in texts
    assert {"title": "Service", "value": "checkout"} in card["body"][1]["facts"]
    urls = {a["title"]: a["url"] for a in card["actions"]}
    assert urls["Acknowledge"] == "https://oncall.example.com/a/ack-token-1"
    assert urls["Resolve"] == "https://oncall.example.com/a/resolve-token-1"
    assert urls["Dashboard"] == "https://grafana.example.com/d/checkout"
