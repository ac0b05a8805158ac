"""Escalation as an on-call person lives it: who is paged, by what, when, and what stops it.

Each test is a timeline on a fake clock starting Saturday 7 March 2026, 02:00 in Berlin (01:00
UTC); the engine ticks at every instant a timer falls due, and real loopback receivers (a chat
webhook, an SMS gateway, an SMTP server) record what arrived and when.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime

import pytest
from tests.support.oncall import OnCall, oncall

from watchkeeper.clock import from_epoch
from watchkeeper.storage import tables

N = tables.notifications.c
SAT_0200_BERLIN = datetime(2026, 3, 7, 1, 0, tzinfo=UTC)

PEOPLE = """
teams:
  - {id: payments, name: Payments, members: [alice, bob]}
users:
  - id: alice
    name: Alice
    email: alice@example.com
    time_zone: Europe/Berlin
    contacts:
      - {id: alice-chat, type: slack, url: "{hook}/alice/chat"}
      - {id: alice-sms, type: sms, phone: "+491700000001"}
    notification_rules:
      - {contact: alice-chat, after: 0s}
      - {contact: alice-sms, after: 2m}
  - id: bob
    name: Bob
    email: bob@example.com
    time_zone: America/New_York
    contacts: [{id: bob-sms, type: sms, phone: "+12125550002"}]
  - id: carol
    name: Carol
    email: carol@example.com
    time_zone: Asia/Tokyo
    contacts:
      - {id: carol-hook, type: webhook, url: "{hook}/carol"}
      - {id: carol-mail, type: email, address: carol@example.com}
    notification_rules:
      - {contact: carol-hook, after: 0s}
      - {contact: carol-mail, after: 1m}
  - {id: dave, name: Dave, email: dave@example.com, time_zone: Europe/Berlin}
  - id: erin
    name: Erin
    email: erin@example.com
    time_zone: Europe/Berlin
    contacts: [{id: erin-sms, type: sms, phone: "+491700000005"}]
  - id: frank
    name: Frank
    email: frank@example.com
    time_zone: Europe/Berlin
    contacts:
      - {id: frank-hook, type: webhook, url: "{hook}/frank"}
      - {id: frank-sms, type: sms, phone: "+491700000006"}
    notification_rules:
      - {contact: frank-hook, after: 0s}
      - {contact: frank-sms, after: 0s, severity: [critical]}
schedules:
  - id: weekdays-only
    name: Weekdays only
    time_zone: Europe/Berlin
    layers:
      - rotation: {type: weekly, handoff: "09:00", start: "2026-03-02"}
        users: [alice]
        restrictions: [{days: [mon, tue, wed, thu, fri], from: "09:00", to: "17:00"}]
  - id: primary
    name: Primary
    time_zone: Europe/Berlin
    layers:
      - rotation: {type: daily, handoff: "09:00", start: "2026-03-01"}
        users: [carol]
    overrides:
      - {user: erin, replaces: carol, from: "2026-03-07T00:00:00+01:00",
         to: "2026-03-07T12:00:00+01:00"}
channels: [{id: scripts, name: Scripts, kind: automatic}]
services: [{id: checkout, name: Checkout, team: payments, escalation_policy: main}]
integrations:
  - {id: gen, name: Scripts, type: generic, key: gen-key-0123456789abcdef, channel: scripts,
     service: checkout, group_by: "{source}"}
outbound: {allow: ["127.0.0.0/8"]}
"""

THREE_LEVELS = """
escalation_policies:
  - id: main
    name: Main
    levels:
      - {role: first-line, targets: ["user:alice"], delay: 5m}
      - {role: second-line, targets: ["user:bob"], delay: 10m}
      - {role: leader, targets: ["user:carol"], delay: 10m}
"""


Make = Callable[[str], OnCall]


@pytest.fixture
def make(db_url: str) -> Iterator[Make]:
    """Start Watchkeeper with the people above and the given escalation policies."""
    with ExitStack() as stack:
        yield lambda policies: stack.enter_context(
            oncall(db_url, PEOPLE + policies, start=SAT_0200_BERLIN)
        )


def minutes(oc: OnCall, at: datetime | None) -> float:
    assert at is not None
    return (at - SAT_0200_BERLIN).total_seconds() / 60


def received(oc: OnCall) -> list[tuple[float, str]]:
    """(minutes after 02:00, who and how) for everything the receivers got, in order."""
    out = []
    for r in oc.http.requests:
        what = f"sms {r.json()['to']}" if r.path == "/sms" else r.path
        out.append((minutes(oc, r.at), what))
    out += [(minutes(oc, m.at), f"mail {m.rcpt_tos[0]}") for m in oc.mails]
    return sorted(out)


ALICE_CHAT, ALICE_SMS, BOB_SMS = "/alice/chat", "sms +491700000001", "sms +12125550002"
CAROL_HOOK, CAROL_MAIL, ERIN_SMS = "/carol", "mail carol@example.com", "sms +491700000005"


def test_unanswered_first_line_escalates_to_second_line_and_an_ack_stops_everything(
    make: Make,
) -> None:
    oc = make(THREE_LEVELS)
    oc.alert()  # 02:00 Saturday: the first line is paged in chat, by SMS two minutes later
    ticket = oc.ticket()
    oc.run(7 * 60)  # nobody answers; 02:05: the second line is paged by SMS
    oc.act("acknowledge", ticket.id, by="bob")  # 02:07: bob acknowledges
    oc.run(3600)  # nothing after
    assert received(oc) == [(0, ALICE_CHAT), (2, ALICE_SMS), (5, BOB_SMS)]
    ticket = oc.ticket()
    assert ticket.status == "acknowledged" and ticket.acknowledged_by == "bob"
    assert ticket.escalation_level == 1 and ticket.escalation_count == 1
    kinds = [e.kind for e in oc.timeline(ticket.id)]
    assert kinds.count("paged") == 2 and kinds.count("delivery") == 3
    paged = [e.message for e in oc.timeline(ticket.id) if e.kind == "paged"]
    assert paged == [
        "level 1 (first-line): paging alice by slack now, sms in 2m",
        "level 2 (second-line): paging bob by sms now",
    ]


def test_chat_at_once_sms_after_two_minutes_and_an_ack_in_between_cancels_the_sms(
    make: Make,
) -> None:
    oc = make(THREE_LEVELS)
    oc.alert()
    ticket = oc.ticket()
    oc.run(60)
    oc.act("acknowledge", ticket.id, by="alice")  # 02:01, before the SMS
    oc.run(3600)
    assert received(oc) == [(0, ALICE_CHAT)]
    sms = oc.notifications(N.contact_id == "alice-sms")
    assert [n.status for n in sms] == ["cancelled"]
    notes = [e.message for e in oc.timeline(ticket.id) if e.kind == "notification"]
    assert notes == ["acknowledged by alice: cancelled 1 notifications not sent yet (alice by sms)"]


def test_a_recovery_resolves_the_ticket_and_stops_escalation(make: Make) -> None:
    oc = make(THREE_LEVELS)
    oc.alert()
    oc.run(90)
    oc.alert(action="resolve")  # 02:01:30 the source says it recovered
    oc.run(3600)
    assert oc.ticket().status == "resolved"
    assert received(oc) == [(0, ALICE_CHAT)]


def test_reopening_starts_a_new_round_from_the_first_level(make: Make) -> None:
    oc = make(THREE_LEVELS)
    oc.alert()
    ticket = oc.ticket()
    oc.run(60)
    oc.act("resolve", ticket.id, by="alice")  # 02:01
    oc.run(120)
    oc.act("reopen", ticket.id, by="alice")  # 02:03: it came back
    oc.run(6 * 60)
    assert received(oc) == [(0, ALICE_CHAT), (3, ALICE_CHAT), (5, ALICE_SMS), (8, BOB_SMS)]
    assert oc.ticket().round == 2
    rounds = sorted({(n.round, n.level) for n in oc.notifications()})
    assert rounds == [(1, 0), (2, 0), (2, 1)]


def test_escalate_now_pages_the_next_level_at_once(make: Make) -> None:
    oc = make(THREE_LEVELS)
    oc.alert()
    ticket = oc.ticket()
    oc.run(60)
    oc.act("escalate", ticket.id, by="alice")  # 02:01: "I need help"
    oc.run(11 * 60)
    # bob at once; alice's SMS still goes (the ticket is unanswered); carol after bob's delay
    assert received(oc) == [
        (0, ALICE_CHAT),
        (1, BOB_SMS),
        (2, ALICE_SMS),
        (11, CAROL_HOOK),
        (12, CAROL_MAIL),
    ]
    ticket = oc.ticket()
    assert ticket.escalation_count == 2  # by hand to level 2, then to level 3
    assert ticket.escalation_level == 2


def test_an_acknowledgement_that_times_out_escalates_again(make: Make) -> None:
    oc = make(THREE_LEVELS.replace("name: Main", "name: Main\n    ack_timeout: 10m"))
    oc.alert()
    ticket = oc.ticket()
    oc.run(60)
    oc.act("acknowledge", ticket.id, by="alice")  # 02:01
    oc.run(11 * 60)  # 02:11: not resolved: the ack lapses, round 2 starts
    oc.act("acknowledge", ticket.id, by="alice")  # 02:12
    oc.alert(action="resolve")  # 02:12, fixed
    oc.run(3600)
    assert received(oc) == [(0, ALICE_CHAT), (11, ALICE_CHAT)]
    timeline = [e.message for e in oc.timeline(ticket.id)]
    assert any("acknowledgement timed out" in m for m in timeline)
    assert "unacknowledged: escalating from level 1 (first-line) (round 2)" in timeline
    assert oc.ticket().round == 2


def test_the_policy_repeats_then_stops(make: Make) -> None:
    oc = make(
        """
escalation_policies:
  - id: main
    name: Main
    repeat: 1
    levels:
      - {role: first-line, targets: ["user:bob"], delay: 5m}
      - {role: second-line, targets: ["user:erin"], delay: 5m}
"""
    )
    oc.alert()
    oc.run(3 * 3600)
    assert received(oc) == [(0, BOB_SMS), (5, ERIN_SMS), (10, BOB_SMS), (15, ERIN_SMS)]
    ticket = oc.ticket()
    assert ticket.round == 2 and ticket.escalation_pass == 1
    last = oc.timeline(ticket.id)[-1]
    assert minutes(oc, datetime.fromtimestamp(last.at, UTC)) == 20
    assert (
        last.message == "escalation finished: nobody acknowledged after 2 pass(es) over policy main"
    )


def test_round_robin_pages_one_target_per_ticket_in_turn(make: Make) -> None:
    oc = make(
        """
escalation_policies:
  - id: main
    name: Main
    levels:
      - {role: first-line, targets: ["user:bob", "user:carol", "user:erin"], delay: 5m,
         round_robin: true}
      - {role: second-line, targets: ["user:alice"], delay: 5m}
"""
    )
    for name in ("one", "two", "three", "four"):
        oc.alert(name)  # four tickets, a minute apart
        oc.run(60)
    assert received(oc) == [
        (0, BOB_SMS),
        (1, CAROL_HOOK),
        (2, CAROL_MAIL),
        (2, ERIN_SMS),
        (3, BOB_SMS),
    ]
    paged = [e.message for t in oc.h.tickets() for e in oc.timeline(t.id) if e.kind == "paged"]
    assert (
        paged[1] == "level 1 (first-line): paging carol by webhook now, email in 1m"
        " (round robin: user:carol)"
    )


def test_a_level_that_resolves_to_nobody_is_skipped_at_once_and_reported(make: Make) -> None:
    oc = make(
        """
escalation_policies:
  - id: main
    name: Main
    levels:
      - {role: first-line, targets: ["user:dave"], delay: 5m}
      - {role: second-line, targets: ["schedule:weekdays-only"], delay: 5m}
      - {role: leader, targets: ["user:bob"], delay: 5m}
"""
    )
    oc.alert()  # Saturday 02:00: dave has no contact method, the weekday schedule nobody
    ticket = oc.ticket()
    assert received(oc) == [(0, BOB_SMS)]
    skipped = [e for e in oc.timeline(ticket.id) if e.kind == "level_skipped"]
    assert [e.message for e in skipped] == [
        "level 1 (first-line) resolves to nobody (dave has no contact methods): skipped to the"
        " next level. This is a configuration error.",
        "level 2 (second-line) resolves to nobody (schedule:weekdays-only has nobody on call):"
        " skipped to the next level. This is a configuration error.",
    ]
    problems = oc.h.api("GET", "/api/v1/escalation/problems").json()["problems"]
    assert {(p["policy"], p["level"], p["count"]) for p in problems} == {
        ("main", 1, 1),
        ("main", 2, 1),
    }


def test_schedules_and_teams_resolve_to_who_is_on_call_now(make: Make) -> None:
    oc = make(
        """
escalation_policies:
  - id: main
    name: Main
    levels:
      - {role: first-line, targets: ["schedule:primary"], delay: 5m}
      - {role: second-line, targets: ["team:payments"], delay: 5m}
"""
    )
    oc.alert()  # erin replaces carol on the primary schedule until noon
    oc.run(5 * 60)  # then the payments team: alice and bob
    assert received(oc) == [(0, ERIN_SMS), (5, ALICE_CHAT), (5, BOB_SMS)]


OFF_HOURS = """
escalation_policies:
  - id: main
    name: Main
    time_zone: Europe/Berlin
    rules:
      - {off_hours: true, severity: [info, warning], action: {wait_until_business_hours: true}}
      - {off_hours: true, severity: [critical], action: {policy: night}}
      - {when: {days: [mon, tue, wed, thu, fri], from: "08:00", to: "18:00"}, severity: [high],
         action: {level: 2}}
    levels:
      - {role: first-line, targets: ["user:alice"], delay: 5m}
      - {role: second-line, targets: ["user:bob"], delay: 5m}
  - id: night
    name: Night
    levels:
      - {role: first-line, targets: ["user:erin"], delay: 5m}
"""


def test_off_hours_rules_wait_for_business_hours_or_page_the_night_policy(make: Make) -> None:
    oc = make(OFF_HOURS)
    oc.alert("warn", severity="warning")  # Saturday 02:00: can wait until Monday 08:00
    oc.alert("crit", severity="critical")  # goes to the night policy at once
    warn, crit = oc.h.tickets()
    assert received(oc) == [(0, ERIN_SMS)]
    assert crit.policy["id"] == "night"
    assert [e.message for e in oc.timeline(warn.id) if e.kind == "escalation"] == [
        "rule (off hours, severity info/warning): waiting until business hours"
        " (Mon 09 Mar 08:00 Europe/Berlin)"
    ]
    oc.until(datetime(2026, 3, 9, 7, 0, tzinfo=UTC))  # Monday 08:00 Berlin
    assert received(oc)[-1] == (minutes(oc, datetime(2026, 3, 9, 7, 0, tzinfo=UTC)), ALICE_CHAT)
    oc.alert("high", severity="high")  # Monday 08:00, business hours: straight to level 2
    assert received(oc)[-1][1] == BOB_SMS


def test_overdue_steps_fire_once_in_order_after_the_engines_were_down(make: Make) -> None:
    oc = make(THREE_LEVELS)
    oc.h.generic("gen-key-0123456789abcdef", summary="disk", dedup="disk", source="disk")
    ticket = oc.ticket()
    oc.jump(40 * 60)  # every engine was down from 02:00 to 02:40
    # The first level fires once, at 02:40; the second still gets its five minutes after it.
    assert received(oc) == [(40, ALICE_CHAT)]
    assert [e.kind for e in oc.timeline(ticket.id)].count("paged") == 1
    oc.run(5 * 60)
    assert received(oc) == [(40, ALICE_CHAT), (42, ALICE_SMS), (45, BOB_SMS)]
    levels = [(n.round, n.level, n.user_id, n.contact_id) for n in oc.notifications()]
    assert len(levels) == len(set(levels)) == 3


def test_after_a_level_with_zero_delay_the_next_follows_in_the_same_pass(make: Make) -> None:
    oc = make(THREE_LEVELS.replace("delay: 5m", "delay: 0s"))
    oc.alert()
    assert received(oc) == [(0, ALICE_CHAT), (0, BOB_SMS)]  # bob's level waits 10m


def test_a_ticket_whose_escalation_fails_does_not_hold_back_the_others(make: Make) -> None:
    oc = make(THREE_LEVELS)
    oc.h.generic("gen-key-0123456789abcdef", summary="one", dedup="one", source="one")
    oc.h.generic("gen-key-0123456789abcdef", summary="two", dedup="two", source="two")
    broken, sound = oc.h.tickets()
    bad_level = {"role": "first-line", "targets": ["user:bob"], "delay": "soon"}
    with oc.h.rt.db.begin() as conn:  # a policy frozen by some older version, say
        conn.execute(
            tables.tickets.update()
            .where(tables.tickets.c.id == broken.id)
            .values(policy={**broken.policy, "levels": [bad_level]})
        )
    with pytest.raises(ValueError, match="soon"):
        oc.h.engine.tick()  # the whole pass fails once...
    oc.settle()  # ...then each ticket goes alone, and the bad one waits a minute
    assert received(oc) == [(0, ALICE_CHAT)]
    assert {n.ticket_id for n in oc.notifications()} == {sound.id}
    with oc.h.rt.db.connect() as conn:
        timer = conn.execute(
            tables.timers.select().where(tables.timers.c.ref == str(broken.id))
        ).one()
    assert (minutes(oc, from_epoch(timer.due_at)), timer.attempts) == (1, 1)


def test_notification_rules_can_depend_on_severity(make: Make) -> None:
    oc = make(
        """
escalation_policies:
  - id: main
    name: Main
    levels:
      - {role: first-line, targets: ["user:frank"], delay: 5m}
"""
    )
    oc.alert("slow", severity="warning")  # frank's webhook only
    oc.alert("down", severity="critical")  # his webhook and an SMS
    assert received(oc) == [(0, "/frank"), (0, "/frank"), (0, "sms +491700000006")]
