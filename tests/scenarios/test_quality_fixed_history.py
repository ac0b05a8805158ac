"""Every metric of the report recomputed by hand from a small, fixed history.

The rows are written straight into the tables (a week of seven tickets, their alerts, events,
pages and two changes), so each expected number below can be checked with a pencil. Edge
cases: an unacknowledged ticket, tickets still open, feedback tickets with and without an
automatic event shortly before, overlapping impacts for MTBF, a person in a far time zone
paged at night, a merged ticket and one outside the window.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from tests.support.harness import SHOP, Harness, running
from tests.support.processes import scratch_database

from watchkeeper.clock import from_epoch
from watchkeeper.quality.hours import classify
from watchkeeper.quality.intervals import mtbf as mtbf_in_memory
from watchkeeper.quality.report import build_report
from watchkeeper.quality.scope import Scope, resolve_scope
from watchkeeper.quality.stats import summarize_durations
from watchkeeper.storage import tables

SLO = """
slos:
  - {id: batch-done, service: batch, name: Nightly batch finishes, objective: 99, window: 28d,
     sli: {kind: ratio}}
"""
W0 = datetime(2026, 2, 23, tzinfo=UTC).timestamp()  # Monday
W1 = datetime(2026, 3, 2, tzinfo=UTC).timestamp()  # the next Monday; the clock is 09:00 then
MIN, HOUR, DAY = 60.0, 3600.0, 86400.0


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> float:
    """An instant in February/March 2026 (day 24 = 24 February, day 29 = 1 March)."""
    month, d = (3, day - 28) if day > 28 else (2, day)
    return datetime(2026, month, d, hour, minute, second, tzinfo=UTC).timestamp()


def ticket(tid: int, service: str, severity: str, kind: str, channel: str | None,
           integration: str | None, *, impact: float, detected: float,
           **kw: Any) -> dict[str, Any]:  # fmt: skip
    resolved = kw.get("resolved_at")
    acked = kw.get("acknowledged_at")
    status = "resolved" if resolved else ("acknowledged" if acked else "triggered")
    row: dict[str, Any] = {
        "id": tid, "service_id": service, "group_key": f"g{tid}", "grouping": False,
        "status": status, "title": f"ticket {tid}", "severity": severity,
        "impact_start": impact, "detected_at": detected, "channel_id": channel,
        "channel_kind": kind, "integration_id": integration,
        "first_automatic_at": detected if kind == "automatic" else None,
        "false_alarm": False, "escalation_count": 0, "round": 1, "responders": [],
        "last_alert_at": detected, "alert_count": 1, "updated_at": detected,
        "acknowledged_at": None, "acknowledged_by": None, "localized_at": None,
        "mitigated_at": resolved, "resolved_at": None, "merged_into": None,
        "root_cause_category": None,
    }  # fmt: skip
    row.update(kw)
    return row


TICKETS = [
    # 1: checkout, found by Prometheus; every timestamp set
    ticket(1, "checkout", "critical", "automatic", "prometheus", "am",
           impact=at(24, 10), detected=at(24, 10, 2), acknowledged_at=at(24, 10, 7),
           acknowledged_by="alice", localized_at=at(24, 10, 20), mitigated_at=at(24, 10, 40),
           resolved_at=at(24, 10, 50), root_cause_category="deploy", escalation_count=1),
    # 2: checkout again, its impact overlapping #1's
    ticket(2, "checkout", "high", "automatic", "prometheus", "am",
           impact=at(24, 10, 30), detected=at(24, 10, 31), acknowledged_at=at(24, 10, 41),
           acknowledged_by="bob", mitigated_at=at(24, 11, 30), resolved_at=at(24, 11, 31)),
    # 3: checkout reported by a user, nothing automatic before: a miss; never acknowledged,
    #    still open; an automatic alert joined 10 minutes later (late detection)
    ticket(3, "checkout", "high", "feedback", "support", "fb",
           impact=at(25, 14), detected=at(25, 14, 20), first_automatic_at=at(25, 14, 30)),
    # 4: cart reported by a user 10 minutes after an automatic event: not a miss; false alarm
    ticket(4, "cart", "warning", "feedback", "support", "fb",
           impact=at(26, 8, 45), detected=at(26, 9), acknowledged_at=at(26, 9, 30),
           acknowledged_by="carol", resolved_at=at(26, 10), false_alarm=True),
    # 5: cart from Opsgenie, acknowledged, still open
    ticket(5, "cart", "critical", "automatic", "opsgenie", "og",
           impact=at(27, 19, 55), detected=at(27, 20), acknowledged_at=at(27, 20, 1),
           acknowledged_by="carol"),
    # 6: payments-api opened by hand
    ticket(6, "payments-api", "info", "manual", "manual", None,
           impact=at(28, 12), detected=at(28, 12), acknowledged_at=at(28, 12, 0, 30),
           acknowledged_by="alice", resolved_at=at(28, 12, 30)),
    # 7: search from Prometheus, a false alarm, escalated twice
    ticket(7, "search", "high", "automatic", "prometheus", "am",
           impact=at(29, 2, 58), detected=at(29, 3), acknowledged_at=at(29, 3, 10),
           acknowledged_by="bob", resolved_at=at(29, 3, 20), false_alarm=True,
           root_cause_category="config", escalation_count=2),
    # outside the window, and merged into #1: neither counts
    ticket(8, "checkout", "critical", "automatic", "prometheus", "am",
           impact=at(20, 9), detected=at(20, 9, 5), resolved_at=at(20, 9, 35)),
    ticket(9, "checkout", "critical", "automatic", "prometheus", "am",
           impact=at(24, 10, 1), detected=at(24, 10, 3), merged_into=1,
           resolved_at=at(24, 10, 4)),
]  # fmt: skip

# (ticket, integration, channel, kind, service, alertname, count)
ALERTS = [
    (1, "am", "prometheus", "automatic", "checkout", "CheckoutErrors", 3),
    (2, "am", "prometheus", "automatic", "checkout", "SearchFlap", 1),
    (3, "fb", "support", "feedback", "checkout", None, 1),
    (4, "fb", "support", "feedback", "cart", None, 1),
    (5, "og", "opsgenie", "automatic", "cart", "CartDown", 2),
    (7, "am", "prometheus", "automatic", "search", "SearchFlap", 1),
]

# (ticket, user, contact type, paging, status, sent)
PAGES = [
    (1, "alice", "sms", True, "sent", at(24, 10, 2, 5)),  # Berlin 11:02 Tuesday: business
    (1, "alice", "voice", True, "sent", at(24, 10, 3)),  # same ticket and person: once
    (1, "bob", "sms", True, "sent", at(24, 10, 12)),  # New York 05:12: sleep
    (1, "alice", "email", False, "sent", at(24, 10, 2)),  # e-mail does not interrupt
    (3, "carol", "sms", True, "sent", at(25, 14, 21)),  # Tokyo 23:21: sleep
    (5, "carol", "voice", True, "sent", at(27, 20, 0, 10)),  # Tokyo 05:00 Saturday: sleep
    (5, "bob", "sms", True, "failed", at(27, 20, 0, 10)),  # never reached him
    (6, "alice", "slack", True, "sent", at(28, 12, 0, 5)),  # Berlin 13:00 Saturday: off
    (7, "bob", "sms", True, "sent", at(29, 3, 0, 5)),  # New York 22:00 Saturday: sleep
    (7, "alice", "sms", True, "sent", at(29, 3, 5)),  # Berlin 04:05 Sunday: sleep
]


def seed(wk: Harness) -> None:
    alert_rows, event_rows = [], []
    for tid, integration, channel, kind, service, rule, count in ALERTS:
        detected = next(t["detected_at"] for t in TICKETS if t["id"] == tid)
        for k in range(count):
            aid = len(alert_rows) + 1
            labels = {"alertname": rule} if rule else {}
            alert_rows.append(
                {
                    "id": aid, "scope": integration, "dedup_key": f"{tid}-{k}",
                    "status": "resolved", "integration_id": integration, "channel_id": channel,
                    "channel_kind": kind, "service_id": service, "ticket_id": tid,
                    "severity": "warning", "summary": "s", "title": "t", "labels": labels,
                    "annotations": {}, "details": {}, "links": [], "event_count": 2,
                    "starts_at": detected, "first_event_at": detected + k,
                    "last_event_at": detected + k + 60,
                }
            )  # fmt: skip
            for action in ("trigger", "resolve"):
                event_rows.append(_event(integration, channel, kind, service, detected + k, action))
    # an automatic event for cart 10 minutes before #4 (muted, so it opened nothing), one for
    # checkout two hours before #3 (outside the look-back), and a heartbeat ping (not counted)
    event_rows.append(_event("am", "prometheus", "automatic", "cart", at(26, 8, 50), "trigger"))
    event_rows.append(
        _event("am", "prometheus", "automatic", "checkout", at(25, 12, 20), "trigger")
    )
    ping = _event("hb", "cron", "automatic", "batch", at(25, 1), "trigger")
    ping["kind"] = "heartbeat"
    event_rows.append(ping)
    zones = {"alice": "Europe/Berlin", "bob": "America/New_York", "carol": "Asia/Tokyo"}
    page_rows = [
        {
            "ticket_id": tid, "round": 1, "level": i, "user_id": user,
            "contact_id": f"{user}-{kind}", "contact_type": kind, "kind": "page",
            "delivery_id": f"d{i}", "status": status,
            "paging": paging, "created_at": sent, "due_at": sent, "sent_at": sent,
            "time_zone": zones[user], "hour_class": classify(from_epoch(sent), zones[user]),
        }
        for i, (tid, user, kind, paging, status, sent) in enumerate(PAGES)
    ]  # fmt: skip
    changes = [
        {"received_at": at(24, 9), "occurred_at": at(24, 9), "service_id": "checkout",
         "summary": "deploy checkout", "details": {}, "links": []},
        {"received_at": at(25, 0), "occurred_at": at(25, 0), "service_id": "cart",
         "summary": "deploy cart", "details": {}, "links": []},
    ]  # fmt: skip
    with wk.rt.db.begin() as conn:
        conn.execute(tables.tickets.insert(), TICKETS)
        conn.execute(tables.alerts.insert(), alert_rows)
        conn.execute(tables.events.insert(), event_rows)
        conn.execute(tables.notifications.insert(), page_rows)
        conn.execute(tables.change_events.insert(), changes)


def _event(
    integration: str, channel: str, kind: str, service: str, when: float, action: str
) -> dict[str, Any]:
    return {
        "received_at": when, "integration_id": integration, "channel_id": channel,
        "channel_kind": kind, "action": action, "kind": "alert", "dedup_key": "k",
        "service_id": service, "severity": "warning", "summary": "s", "labels": {},
        "decision": "converged",
    }  # fmt: skip


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def wk(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Harness]:
    """One seeded server per database for the whole module: the tests only read."""
    template = request.getfixturevalue("pg_template") if request.param == "postgresql" else None
    with (
        scratch_database(request.param, tmp_path_factory.mktemp("db"), template) as url,
        running(url, SHOP.read_text() + SLO) as h,
    ):
        seed(h)
        yield h


def report(wk: Harness, **filters: Any) -> dict[str, Any]:
    with wk.rt.db.connect() as conn:
        scope = resolve_scope(
            conn, now=wk.rt.now(), start="2026-02-23", end="2026-03-01", **filters
        )
        assert (scope.start, scope.end) == (W0, W1)
        return build_report(conn, scope)


def rate(figure: dict[str, Any]) -> tuple[int, int]:
    return figure["numerator"], figure["denominator"]


# --- layer 4: quality ------------------------------------------------------------------------

DURATIONS_BY_HAND = {
    # TTD = detected − impact_start of the seven tickets
    "ttd": [120, 60, 1200, 900, 300, 0, 120],
    # TTA = acknowledged − detected; #3 was never acknowledged
    "tta": [300, 600, 1800, 60, 30, 600],
    # TTL = localized − acknowledged; only #1 has a root cause time
    "ttl": [780],
    # TTM = mitigated − impact_start; #3 and #5 are still open
    "ttm": [2400, 3600, 4500, 1800, 1320],
    # TTR = resolved − detected
    "ttr": [2880, 3600, 3600, 1800, 1200],
}


def test_times_to_detect_acknowledge_localize_mitigate_resolve(wk: Harness) -> None:
    q = report(wk)["quality"]
    for name, values in DURATIONS_BY_HAND.items():
        expected = summarize_durations(values)
        got = q[name]
        assert got["n"] == len(values), name
        assert got["median"] == pytest.approx(expected.median), name
        assert got["p90"] == pytest.approx(expected.p90), name
        assert got["mean"] == pytest.approx(sum(values) / len(values)), name
        assert got["excluded"] == 7 - len(values), name
        assert got["p90_ci95"] is None, name  # n < 29
    # by hand: TTD sorted 0 60 120 120 300 900 1200 → median 120, p90 = 900 + 0.4·300
    assert q["ttd"]["median"] == 120 and q["ttd"]["p90"] == pytest.approx(1020)
    assert q["ttd"]["median_ci95"] == [0, 1200]  # n = 7: ranks 1 and 7
    # TTA: 30 60 300 600 600 1800 → median (300 + 600) / 2, p90 = 600 + 0.5·1200
    assert q["tta"]["median"] == 450 and q["tta"]["p90"] == pytest.approx(1200)
    assert "1 of 7 tickets excluded: not acknowledged" in q["tta"]["note"]
    assert "not resolved yet" in q["ttr"]["note"]
    assert q["ttl"]["median_ci95"] is None and "too small" in q["ttl"]["note"]


def test_mtbf_takes_the_union_of_overlapping_and_open_impacts(wk: Harness) -> None:
    mtbf = report(wk)["quality"]["mtbf"]
    assert mtbf["severity_threshold"] == "high"
    week = W1 - W0
    per = mtbf["per_service"]
    # checkout: #1 10:00–10:40 and #2 10:30–11:30 overlap (5,400 s together), #3 is open
    # from 25 Feb 14:00 to the window's end (381,600 s): (week − 387,000) ÷ 3
    assert per["checkout"]["impact_seconds"] == pytest.approx(5400 + 381600)
    assert per["checkout"]["seconds"] == pytest.approx((week - 387000) / 3)
    # cart: only #5 (critical, open since 27 Feb 19:55); #4 is below the threshold
    assert per["cart"]["seconds"] == pytest.approx(week - (DAY * 2 + 4 * HOUR + 5 * MIN))
    assert per["search"]["seconds"] == pytest.approx(week - 22 * MIN)
    assert per["payments-api"]["seconds"] is None  # its one ticket is info
    assert per["payments-api"]["note"] == "no failures in window"
    assert per["batch"]["n"] == 0
    # the same as the in-memory definition
    spans = [(at(24, 10), at(24, 10, 40)), (at(24, 10, 30), at(24, 11, 30)), (at(25, 14), None)]
    expected = mtbf_in_memory(spans, (W0, W1), n_tickets=3)
    assert per["checkout"]["seconds"] == pytest.approx(expected.seconds)


def test_counts_per_service_week_severity_category_and_channel(wk: Harness) -> None:
    counts = report(wk)["quality"]["counts"]
    assert counts["tickets"] == 7
    assert counts["by_severity"] == {"critical": 2, "high": 3, "info": 1, "warning": 1}
    assert counts["by_root_cause_category"] == {"(none)": 5, "config": 1, "deploy": 1}
    assert counts["by_channel"] == {"manual": 1, "opsgenie": 1, "prometheus": 3, "support": 2}
    assert counts["weeks"] == ["2026-02-23"]
    checkout = counts["per_service"]["checkout"]["per_week"]["2026-02-23"]
    assert checkout["by_severity"] == {"critical": 1, "high": 2}


def test_dora_links_a_change_to_tickets_detected_within_four_hours(wk: Harness) -> None:
    dora = report(wk)["quality"]["dora"]
    # checkout's deploy at 09:00 precedes #1 (10:02) and #2 (10:31); cart's has no ticket
    assert rate(dora["change_failure_rate"]) == (1, 2)
    recovery = dora["failed_deployment_recovery_time"]
    assert recovery["n"] == 2 and recovery["median"] == pytest.approx((2400 + 3600) / 2)


# --- layer 3: channel ------------------------------------------------------------------------


def test_discovery_miss_late_and_false_alarm_rates(wk: Harness) -> None:
    ch = report(wk)["channel"]
    assert rate(ch["automatic_discovery_rate"]) == (4, 7)  # 1, 2, 5, 7
    assert rate(ch["automatic_discovery_rate"]["per_service"]["cart"]) == (1, 2)
    assert rate(ch["miss_rate"]) == (1, 7)  # only #3: #4 had an automatic event first
    [miss] = ch["miss_rate"]["misses"]
    assert miss["service"] == "checkout" and miss["feedback_channel"] == "support"
    assert miss["latest_ticket"] == 3
    assert miss["should_have_caught"] == ["grafana", "prometheus"]
    assert rate(ch["late_detection_rate"]) == (1, 7)
    assert rate(ch["late_detection_rate"]["of_feedback_tickets"]) == (1, 2)
    # false alarms ÷ resolved: #4 and #7 of 1, 2, 4, 6, 7
    assert rate(ch["false_alarm_rate"]) == (2, 5)
    per = ch["false_alarm_rate"]["per_integration"]
    assert rate(per["am"]) == (1, 3) and rate(per["fb"]) == (1, 1)
    assert rate(per["(none)"]) == (0, 1)
    [rule] = ch["false_alarm_rate"]["per_rule"]  # #4's feedback alert has no alertname
    assert (rule["integration"], rule["rule"], rule["false_alarms"]) == ("am", "SearchFlap", 1)
    assert rate(rule["share_of_false_alarms"]) == (1, 2)  # #7 of the false alarms #4 and #7
    ci = ch["false_alarm_rate"]["ci95"]
    assert ci is not None and ci[0] < 0.4 < ci[1]


def test_noise_reduction_and_coverage(wk: Harness) -> None:
    ch = report(wk)["channel"]
    noise = ch["noise_reduction"]
    # 9 alerts opened 6 tickets (the manual one had none); 20 events (18 of those alerts,
    # 2 without a ticket; the heartbeat ping is not counted) → 9 alerts
    assert rate(noise["overall"]["alerts_to_tickets"]) == (3, 9)
    assert rate(noise["overall"]["events_to_alerts"]) == (11, 20)
    assert rate(noise["per_integration"]["og"]["alerts_to_tickets"]) == (1, 2)
    assert rate(noise["per_service"]["checkout"]["alerts_to_tickets"]) == (2, 5)
    cov = ch["coverage"]
    # checkout, cart and search had automatic channels open tickets; batch has an SLO
    assert rate(cov) == (4, 5)
    rows = {r["service"]: r for r in cov["services"]}
    assert not rows["payments-api"]["covered"]
    assert rows["batch"]["has_slo"] and rows["batch"]["covered"]
    assert rows["cart"]["cells"]["opsgenie"] == {"tickets": 1, "alerts": 2}
    assert rows["payments-api"]["cells"]["manual"]["tickets"] == 1


# --- layer 2: operational --------------------------------------------------------------------


def test_interruptions_per_person_split_by_local_time(wk: Harness) -> None:
    inter = report(wk)["operational"]["interruptions"]
    people = {p["user"]: p for p in inter["per_person"]}
    assert {k: people["alice"][k] for k in ("total", "business", "off", "sleep")} == {
        "total": 3, "business": 1, "off": 1, "sleep": 1,
    }  # fmt: skip
    assert people["bob"]["sleep"] == 2 and people["bob"]["total"] == 2  # the failed page: no
    # Tokyo: both of carol's pages came at night there, in the afternoon/morning in UTC
    assert people["carol"]["sleep"] == 2 and people["carol"]["business"] == 0
    assert inter["total"]["total"] == 7 and inter["total"]["sleep"] == 5
    [week] = inter["per_week"]
    assert week["week"] == "2026-02-23" and week["per_person"]["carol"]["sleep"] == 2
    team = {b["team"]: b for b in inter["balance"]}
    assert team["payments"]["total"] == 5 and team["payments"]["members"] == 2


def test_hands_on_time_and_escalations(wk: Harness) -> None:
    op = report(wk)["operational"]
    hands = op["hands_on_time"]
    assert hands["n"] == 5  # acknowledged and resolved: 1, 2, 4, 6, 7
    per = {r["responder"]: r for r in hands["per_responder"]}
    assert per["alice"]["tickets"] == 2 and per["alice"]["total_seconds"] == pytest.approx(
        (43 * MIN) + (29 * MIN + 30)
    )
    assert per["bob"]["total_seconds"] == pytest.approx(50 * MIN + 10 * MIN)
    esc = op["escalations_per_ticket"]
    assert esc["total"] == 3 and esc["mean"] == pytest.approx(3 / 7)
    assert esc["distribution"] == {"0": 5, "1": 1, "2": 1, "3+": 0}
    assert op["tickets_per_shift"]["value"] is None


# --- layer 1, filters and the comparison -----------------------------------------------------


def test_slo_layer_reports_configuration_without_inventing_numbers(wk: Harness) -> None:
    slo = report(wk)["slo"]
    [only] = slo["slos"]
    assert only["id"] == "batch-done" and only["target"] == pytest.approx(0.99)
    assert only["window_seconds"] == 28 * DAY
    assert only["sli_ratio"] is None and only["error_budget_remaining"] is None
    assert "no SLI data is recorded yet" in slo["note"]


@pytest.mark.parametrize(
    ("filters", "tickets", "interruptions"),
    [
        ({"service": "checkout"}, 3, 3),
        ({"team": "storefront"}, 3, 3),  # cart, search, batch: #4, #5, #7
        ({"severity": "high"}, 5, 6),  # at least high: not #4 (warning) or #6 (info)
    ],
    ids=["service", "team", "severity"],
)
def test_filters(wk: Harness, filters: dict[str, str], tickets: int, interruptions: int) -> None:
    body = report(wk, **filters)
    assert body["quality"]["counts"]["tickets"] == tickets
    assert body["operational"]["interruptions"]["total"]["total"] == interruptions


def test_compare_to_the_previous_window(wk: Harness) -> None:
    with wk.rt.db.connect() as conn:
        scope = Scope(start=W0, end=W1, now=wk.rt.now())
        body = build_report(conn, scope, compare_to="previous")
    comp = body["comparison"]
    assert comp["previous_window"]["from"] == "2026-02-16T00:00:00Z"
    changes = {c["metric"]: c for c in comp["changes"]}
    tickets = changes["quality.counts.tickets"]
    assert tickets["previous"] == 1 and tickets["current"] == 7  # #8 was the week before
    ttr = changes["quality.ttr.median"]
    assert ttr["previous"] == 30 * MIN and ttr["current"] == 2880
    assert ttr["difference"] == 2880 - 30 * MIN
    # one ticket the week before, five now: no bootstrap on samples that small
    assert ttr["ci95"] is None and ttr["significant"] is None
    assert ttr["note"] == "n too small: each period needs n ≥ 6 for a median change"
    discovery = changes["channel.automatic_discovery_rate"]
    assert discovery["difference"] == pytest.approx(4 / 7 - 1)
    assert discovery["ci95"][0] < 0 < discovery["ci95"][1]  # Newcombe: 1 of 1 against 4 of 7
    assert discovery["note"] == "not significant"


def test_http_endpoint_and_its_errors(wk: Harness) -> None:
    r = wk.api("GET", "/api/v1/quality", params={"from": "2026-02-23", "to": "2026-03-01"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) >= {"slo", "operational", "channel", "quality"}
    assert body["quality"]["ttr"]["n"] == 5
    bad = wk.api("GET", "/api/v1/quality", params={"service": "nope"})
    assert bad.status_code == 422 and "checkout" in bad.json()["allowed"]
    assert wk.api("GET", "/api/v1/quality", params={"from": "yesterday"}).status_code == 422
    assert wk.client.get("/api/v1/quality").status_code == 401
