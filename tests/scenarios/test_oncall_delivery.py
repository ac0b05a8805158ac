"""Delivery as a receiver sees it: retries and Retry-After, a receiver that hangs, bundles,
one-click links, updates on acknowledged tickets, what a page carries, and the timeline.

Timelines on a fake clock from Saturday 7 March 2026, 02:00 in Berlin (01:00 UTC), with real
loopback HTTP receivers and an aiosmtpd server.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from tests.support.oncall import GEN_KEY, PUBLIC_URL, OnCall, oncall
from tests.support.receivers import Reply, Request

from watchkeeper.engine.outcomes import AS_BUILT
from watchkeeper.notify import verify_signature
from watchkeeper.storage import tables

N = tables.notifications.c
D = tables.deliveries.c
SAT_0200_BERLIN = datetime(2026, 3, 7, 1, 0, tzinfo=UTC)

CONFIG = """
teams: [{id: payments, name: Payments, members: [alice, bob, carol]}]
users:
  - id: alice
    name: Alice
    email: alice@example.com
    time_zone: Europe/Berlin
    contacts: [{id: alice-hook, type: webhook, url: "{hook}/alice", secret: alice-webhook-secret}]
  - id: bob
    name: Bob
    email: bob@example.com
    time_zone: America/New_York
    contacts: [{id: bob-hook, type: webhook, url: "{hook}/bob"}]
  - id: carol
    name: Carol
    email: carol@example.com
    time_zone: Asia/Tokyo
    contacts: [{id: carol-mail, type: email, address: carol@example.com}]
channels:
  - {id: scripts, name: Scripts, kind: automatic}
  - {id: prom, name: Prometheus, kind: automatic}
services: [{id: checkout, name: Checkout, team: payments, escalation_policy: main}]
integrations:
  - {id: gen, name: Scripts, type: generic, key: gen-key-0123456789abcdef, channel: scripts,
     service: checkout, group_by: "{source}"}
  - {id: am, name: Alertmanager, type: alertmanager, key: am-key-0123456789abcdef, channel: prom,
     service: checkout}
escalation_policies:
  - id: main
    name: Main
    levels:
      - {role: first-line, targets: ["user:alice"], delay: 5m}
      - {role: second-line, targets: ["user:bob"], delay: 5m}
      - {role: leader, targets: ["user:carol"], delay: 5m}
outbound: {allow: ["127.0.0.0/8"]}
"""

Make = Callable[..., OnCall]


@pytest.fixture
def make(db_url: str) -> Iterator[Make]:
    with ExitStack() as stack:

        def start(replace: tuple[str, str] = ("", "")) -> OnCall:
            config = CONFIG.replace(*replace) if replace[0] else CONFIG
            return stack.enter_context(oncall(db_url, config, start=SAT_0200_BERLIN))

        yield start


def seconds(at: datetime | None) -> float:
    assert at is not None
    return (at - SAT_0200_BERLIN).total_seconds()


def timeline_texts(oc: OnCall, ticket_id: int, *kinds: str) -> list[str]:
    return [e.message for e in oc.timeline(ticket_id) if not kinds or e.kind in kinds]


def test_a_failing_receiver_is_retried_as_retry_after_asks_and_the_next_level_is_on_time(
    make: Make,
) -> None:
    oc = make()
    busy = Reply(503, {"Retry-After": "120"}, b"busy")
    oc.http.replies["/alice"] = [busy, busy, Reply(200)]
    oc.alert()
    ticket = oc.ticket()
    oc.run(6 * 60)
    assert [(seconds(r.at), r.path) for r in oc.http.requests] == [
        (0, "/alice"),
        (120, "/alice"),
        (240, "/alice"),
        (300, "/bob"),  # the second line on time, whatever the first line's receiver does
    ]
    alice = oc.notifications(N.user_id == "alice")[0]
    assert (alice.status, alice.attempts) == ("sent", 3)
    assert {r.delivery_id for r in oc.hooks("/alice")} == {alice.delivery_id}  # same id each time
    assert timeline_texts(oc, ticket.id, "delivery")[:3] == [
        "alice by webhook: failed (receiver answered 503 Service Unavailable), attempt 1;"
        " retrying in 2m as Retry-After asked",
        "alice by webhook: failed (receiver answered 503 Service Unavailable), attempt 2;"
        " retrying in 2m as Retry-After asked",
        "alice by webhook: delivered (200), attempt 3",
    ]
    assert oc.h.count(tables.deliveries, D.notification_id == alice.id) == 3


def test_without_retry_after_the_backoff_schedule_applies_and_a_4xx_is_final(make: Make) -> None:
    oc = make()
    oc.http.replies["/alice"] = [Reply(500), Reply(500), Reply(200)]
    oc.http.replies["/bob"] = [Reply(410, body=b"gone")]
    oc.alert()
    oc.run(10 * 60)
    assert [(seconds(r.at), r.path) for r in oc.http.requests] == [
        (0, "/alice"),
        (10, "/alice"),  # 10 s after the first attempt
        (40, "/alice"),  # 30 s after the second
        (300, "/bob"),  # answers 410 Gone: final, not retried
    ]
    bob = oc.notifications(N.user_id == "bob")[0]
    assert (bob.status, bob.attempts) == ("failed", 1)
    bob_lines = [t for t in timeline_texts(oc, oc.ticket().id, "delivery") if "bob" in t]
    assert bob_lines == [
        "bob by webhook: failed (receiver answered 410 Gone), attempt 1; not retried"
    ]
    assert [m.rcpt_tos for m in oc.mails] == [["carol@example.com"]]  # the leader, at 02:10


def test_a_receiver_that_hangs_does_not_hold_back_the_next_level(make: Make) -> None:
    oc = make(("delay: 5m}\n      - {role: second-line", "delay: 0s}\n      - {role: second-line"))
    oc.http.replies["/alice"] = [Reply(200, hang=3.0)]  # answers after 3 real seconds
    oc.h.generic("gen-key-0123456789abcdef", summary="disk", dedup="disk", source="disk")
    started = time.monotonic()
    oc.h.engine.tick()  # pages level 1 and, its delay being 0, level 2
    deadline = started + 2.5
    while not oc.hooks("/bob") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert oc.hooks("/bob"), "the second line waited for the first line's receiver"
    assert oc.notifications(N.user_id == "alice")[0].status == "pending"  # still sending
    oc.settle()
    assert oc.notifications(N.user_id == "alice")[0].status == "sent"


def test_more_than_three_pages_in_a_minute_go_out_as_one_bundle_that_counts_right(
    make: Make,
) -> None:
    oc = make()
    severities = ["critical", "high", "warning", "critical", "info", "warning"]
    for index, severity in enumerate(severities):
        oc.alert(f"db{index}", severity=severity)  # six tickets, five seconds apart
        oc.run(5)
    tickets = oc.h.tickets()
    oc.act("acknowledge", tickets[4].id, by="bob")  # 02:00:30: one of the bundled is handled
    oc.run(31)
    got = oc.hooks("/alice")
    assert [seconds(r.at) for r in got] == [0, 5, 10, 60]
    singles, bundle = got[:3], got[3].json()
    assert [r.json()["tickets"][0]["id"] for r in singles] == [str(t.id) for t in tickets[:3]]
    assert bundle["bundle"] is True and bundle["ticket_count"] == 2
    assert [t["id"] for t in bundle["tickets"]] == [str(tickets[3].id), str(tickets[5].id)]
    assert bundle["severity_counts"] == {"critical": 1, "warning": 1}
    assert sum(bundle["severity_counts"].values()) == bundle["ticket_count"]
    assert len({r.delivery_id for r in got}) == 4
    statuses = {n.ticket_id: n.status for n in oc.notifications(N.kind == "page")}
    assert [statuses[t.id] for t in tickets] == ["sent"] * 3 + ["bundled", "cancelled", "bundled"]
    assert any(
        "goes in a bundle at 01:01:00 UTC" in text
        for text in timeline_texts(oc, tickets[3].id, "notification")
    )
    assert timeline_texts(oc, tickets[5].id, "delivery") == [
        "alice by webhook (a bundle of 2 tickets): delivered (200), attempt 1"
    ]
    oc.alert("late")  # 02:01:01: 02:00:05, :10 and the bundle at :60 are within a minute
    oc.run(10)
    assert [seconds(r.at) for r in oc.hooks("/alice")][4:] == [65]  # bundled again, never lost
    assert oc.hooks("/alice")[4].json()["ticket_count"] == 1


def action_path(url: str) -> str:
    assert url.startswith(f"{PUBLIC_URL}/api/v1/actions/")
    return urlsplit(url).path


def test_one_click_links_acknowledge_and_resolve_and_refuse_tampering(make: Make) -> None:
    oc = make()
    oc.alert()
    ticket = oc.ticket()
    page = oc.hooks("/alice")[0].json()["tickets"][0]
    ack = action_path(page["acknowledge_url"])
    # Opening the link (or a chat unfurler fetching it) changes nothing.
    shown = oc.h.client.get(ack)
    assert shown.status_code == 200 and "Acknowledge" in shown.text
    assert oc.ticket().status == "triggered"
    payload, mac = ack.rsplit("/", 1)[1].split(".")
    forged = f"/api/v1/actions/{payload}.{mac[:-2]}{'AA' if mac[-2:] != 'AA' else 'BB'}"
    refused = oc.h.client.post(forged)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    oc.run(60)
    done = oc.h.client.post(ack)  # 02:01: alice presses the button
    assert done.status_code == 200, done.text
    assert done.json()["ticket"]["status"] == "acknowledged"
    assert done.json()["ticket"]["acknowledged_by"] == "alice"
    oc.run(3600)
    assert [r.path for r in oc.http.requests] == ["/alice"]  # bob is never woken
    assert "acknowledged: by one-click link" in timeline_texts(oc, ticket.id)
    oc.clock.advance(timedelta(days=8))
    expired = oc.h.client.post(action_path(page["resolve_url"]))
    assert expired.status_code == 410
    oc.alert("cache")
    second = oc.h.tickets()[-1]
    resolve_url = oc.hooks("/alice")[-1].json()["tickets"][0]["resolve_url"]
    assert oc.h.client.post(action_path(resolve_url)).status_code == 200
    assert oc.h.tickets()[-1].status == "resolved" and second.id != ticket.id


def test_a_new_alert_on_an_acknowledged_ticket_tells_whoever_acknowledged_it_once(
    make: Make,
) -> None:
    oc = make()
    oc.alert("db-primary", source="db")
    ticket = oc.ticket()
    oc.act("acknowledge", ticket.id, by="bob")  # bob picked it up (not the first line)
    oc.run(60)
    oc.alert("db-replica", source="db")  # joins the acknowledged ticket
    oc.run(3600)
    assert [(seconds(r.at), r.path) for r in oc.http.requests] == [(0, "/alice"), (60, "/bob")]
    update = oc.hooks("/bob")[0].json()
    assert update["tickets"][0]["id"] == str(ticket.id)
    assert len(update["tickets"][0]["alerts"]) == 2
    kinds = [(n.kind, n.user_id, n.status) for n in oc.notifications()]
    assert kinds == [("page", "alice", "sent"), ("update", "bob", "sent")]
    assert oc.ticket().escalation_count == 0  # an update is not an escalation


def test_when_a_source_acknowledged_the_update_goes_to_the_first_level(make: Make) -> None:
    oc = make()
    oc.alert("disk", source="disk")
    oc.alert("disk", source="disk", action="acknowledge")  # the monitoring tool acked it
    oc.run(60)
    oc.alert("disk2", source="disk")
    assert [(seconds(r.at), r.path) for r in oc.http.requests] == [(0, "/alice"), (60, "/alice")]
    assert oc.ticket().acknowledged_by == "integration:gen"


def alertmanager_alert() -> dict[str, object]:
    return {
        "version": "4",
        "status": "firing",
        "receiver": "wk",
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://am",
        "groupKey": "{}:{}",
        "truncatedAlerts": 0,
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "DiskFull", "severity": "critical", "instance": "db1"},
                "annotations": {
                    "summary": "Disk full on db1",
                    "description": "/var is 99% full",
                    "runbook_url": "https://runbooks.example.test/disk-full",
                    "dashboard_url": "https://grafana.example.test/d/disks",
                },
                "startsAt": "2026-03-07T00:59:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus/graph",
                "fingerprint": "f1",
            }
        ],
    }


def test_a_page_carries_what_a_responder_needs_and_is_signed(make: Make) -> None:
    oc = make(('targets: ["user:alice"]', 'targets: ["user:alice", "user:carol"]'))
    response = oc.h.post(
        "/integrations/am-key-0123456789abcdef/alertmanager", json=alertmanager_alert()
    )
    assert response.status_code == 202, response.text
    oc.settle()
    hook: Request = oc.hooks("/alice")[0]
    body = hook.json()
    notice = body["tickets"][0]
    assert body["delivery_id"] == hook.delivery_id != ""
    assert notice["service"] == "Checkout" and notice["severity"] == "critical"
    assert notice["alerts"][0]["annotations"]["description"] == "/var is 99% full"
    assert notice["runbook_url"] == "https://runbooks.example.test/disk-full"
    assert notice["dashboard_url"] == "https://grafana.example.test/d/disks"
    assert notice["acknowledge_url"].startswith(f"{PUBLIC_URL}/api/v1/actions/")
    signature = hook.headers["x-watchkeeper-signature"]
    assert verify_signature("alice-webhook-secret", signature, hook.body, oc.clock.now())
    mail = oc.mails[0]
    assert mail.rcpt_tos == ["carol@example.com"]
    text = mail.text()
    assert "Disk full on db1" in text and "runbooks.example.test/disk-full" in text
    assert mail.delivery_id == oc.notifications(N.user_id == "carol")[0].delivery_id
    # Interruptions are stamped with the hour class in the person's own zone, when sent.
    stamped = {n.user_id: (n.hour_class, n.time_zone, n.paging) for n in oc.notifications()}
    assert stamped == {
        "alice": ("sleep", "Europe/Berlin", True),  # Saturday 02:00 in Berlin
        "carol": ("off", "Asia/Tokyo", False),  # Saturday 10:00 in Tokyo; e-mail does not page
    }


def test_the_timeline_and_the_api_show_every_page_attempt_and_outcome(make: Make) -> None:
    oc = make()
    oc.http.replies["/alice"] = [Reply(429, {"Retry-After": "30"}), Reply(200)]
    oc.alert(details={"region": "eu-1", "shard": 7})
    ticket = oc.ticket()
    oc.run(90)
    oc.act("acknowledge", ticket.id, by="alice")
    assert [(e.kind, e.message) for e in oc.timeline(ticket.id)][1:] == [
        ("paged", "level 1 (first-line): paging alice by webhook now"),
        (
            "delivery",
            "alice by webhook: failed (receiver answered 429 Too Many Requests),"
            " attempt 1; retrying in 30s as Retry-After asked",
        ),
        ("delivery", "alice by webhook: delivered (200), attempt 2"),
        ("acknowledged", "acknowledged"),
    ]
    assert oc.hooks("/alice")[-1].json()["tickets"][0]["details"] == {"region": "eu-1", "shard": 7}
    listed = oc.h.api("GET", f"/api/v1/tickets/{ticket.id}/notifications").json()
    (only,) = listed["notifications"]
    assert (only["user"], only["status"], only["level"]) == ("alice", "sent", 1)
    assert [(a["ok"], a["status_code"]) for a in only["attempts"]] == [(False, 429), (True, 200)]


def test_teams_at_once_then_a_voice_call_and_the_acknowledgement_stops_both(make: Make) -> None:
    alice = (
        'contacts: [{id: alice-hook, type: webhook, url: "{hook}/alice", '
        "secret: alice-webhook-secret}]"
    )
    oc = make(
        (
            alice,
            'contacts:\n      - {id: alice-teams, type: teams, url: "{hook}/teams/alice"}\n'
            '      - {id: alice-call, type: voice, phone: "+491700000001"}\n'
            "    notification_rules:\n"
            "      - {contact: alice-teams, after: 0s}\n"
            "      - {contact: alice-call, after: 2m}",
        )
    )
    oc.alert("disk", source="disk")
    ticket = oc.ticket()
    oc.run(150)
    assert [(seconds(r.at), r.path) for r in oc.http.requests] == [
        (0, "/teams/alice"),
        (120, "/voice"),
    ]
    card = oc.hooks("/teams/alice")[0].json()["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard"
    actions = {a["title"]: a["url"] for a in card["actions"]}
    assert actions["Acknowledge"].startswith(PUBLIC_URL)
    call = oc.hooks("/voice")[0].json()
    assert call["to"] == "+491700000001" and "disk is failing" in call["message"]
    oc.act("acknowledge", ticket.id, by="alice")
    oc.run(3600)  # no second line at 02:05, nothing more at all
    assert len(oc.http.requests) == 2 and not oc.mails
    kinds = [(n.user_id, n.contact_id, n.status) for n in oc.notifications()]
    assert kinds == [("alice", "alice-teams", "sent"), ("alice", "alice-call", "sent")]


def test_a_page_taken_at_once_goes_as_claimed_and_one_that_waited_is_checked_again(
    make: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page due at once is built in the transaction that claims it and sent as built when a
    sender takes it at once: an acknowledgement in those milliseconds does not stop a page
    already on its way. A page that waited in the senders' queue longer than `AS_BUILT` is
    looked at again before it goes, so an acknowledgement meanwhile cancels it."""
    oc = make()
    held: list[Any] = []
    release = oc.delivery.hand_off
    monkeypatch.setattr(oc.delivery, "hand_off", held.extend)  # the senders are all busy
    oc.h.generic(GEN_KEY, summary="disk is failing", dedup="disk", source="disk")
    oc.h.engine.tick()
    [waited] = held
    oc.act("acknowledge", oc.ticket().id, by="bob")
    oc.clock.advance(AS_BUILT + 1)
    release([waited])
    assert oc.delivery.wait_idle(30)
    assert oc.hooks("/alice") == []
    [page] = oc.notifications(N.kind == "page")
    assert page.status == "cancelled"
    assert oc.h.count(tables.deliveries) == 0

    held.clear()
    oc.h.generic(GEN_KEY, summary="cpu is hot", dedup="cpu", source="cpu")
    oc.h.engine.tick()
    [at_once] = held
    oc.act("acknowledge", oc.ticket().id, by="bob")
    release([at_once])
    assert oc.delivery.wait_idle(30)
    [hook] = oc.hooks("/alice")
    assert hook.json()["tickets"][0]["status"] == "triggered"  # as it was when claimed
    # it did go out: the record says so
    assert [n.status for n in oc.notifications(N.kind == "page")] == ["cancelled", "sent"]
