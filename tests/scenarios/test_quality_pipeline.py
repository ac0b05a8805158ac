"""The report over a history made by the real pipeline: alerts and user reports posted to the
ingest endpoints, the fake clock advanced, tickets acknowledged, edited and resolved through
the API; then GET /api/v1/quality must show exactly what happened."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.support.harness import Harness, running

from watchkeeper.quality.scope import iso

FEEDBACK = "/integrations/fb-key-0123456789abcdef/feedback"
MIN = 60.0


@pytest.fixture
def wk(db_url: str) -> Iterator[Harness]:
    with running(db_url) as h:
        yield h


def _iso(wk: Harness, offset: float) -> str:
    text = iso(wk.clock.now().timestamp() + offset)
    assert text is not None
    return text


def _ticket_of(wk: Harness, service: str) -> dict[str, Any]:
    r = wk.api("GET", "/api/v1/tickets", params={"service": service})
    tickets: list[dict[str, Any]] = r.json()["tickets"]
    return tickets[0]


def test_a_day_of_incidents_through_the_pipeline(wk: Harness) -> None:
    day_start = _iso(wk, 0)[:10]
    # 09:00 checkout alerts; its impact started two minutes before (the alert's timestamp)
    wk.generic(
        summary="checkout errors", dedup="errors", service="checkout", severity="critical",
        timestamp=_iso(wk, -2 * MIN),
    )  # fmt: skip
    checkout = _ticket_of(wk, "checkout")
    wk.advance(2 * MIN)
    assert wk.api("POST", f"/api/v1/tickets/{checkout['id']}/acknowledge").status_code == 200
    wk.advance(8 * MIN)
    root_cause = {"root_cause": {"service": "checkout", "category": "deploy"}}
    assert wk.api("PATCH", f"/api/v1/tickets/{checkout['id']}", json=root_cause).status_code == 200
    wk.advance(5 * MIN)
    wk.generic(summary="ok", dedup="errors", service="checkout", action="resolve")  # 09:15

    # 10:00 a user reports cart; nothing automatic saw it: a miss. Five minutes later an
    # Opsgenie-style alert for cart joins the ticket: a late detection.
    wk.advance(45 * MIN)
    r = wk.post(FEEDBACK, json={"description": "cart page blank", "service": "cart"})
    assert r.status_code == 202, r.text
    wk.advance(5 * MIN)
    wk.generic(summary="cart 5xx", dedup="cart5xx", service="cart", severity="high")
    cart = _ticket_of(wk, "cart")
    assert cart["channel_kind"] == "feedback" and cart["first_automatic_at"] is not None

    # 11:00 a staging alert for search is muted (automatic, seen, opened nothing); a user
    # reports search ten minutes later: not a miss. Nobody acknowledges it.
    wk.advance(55 * MIN)
    wk.generic(summary="search slow", dedup="slow", service="search", labels={"env": "staging"})
    wk.advance(10 * MIN)
    r = wk.post(FEEDBACK, json={"description": "search is slow", "service": "search"})
    assert r.status_code == 202, r.text

    # 12:00 a ticket opened by hand for payments-api, resolved as a false alarm
    wk.advance(50 * MIN)
    r = wk.api(
        "POST", "/api/v1/tickets", json={"title": "card declines?", "service": "payments-api"}
    )
    assert r.status_code == 201, r.text
    manual = r.json()
    wk.advance(MIN)
    assert wk.api("POST", f"/api/v1/tickets/{manual['id']}/acknowledge").status_code == 200
    wk.advance(9 * MIN)
    assert wk.api("PATCH", f"/api/v1/tickets/{manual['id']}", json={"false_alarm": True}).is_success
    assert wk.api("POST", f"/api/v1/tickets/{manual['id']}/resolve").status_code == 200

    r = wk.api("GET", "/api/v1/quality", params={"from": day_start, "to": day_start})
    assert r.status_code == 200, r.text
    body = r.json()
    q, ch, op = body["quality"], body["channel"], body["operational"]

    assert q["counts"]["tickets"] == 4
    assert q["counts"]["by_channel"] == {"manual": 1, "scripts": 1, "support": 2}
    assert q["counts"]["by_root_cause_category"] == {"(none)": 3, "deploy": 1}
    # checkout: TTD 2m, TTA 2m, TTL 8m, TTM 17m (09:15 − 08:58), TTR 15m
    assert q["ttd"]["n"] == 4 and q["ttd"]["median"] == 0  # the others started at detection
    assert q["tta"]["n"] == 2 and q["tta"]["median"] == (2 * MIN + MIN) / 2  # checkout, manual
    assert q["tta"]["excluded"] == 2  # cart and search: never acknowledged
    assert q["ttl"]["n"] == 1 and q["ttl"]["median"] == 8 * MIN
    assert q["ttr"]["n"] == 2 and q["ttr"]["excluded"] == 2  # two still open
    assert q["ttr"]["median"] == (15 * MIN + 10 * MIN) / 2
    assert q["ttm"]["n"] == 2

    discovery = ch["automatic_discovery_rate"]
    assert (discovery["numerator"], discovery["n"]) == (1, 4)  # only checkout
    assert ch["miss_rate"]["numerator"] == 1
    [miss] = ch["miss_rate"]["misses"]
    assert (miss["service"], miss["feedback_channel"]) == ("cart", "support")
    assert miss["latest_ticket"] == cart["id"]
    assert "opsgenie" in miss["should_have_caught"]  # og's default service is cart
    assert ch["late_detection_rate"]["numerator"] == 1
    assert (ch["false_alarm_rate"]["numerator"], ch["false_alarm_rate"]["n"]) == (1, 2)
    # alerts: checkout, cart report, cart 5xx, search (muted), search report = 5; tickets
    # opened by alerts: 3 (the manual one had none)
    noise = ch["noise_reduction"]["overall"]
    assert noise["alerts_to_tickets"]["total"] == 5 and noise["alerts_to_tickets"]["kept"] == 3
    # events: 6 received (the checkout recovery included) → 5 alerts
    assert noise["events_to_alerts"]["total"] == 6 and noise["events_to_alerts"]["kept"] == 5
    assert op["hands_on_time"]["n"] == 2
    assert {r["responder"] for r in op["hands_on_time"]["per_responder"]} == {"admin"}

    mtbf = q["mtbf"]["per_service"]
    assert mtbf["checkout"]["n"] == 1  # critical
    assert mtbf["checkout"]["impact_seconds"] == pytest.approx(17 * MIN)
    assert mtbf["cart"]["n"] == 1  # raised to high by its alert; impact still open
