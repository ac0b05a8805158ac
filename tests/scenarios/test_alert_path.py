"""The alert path as a user sees it: alerts converge into tickets and recoveries resolve them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.support.harness import Harness, running

from watchkeeper.storage import tables

T = tables.tickets.c
A = tables.alerts.c
E = tables.events.c


@pytest.fixture
def wk(db_url: str) -> Iterator[Harness]:
    with running(db_url) as h:
        yield h


def test_many_alerts_of_one_service_become_one_ticket_and_recovery_resolves_it(wk: Harness) -> None:
    for name in ("SuccessRateLow", "LatencyHigh", "CPUHigh", "MemoryHigh", "DiskIOHigh"):
        wk.generic(
            summary=f"{name} on checkout", dedup=name, service="checkout", severity="warning"
        )
    wk.generic(
        summary="LatencyHigh on checkout",
        dedup="LatencyHigh",
        service="checkout",
        severity="critical",
    )
    tickets = wk.tickets()
    assert len(tickets) == 1
    assert tickets[0].service_id == "checkout"
    assert tickets[0].severity == "critical"  # the highest of its alerts
    assert tickets[0].alert_count == 5
    # the repeat raised its alert too
    assert {a.dedup_key: a.severity for a in wk.alerts()}["LatencyHigh"] == "critical"
    assert wk.count(tables.events) == 6
    for name in ("SuccessRateLow", "LatencyHigh", "CPUHigh", "MemoryHigh"):
        wk.generic(summary="ok", dedup=name, service="checkout", action="resolve")
    assert wk.tickets()[0].status == "triggered"  # DiskIOHigh still fires
    wk.generic(summary="ok", dedup="DiskIOHigh", service="checkout", action="resolve")
    ticket = wk.tickets()[0]
    assert ticket.status == "resolved"
    assert ticket.mitigated_at is not None and ticket.resolved_at is not None


def test_a_new_alert_after_resolution_opens_a_new_ticket(wk: Harness) -> None:
    wk.generic(summary="disk full", dedup="disk", service="cart")
    wk.generic(summary="disk ok", dedup="disk", service="cart", action="resolve")
    wk.advance(60)
    wk.generic(summary="disk full again", dedup="disk", service="cart")
    tickets = wk.tickets()
    assert [t.status for t in tickets] == ["resolved", "triggered"]
    assert len(wk.alerts()) == 2


def test_dropped_and_muted_events_record_why(wk: Harness) -> None:
    r = wk.post(
        "/integrations/am-key-0123456789abcdef/alertmanager",
        json={
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
                    "labels": {"alertname": "Info", "severity": "info"},
                    "annotations": {},
                    "startsAt": "2026-03-02T08:59:00Z",
                    "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "",
                    "fingerprint": "f1",
                },
                {
                    "status": "firing",
                    "labels": {"alertname": "Stage", "env": "staging"},
                    "annotations": {},
                    "startsAt": "2026-03-02T08:59:00Z",
                    "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "",
                    "fingerprint": "f2",
                },
            ],
        },
    )
    assert r.status_code == 202, r.text
    assert wk.tickets() == []
    dropped, muted = wk.events()
    assert dropped.decision == "dropped" and "info alerts are dashboards only" in dropped.reason
    assert muted.decision == "muted" and "staging never pages" in muted.reason
    assert [a.muted_reason is not None for a in wk.alerts()] == [True]


def test_alert_timeout_resolves_alerts_of_sources_that_never_recover(wk: Harness) -> None:
    wk.generic(summary="batch late", dedup="late", service="batch")
    wk.advance(59 * 60)
    assert wk.alerts()[0].status == "firing"
    wk.advance(2 * 60)
    assert wk.alerts()[0].status == "resolved"
    ticket = wk.tickets()[0]
    assert ticket.mitigated_at is not None
    assert ticket.status == "triggered"  # batch's policy: never auto-resolve


def test_quiet_period_before_auto_resolve(wk: Harness) -> None:
    wk.post(
        "/integrations/am-key-0123456789abcdef/alertmanager",
        json={
            "version": "4",
            "status": "firing",
            "alerts": [
                {
                    "status": "firing",
                    "labels": {"alertname": "SearchSlow", "team": "search"},
                    "fingerprint": "s1",
                    "startsAt": "2026-03-02T08:59:00Z",
                }
            ],
        },
    )
    assert wk.tickets()[0].service_id == "search"
    wk.post(
        "/integrations/am-key-0123456789abcdef/alertmanager",
        json={
            "version": "4",
            "status": "resolved",
            "alerts": [
                {
                    "status": "resolved",
                    "labels": {"alertname": "SearchSlow", "team": "search"},
                    "fingerprint": "s1",
                    "startsAt": "2026-03-02T08:59:00Z",
                    "endsAt": "2026-03-02T09:00:00Z",
                }
            ],
        },
    )
    assert wk.tickets()[0].status == "triggered"
    wk.advance(9 * 60)
    assert wk.tickets()[0].status == "triggered"
    wk.advance(2 * 60)
    assert wk.tickets()[0].status == "resolved"


def test_raw_events_are_pruned_by_age_and_alerts_and_tickets_are_kept(wk: Harness) -> None:
    from watchkeeper.engine.retention import EventRetention

    wk.generic(summary="old", dedup="old", service="cart")
    wk.clock.advance(3 * 86400)
    wk.generic(summary="new", dedup="new", service="cart")
    retention = EventRetention(days=2)
    with wk.rt.db.begin() as conn:
        pruned = retention.update_all(conn, wk.rt.snapshots.current, wk.rt.now())
    assert pruned == 1
    assert [e.dedup_key for e in wk.events()] == ["new"]
    # three days apart: the second alert is past max_group_age (24 h) and opened its own ticket
    assert len(wk.alerts()) == 2 and len(wk.tickets()) == 2
