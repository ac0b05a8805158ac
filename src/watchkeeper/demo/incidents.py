"""One script per kind of incident: what the monitoring sends, when, and what people do.

A script plans steps on the simulation: the sender's requests in its wire format (fired,
re-sent, recovered), and the responders' acknowledgement, root cause, fix and review, with
delays drawn from realistic distributions (slower at night, faster as the quarter goes on).
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from watchkeeper.demo import story, wire
from watchkeeper.demo.local_ingest import LocalIngest
from watchkeeper.demo.responders import Responders
from watchkeeper.demo.simulation import Desk, Simulation
from watchkeeper.demo.story import Profile
from watchkeeper.demo.wire import PromAlert, Wire
from watchkeeper.quality.hours import classify

# median minutes to acknowledge by the responder's local time of day
ACK_MEDIAN = {"business": 3.0, "off": 6.0, "sleep": 11.0}
ROOT_CAUSE_UNKNOWN_EVERY = 8  # one incident in eight never gets its root cause set


def minutes(value: float) -> timedelta:
    return timedelta(minutes=value)


@dataclass
class Incident:
    service: str
    severity: str
    cause: tuple[str, str]  # root-cause service and category
    false_alarm: bool = False
    tickets: set[int] = field(default_factory=set)


@dataclass
class Cast:
    """Everything a script needs: the simulation, the senders, the people and the dice."""

    sim: Simulation
    ingest: LocalIngest
    desk: Desk
    people: Responders
    rng: random.Random
    keys: dict[str, str]  # integration id -> key
    start: datetime
    end: datetime
    counts: Counter[str] = field(default_factory=Counter)

    def draw(self, median: float, sigma: float = 0.7) -> float:
        """Minutes from a log-normal distribution with this median."""
        return median * math.exp(self.rng.gauss(0.0, sigma))

    def trend(self, at: datetime) -> float:
        """Responses get faster over the quarter: the team works on its OKRs."""
        progress = (at - self.start) / (self.end - self.start)
        return 1.35 - 0.7 * min(1.0, max(0.0, progress))

    def send(self, incident: Incident | None, request: Wire) -> None:
        for outcome in self.ingest.send(request):
            if incident is not None and outcome.ticket_id is not None:
                incident.tickets.add(outcome.ticket_id)

    def later(self, when: datetime, incident: Incident | None, request: Wire) -> None:
        self.sim.at(when, lambda: self.send(incident, request))


def respond(
    cast: Cast,
    inc: Incident,
    detected: datetime,
    *,
    fix_minutes: float,
    recover: Callable[[datetime], None],
    manual_resolve: bool = False,
    fixed_at: datetime | None = None,
    source_ack: Wire | None = None,
) -> datetime:
    """Plan the people's side of an incident; returns when the fix lands.

    Acknowledge (by whoever the policy has paged by then), find the root cause, fix it (the
    monitoring recovers), resolve by hand where recovery does not, review critical ones."""
    rng, trend = cast.rng, cast.trend(detected)
    first = cast.people.first_line(inc.service, detected) or "alice"
    hour = classify(detected, cast.people.zone(first))
    waited = cast.draw(ACK_MEDIAN[hour] * trend, 0.8)
    waited = min(max(waited, 0.4), 75.0)
    answer = cast.people.answering(inc.service, detected, waited * 60)
    user = answer.user if answer else first
    acked = detected + minutes(waited)
    if source_ack is not None:
        cast.later(acked, inc, source_ack)
    else:
        cast.sim.at(acked, lambda: each(inc, lambda t: cast.desk.acknowledge(t, user)))
    localized = acked + minutes(cast.draw(14 * trend))
    if cast.counts["incidents"] % ROOT_CAUSE_UNKNOWN_EVERY != ROOT_CAUSE_UNKNOWN_EVERY - 1:
        cause_service, category = inc.cause
        cast.sim.at(
            localized,
            lambda: each(inc, lambda t: cast.desk.localize(t, user, cause_service, category)),
        )
    fixed = fixed_at or localized + minutes(cast.draw(fix_minutes * trend, 0.8))
    cast.sim.at(fixed, lambda: recover(fixed))
    if manual_resolve:
        done = fixed + minutes(rng.uniform(2, 12))
        cast.sim.at(done, lambda: each(inc, lambda t: cast.desk.resolve(t, user, "fixed")))
    review(cast, inc, fixed, user)
    cast.counts["incidents"] += 1
    return fixed


def review(cast: Cast, inc: Incident, fixed: datetime, user: str) -> None:
    """Critical and high tickets mostly get a post-incident review a few days later."""
    if inc.severity not in ("critical", "high") or cast.rng.random() > 0.7:
        return
    when = fixed + timedelta(days=cast.rng.uniform(1, 5))
    if when < cast.end:
        note = "post-incident review done"
        cast.sim.at(when, lambda: each(inc, lambda t: cast.desk.close(t, user, note)))


def each(inc: Incident, act: Callable[[int], object]) -> None:
    for ticket_id in sorted(inc.tickets):
        act(ticket_id)


def _alerts(cast: Cast, profile: Profile, severity: str, start: datetime) -> list[PromAlert]:
    count = cast.rng.randint(1, len(profile.alerts))
    chosen = cast.rng.sample(profile.alerts, count)
    return [
        PromAlert(
            labels={
                "alertname": name,
                **profile.labels,
                "instance": f"{profile.service}-{cast.rng.randint(1, 6)}:9100",
                "severity": severity,
            },
            annotations={
                "summary": summary,
                "runbook_url": f"https://runbooks.shop.internal/{profile.service}/{name}",
            },
            starts_at=start,
        )
        for name, summary in chosen
    ]


def alertmanager(cast: Cast, profile: Profile, inc: Incident, start: datetime) -> datetime:
    """Prometheus rules fire after their `for:`; Alertmanager groups, waits, sends, re-sends."""
    key = cast.keys["prometheus-main"]
    detected = start + minutes(cast.rng.uniform(1.5, 6))
    alerts = _alerts(cast, profile, inc.severity, start)

    def recover(at: datetime) -> None:
        cast.send(inc, wire.alertmanager_group(key, wire.resolved(alerts, at)))

    cast.later(detected, inc, wire.alertmanager_group(key, alerts))
    fixed = respond(cast, inc, detected, fix_minutes=profile.fix_minutes, recover=recover)
    _resend(cast, inc, detected, fixed, wire.alertmanager_group(key, alerts))
    return fixed


def _resend(cast: Cast, inc: Incident, first: datetime, until: datetime, request: Wire) -> None:
    """Alertmanager re-sends a firing group every group_interval (5 minutes here), and HA
    pairs send it twice: both are deduplicated."""
    at = first + minutes(5)
    while at < until and at < first + minutes(30):
        cast.later(at, inc, request)
        at += minutes(5)
    if cast.rng.random() < 0.3:
        cast.later(first + timedelta(seconds=2), inc, request)


def grafana(cast: Cast, profile: Profile, inc: Incident, start: datetime) -> datetime:
    key = cast.keys["grafana-main"]
    detected = start + minutes(cast.rng.uniform(1, 5))
    alerts = _alerts(cast, profile, inc.severity, start)
    title = alerts[0].annotations["summary"]

    def recover(at: datetime) -> None:
        cast.send(inc, wire.grafana_group(key, wire.resolved(alerts, at), title=title))

    cast.later(detected, inc, wire.grafana_group(key, alerts, title=title))
    return respond(cast, inc, detected, fix_minutes=profile.fix_minutes, recover=recover)


def flap(cast: Cast, profile: Profile, inc: Incident, start: datetime) -> datetime:
    """A threshold set too tight: the alert fires for a few minutes and recovers by itself.
    Whoever is paged looks, and mostly marks it a false alarm."""
    key = cast.keys["grafana-main"]
    detected = start + minutes(cast.rng.uniform(0.5, 2))
    recovered = detected + minutes(cast.rng.uniform(2, 8))
    alerts = _alerts(cast, profile, inc.severity, start)
    title = alerts[0].annotations["summary"]
    cast.later(detected, inc, wire.grafana_group(key, alerts, title=title))
    cast.later(
        recovered, inc, wire.grafana_group(key, wire.resolved(alerts, recovered), title=title)
    )
    user = cast.people.first_line(inc.service, detected) or "dana"
    acked = detected + minutes(cast.draw(4.0, 0.8))
    if acked < recovered:
        cast.sim.at(acked, lambda: each(inc, lambda t: cast.desk.acknowledge(t, user)))
    verdict = max(acked, recovered) + minutes(cast.rng.uniform(3, 40))
    if inc.false_alarm:
        note = "No customer impact: the latency threshold is too tight"

        def judge() -> None:
            each(inc, lambda t: cast.desk.false_alarm(t, user))
            each(inc, lambda t: cast.desk.comment(t, user, note))

        cast.sim.at(verdict, judge)
    else:
        cause_service, category = inc.cause
        cast.sim.at(
            verdict,
            lambda: each(inc, lambda t: cast.desk.localize(t, user, cause_service, category)),
        )
    cast.counts["incidents"] += 1
    return recovered


def pagerduty(cast: Cast, profile: Profile, inc: Incident, start: datetime) -> datetime:
    """The payment provider's monitoring, through the PagerDuty Events API."""
    key = cast.keys["pagerduty-payments"]
    detected = start + minutes(cast.rng.uniform(0.5, 3))
    dedup = f"psp-{int(start.timestamp())}"
    summary = cast.rng.choice(
        (
            "Card authorization failures above 5%",
            "3-D Secure challenge timeouts rising",
            "Payout API returning 503",
        )
    )
    severity = {"critical": "critical", "high": "error"}.get(inc.severity, "warning")
    trigger = wire.pagerduty_event(
        key,
        "trigger",
        dedup,
        summary=summary,
        source="psp-monitor-eu",
        severity=severity,
        at=start,
        component="payments-gateway",
        details={"merchant": "shop-eu", "failure_rate": round(cast.rng.uniform(5, 30), 1)},
    )

    def recover(_at: datetime) -> None:
        cast.send(inc, wire.pagerduty_event(key, "resolve", dedup))

    cast.later(detected, inc, trigger)
    fixed = respond(cast, inc, detected, fix_minutes=profile.fix_minutes, recover=recover)
    for repeat in (2, 4):  # the provider re-sends while the problem lasts
        if detected + minutes(repeat) < fixed:
            cast.later(detected + minutes(repeat), inc, trigger)
    return fixed


def opsgenie(cast: Cast, profile: Profile, inc: Incident, start: datetime) -> datetime:
    """The warehouse system's alerts, through the Opsgenie API; its operators often
    acknowledge there, which acknowledges our ticket too."""
    key = cast.keys["opsgenie-inventory"]
    detected = start + minutes(cast.rng.uniform(0.5, 4))
    alias = f"wh-sync-{int(start.timestamp())}"
    message = cast.rng.choice(
        (
            "Stock reservation timeouts at warehouse 1",
            "Inventory sync with warehouse lagging 20 min",
            "Warehouse API rejecting stock updates",
        )
    )
    priority = {"critical": "P1", "high": "P2"}.get(inc.severity, "P3")
    create = wire.opsgenie_create(
        key,
        message=message,
        alias=alias,
        priority=priority,
        description="Raised by the warehouse management system",
        entity="warehouse-1",
        tags=["inventory", "warehouse"],
    )
    ack = None
    if cast.rng.random() < 0.5:
        ack = wire.opsgenie_action(key, alias=alias, action="acknowledge", user="wh-operator")

    def recover(_at: datetime) -> None:
        cast.send(inc, wire.opsgenie_action(key, alias=alias, action="close", user="wh-operator"))

    cast.later(detected, inc, create)
    return respond(
        cast,
        inc,
        detected,
        fix_minutes=profile.fix_minutes,
        recover=recover,
        source_ack=ack,
    )


def generic(cast: Cast, profile: Profile, inc: Incident, start: datetime) -> datetime:
    """A cron script watching the e-mail queue; it recovers, but the service's tickets are
    resolved by hand (auto_resolve: never) once someone checked the backlog drained."""
    key = cast.keys["scripts"]
    detected = start + minutes(cast.rng.uniform(2, 10))
    dedup = "order-mail-queue-backlog"
    summary = cast.rng.choice(
        (
            "Order confirmation e-mails delayed by more than 15 minutes",
            "SMS gateway rejecting messages",
        )
    )

    def event(action: str) -> Wire:
        return wire.generic(
            key,
            summary=summary,
            dedup=dedup,
            action=action,
            severity=inc.severity,
            service="notifications-svc",
            labels={"queue": "order-mails"},
            details={"backlog": cast.rng.randint(2_000, 40_000)},
            at=start,
        )

    cast.later(detected, inc, event("trigger"))
    cast.later(detected + minutes(10), inc, event("trigger"))
    return respond(
        cast,
        inc,
        detected,
        fix_minutes=profile.fix_minutes,
        recover=lambda _at: cast.send(inc, event("resolve")),
        manual_resolve=True,
    )


def cloudevents(cast: Cast, profile: Profile, inc: Incident, start: datetime) -> datetime:
    key = cast.keys["cloud-events"]
    detected = start + minutes(cast.rng.uniform(1, 4))
    stamp = int(start.timestamp())

    def event(kind: str, at: datetime) -> Wire:
        return wire.cloudevent(
            key,
            event_id=f"q-{stamp}-{kind}",
            subject="queues/orders/consumer-lag",
            type_=f"com.cloud.monitoring.alert.{kind}",
            at=at,
            data={
                "summary": "Orders queue consumer lag above 50,000 messages",
                "severity": inc.severity,
                "labels": {"queue": "orders"},
            },
        )

    cast.later(detected, inc, event("firing", start))
    return respond(
        cast,
        inc,
        detected,
        fix_minutes=profile.fix_minutes,
        recover=lambda at: cast.send(inc, event("resolved", at)),
    )


def feedback_first(
    cast: Cast, profile: Profile, inc: Incident, start: datetime, *, late: bool
) -> datetime:
    """Customers notice first and the support desk files a report; with `late`, the latency
    alert fires some minutes after the report (late detection), else never (a miss)."""
    report_at = start + minutes(cast.rng.uniform(12, 45))
    report = wire.feedback(
        cast.keys["support-desk"],
        description=cast.rng.choice(story.CUSTOMER_REPORTS),
        reporter=cast.rng.choice(story.REPORTERS),
        service=profile.service,
        severity=inc.severity,
        impact_start=start + minutes(cast.rng.uniform(0, 10)),
        contact="customer via support chat",
    )
    cast.later(report_at, inc, report)
    alerts = _alerts(cast, profile, inc.severity, start)
    title = alerts[0].annotations["summary"]
    key = cast.keys["grafana-main"]
    if late:
        cast.later(
            report_at + minutes(cast.rng.uniform(4, 15)),
            inc,
            wire.grafana_group(key, alerts, title=title),
        )

    def recover(at: datetime) -> None:
        if late:
            cast.send(inc, wire.grafana_group(key, wire.resolved(alerts, at), title=title))

    return respond(
        cast,
        inc,
        report_at,
        fix_minutes=profile.fix_minutes,
        recover=recover,
        manual_resolve=True,  # a customer's report does not recover by itself
    )


def cascade(cast: Cast, profile: Profile, inc: Incident, start: datetime) -> datetime:
    """The orders database saturates; checkout and payments fail with it. Three tickets,
    one root cause, one fix."""
    fixed = alertmanager(cast, profile, inc, start)
    checkout = Incident("checkout", "critical", inc.cause)
    key = cast.keys["prometheus-main"]
    labels = {"app": "checkout", "env": "prod", "job": "checkout", "severity": "critical"}
    alerts = [
        PromAlert(
            {**labels, "alertname": "CheckoutErrorRateHigh", "instance": "checkout-2:9100"},
            {"summary": "Checkout error rate above 2% for 5 minutes"},
            start + minutes(1),
        )
    ]
    at = start + minutes(cast.rng.uniform(3, 6))
    cast.later(at, checkout, wire.alertmanager_group(key, alerts))
    respond(
        cast,
        checkout,
        at,
        fix_minutes=0,
        fixed_at=fixed + minutes(1),
        recover=lambda when: cast.send(
            checkout, wire.alertmanager_group(key, wire.resolved(alerts, when))
        ),
    )
    payments = Incident("payments", "high", inc.cause)
    pd_key = cast.keys["pagerduty-payments"]
    dedup = f"psp-db-{int(start.timestamp())}"
    trigger = wire.pagerduty_event(
        pd_key,
        "trigger",
        dedup,
        summary="Payment captures failing: cannot write to the orders database",
        source="payments-api",
        severity="error",
        at=start + minutes(2),
    )
    at = start + minutes(cast.rng.uniform(4, 7))
    cast.later(at, payments, trigger)
    respond(
        cast,
        payments,
        at,
        fix_minutes=0,
        fixed_at=fixed + minutes(2),
        recover=lambda _when: cast.send(payments, wire.pagerduty_event(pd_key, "resolve", dedup)),
    )
    return fixed
