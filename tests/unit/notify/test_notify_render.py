"""What a responder reads: every ticket listed, counts that add up, nothing unsafe."""

from __future__ import annotations

from notify_samples import bundle, single, ticket

from watchkeeper.notify import Message, render
from watchkeeper.notify.message import AlertNote
from watchkeeper.notify.slack import slack_payload
from watchkeeper.notify.teams import teams_payload


def test_a_single_ticket_carries_everything_a_responder_needs() -> None:
    text = render.full_text(single())
    for needed in (
        "Checkout error rate above 5% (1)",
        "checkout",
        "critical",
        "triggered",
        "T-1",
        "HTTP 5xx ratio 7.2%",
        "description: eu-west-1 pods failing",
        "region: eu-west-1",
        "pods: 12",
        "https://runbooks.example.com/checkout-errors",
        "https://grafana.example.com/d/checkout",
        "https://oncall.example.com/a/ack-token-1",
        "https://oncall.example.com/a/resolve-token-1",
        "Delivery: dlv-1",
    ):
        assert needed in text, needed


def test_a_bundle_counts_and_lists_every_ticket_everywhere() -> None:
    message = bundle()
    counted = "4 tickets (2 critical, 1 high, 1 warning)"
    assert render.headline(message).startswith(counted)
    assert render.short_text(message).startswith(counted)
    assert "You have 4 tickets: 2 critical, 1 high, 1 warning." in render.speech_text(message)
    assert render.full_text(message).startswith(counted)
    for ticket_id in ("T-1", "T-2", "T-3", "T-4"):
        for text in (render.short_text(message), render.full_text(message), render.html(message)):
            assert ticket_id in text
    spoken = render.speech_text(message)
    assert [f"Ticket {n} of 4." in spoken for n in range(1, 5)] == [True] * 4


def test_the_webhook_body_of_a_bundle_adds_up() -> None:
    body = render.json_body(bundle())
    assert body["bundle"] is True
    assert body["ticket_count"] == 4 == len(body["tickets"])
    assert body["severity_counts"] == {"critical": 2, "high": 1, "warning": 1}
    assert sum(body["severity_counts"].values()) == body["ticket_count"]
    assert [t["id"] for t in body["tickets"]] == ["T-1", "T-2", "T-3", "T-4"]
    assert body["tickets"][3]["status"] == "acknowledged"


def test_an_sms_fits_and_still_says_how_many_tickets_did_not() -> None:
    many = Message(delivery_id="d", tickets=tuple(ticket(n) for n in range(1, 31)))
    text = render.short_text(many)
    assert len(text) <= render.SMS_LIMIT
    assert text.startswith("30 tickets (30 critical):")
    listed = sum(f"#T-{n};" in text or text.endswith(f"#T-{n}") for n in range(1, 31))
    assert text.endswith(f"+{30 - listed} more")


def test_a_single_sms_has_the_title_and_the_acknowledge_link() -> None:
    text = render.short_text(single())
    assert text.startswith(
        "[CRITICAL] checkout: Checkout error rate above 5% (1) (#T-1, triggered)"
    )
    assert text.endswith("Ack: https://oncall.example.com/a/ack-token-1")
    long_title = Message(delivery_id="d", tickets=(ticket(title="x" * 1000),))
    assert len(render.short_text(long_title)) <= render.SMS_LIMIT
    assert "Ack: https://oncall.example.com/a/ack-token-1" in render.short_text(long_title)


def test_speech_has_no_links() -> None:
    assert "http" not in render.speech_text(single())
    assert "http" not in render.speech_text(bundle())


def test_sender_controlled_text_cannot_inject() -> None:
    hostile = ticket(
        title="<script>alert(1)</script>\r\nBcc: victim@example.com",
        runbook_url="javascript:alert(1)",
        alerts=(AlertNote(summary="<b>x</b>", annotations={"a": "<img src=x>"}),),
    )
    message = Message(delivery_id="d", tickets=(hostile,))
    page = render.html(message)
    assert "<script>" not in page and "<img" not in page and "javascript:" not in page
    assert "\n" not in render.headline(message) and "\r" not in render.headline(message)
    assert "javascript:" not in render.full_text(message)


def test_slack_bundle_lists_every_ticket_with_its_links() -> None:
    payload = slack_payload(bundle())
    assert payload["text"].startswith("4 tickets")
    assert payload["delivery_id"] == "dlv-bundle"
    texts = [b["text"]["text"] for b in payload["blocks"] if b["type"] in ("header", "section")]
    assert texts[0] == "4 tickets (2 critical, 1 high, 1 warning)"
    for n in range(1, 5):
        entry = next(t for t in texts if f"#T-{n}," in t)
        assert f"<https://oncall.example.com/a/ack-token-{n}|Acknowledge>" in entry


def test_slack_escapes_mentions_and_stays_under_block_limits() -> None:
    loud = ticket(title="<!channel> wake up", service="a" * 400)
    many = Message(delivery_id="d", tickets=(*(ticket(n) for n in range(1, 80)), loud))
    payload = slack_payload(many)
    assert len(payload["blocks"]) <= 50
    assert "<!channel>" not in str(payload["blocks"])
    assert "…and 34 more tickets" in str(payload["blocks"])
    header = slack_payload(Message(delivery_id="d", tickets=(loud,)))["blocks"][0]
    assert len(header["text"]["text"]) <= 150


def test_teams_single_ticket_card_has_facts_and_actions() -> None:
    payload = teams_payload(single())
    assert payload["type"] == "message"
    attachment = payload["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    facts = {f["title"]: f["value"] for f in card["body"][1]["facts"]}
    assert facts == {
        "Service": "checkout",
        "Severity": "critical",
        "Status": "triggered",
        "Ticket": "T-1",
    }
    actions = {a["title"]: a["url"] for a in card["actions"]}
    assert actions["Acknowledge"] == "https://oncall.example.com/a/ack-token-1"
    assert actions["Resolve"] == "https://oncall.example.com/a/resolve-token-1"
    assert actions["Runbook"] == "https://runbooks.example.com/checkout-errors"


def test_teams_bundle_has_one_container_per_ticket() -> None:
    card = teams_payload(bundle())["attachments"][0]["content"]
    assert card["body"][0]["text"] == "4 tickets (2 critical, 1 high, 1 warning)"
    containers = [b for b in card["body"] if b["type"] == "Container"]
    assert len(containers) == 4
    assert all(c["items"][1]["actions"][0]["title"] == "Acknowledge" for c in containers)
