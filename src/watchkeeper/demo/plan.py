"""Plans the shop's history: every service's incidents at their rate, and the routine around
them (deploys, the nightly export's heartbeat, Alertmanager's watchdog, staging noise,
maintenance windows)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from watchkeeper.demo import incidents, story, wire
from watchkeeper.demo.incidents import Cast, Incident, minutes
from watchkeeper.demo.story import Profile
from watchkeeper.demo.wire import PromAlert

Script = Callable[[Cast, Profile, Incident, datetime], datetime]
SCRIPTS: dict[str, Script] = {
    story.ALERTMANAGER: incidents.alertmanager,
    story.GRAFANA: incidents.grafana,
    story.FLAP: incidents.flap,
    story.PAGERDUTY: incidents.pagerduty,
    story.OPSGENIE: incidents.opsgenie,
    story.GENERIC: incidents.generic,
    story.CLOUDEVENTS: incidents.cloudevents,
    story.FEEDBACK_LATE: partial(incidents.feedback_first, late=True),
    story.FEEDBACK_MISS: partial(incidents.feedback_first, late=False),
    story.CASCADE: incidents.cascade,
}
BERLIN = ZoneInfo("Europe/Berlin")
HEARTBEAT_MISSES_EVERY = 40  # days: the nightly export fails now and then
DEPLOY_FAILURE_RATE = 0.08


def plan(cast: Cast) -> None:
    weeks = (cast.end - cast.start) / timedelta(days=7)
    for profile in story.PROFILES:
        for index in range(int(profile.per_week * weeks + 0.5)):
            _incident(cast, profile, index, _incident_time(cast))
    _deploys(cast)
    _heartbeats(cast)
    _noise(cast)


def _turn(values: tuple[str, ...] | tuple[bool, ...], index: int) -> object:
    return values[index % len(values)]


def _incident(cast: Cast, profile: Profile, index: int, start: datetime) -> None:
    inc = Incident(
        profile.service,
        str(_turn(profile.severities, index)),
        (profile.service, str(_turn(profile.causes, index))),
        bool(_turn(profile.false_alarms, index)),
    )
    script = str(_turn(profile.scripts, index))
    fixed = SCRIPTS[script](cast, profile, inc, start)
    reported = start + minutes(cast.rng.uniform(8, 15))
    if script == story.GRAFANA and profile.service == "web-frontend" and reported < fixed:
        _customers_write_in(cast, inc, reported, fixed)


def _customers_write_in(cast: Cast, inc: Incident, reported: datetime, fixed: datetime) -> None:
    """Customers write in too, after the monitoring found it (not a miss); their report
    stays open until someone resolves the ticket by hand once the fix is confirmed."""
    if cast.rng.random() < 0.5:
        return
    report = wire.feedback(
        cast.keys["support-desk"],
        description="Pages load very slowly and sometimes show an error",
        reporter=cast.rng.choice(story.REPORTERS),
        service="web-frontend",
    )
    cast.later(reported, inc, report)
    user = cast.people.first_line(inc.service, fixed) or "dana"
    done = fixed + minutes(cast.rng.uniform(3, 10))
    cast.sim.at(done, lambda: incidents.each(inc, lambda t: cast.desk.resolve(t, user, "fixed")))


def _incident_time(cast: Cast) -> datetime:
    """Anywhere in the span, more often in working hours (when changes go out)."""
    first = cast.start + timedelta(hours=1)
    span = (cast.end - timedelta(hours=4) - first).total_seconds()
    for _ in range(20):
        at = first + timedelta(seconds=cast.rng.uniform(0, span))
        local = at.astimezone(BERLIN)
        if cast.rng.random() < 0.45 or (local.weekday() < 5 and 9 <= local.hour < 19):
            return at
    return at


def _days(cast: Cast) -> list[datetime]:
    """Local midnights (Berlin) of every day the span touches."""
    day = cast.start.astimezone(BERLIN).replace(hour=0, minute=0, second=0, microsecond=0)
    days = []
    while day < cast.end:
        days.append(day)
        day = (day + timedelta(days=1, hours=2)).replace(hour=0)
    return days


def _within(cast: Cast, at: datetime) -> bool:
    return cast.start < at < cast.end - timedelta(minutes=30)


def _deploys(cast: Cast) -> None:
    """Checkout ships twice a working day; a few deploys break it and are rolled back."""
    key = cast.keys["ci-deploys"]
    build = 4100
    for day in _days(cast):
        if day.weekday() >= 5:
            continue
        for hour in (10.5, 15.0):
            at = day + timedelta(hours=hour, minutes=cast.rng.uniform(-20, 20))
            if not _within(cast, at):
                continue
            build += 1
            change = wire.pagerduty_change(
                key,
                summary=f"Deploy checkout build {build}",
                source="ci.shop.internal",
                at=at,
                details={"service": "checkout", "build": build, "by": "deploy-bot"},
            )
            cast.later(at, None, change)
            if cast.rng.random() < DEPLOY_FAILURE_RATE and _within(cast, at + timedelta(hours=3)):
                _bad_deploy(cast, at, build)


def _bad_deploy(cast: Cast, deployed: datetime, build: int) -> None:
    profile = story.PROFILES[0]  # checkout
    inc = Incident("checkout", "high", ("checkout", "deploy"))
    fixed = incidents.alertmanager(cast, profile, inc, deployed + minutes(cast.rng.uniform(3, 15)))
    rollback = wire.pagerduty_change(
        cast.keys["ci-deploys"],
        summary=f"Roll back checkout build {build}",
        source="ci.shop.internal",
        at=fixed,
        details={"service": "checkout", "build": build - 1, "by": "on-call"},
    )
    cast.later(fixed - minutes(1), None, rollback)


def _heartbeats(cast: Cast) -> None:
    """The nightly catalog export pings when it finishes; now and then it does not, the
    heartbeat alert fires (raised by the engine) and someone re-runs it by hand."""
    key = cast.keys["nightly-export"]
    previous: datetime | None = None
    for index, day in enumerate(_days(cast)):
        at = day + timedelta(hours=2, minutes=10 + cast.rng.uniform(0, 4))
        if not _within(cast, at):
            continue
        if index % HEARTBEAT_MISSES_EVERY == 12 and previous is not None:
            _missed_export(cast, previous + timedelta(hours=25))
            continue
        cast.later(at, None, wire.heartbeat(key))
        previous = at


def _missed_export(cast: Cast, raised: datetime) -> None:
    user = cast.people.first_line("catalog", raised) or "dana"
    acked = raised + minutes(cast.draw(9.0))
    rerun = acked + minutes(cast.rng.uniform(30, 90))

    def ticket() -> int | None:
        return cast.desk.open_ticket(service="catalog", integration="nightly-export")

    def acknowledge() -> None:
        if (found := ticket()) is not None:
            cast.desk.acknowledge(found, user)
            cast.desk.localize(found, user, "catalog", "bug")
            cast.desk.comment(found, user, "Export crashed on a malformed product feed; re-running")

    cast.sim.at(acked, acknowledge)
    cast.later(rerun, None, wire.heartbeat(cast.keys["nightly-export"]))
    cast.counts["incidents"] += 1


def _noise(cast: Cast) -> None:
    """What never becomes a ticket, each for a recorded reason."""
    am = cast.keys["prometheus-main"]
    for index, day in enumerate(_days(cast)):
        watchdog = PromAlert({"alertname": "Watchdog", "severity": "none"}, {}, cast.start)
        at = day + timedelta(hours=7)
        if _within(cast, at):
            cast.later(at, None, wire.alertmanager_group(am, [watchdog]))  # dropped by a filter
        if index % 3 == 1:
            _muted_pair(cast, day + timedelta(hours=cast.rng.uniform(8, 20)), staging=True)
        if day.weekday() == 6:  # the weekly catalog reload runs under a maintenance window
            _muted_pair(cast, day + timedelta(hours=3, minutes=5), staging=False)
    upgrade = cast.start.astimezone(BERLIN) + timedelta(days=40)
    at = upgrade.replace(hour=2, minute=15, second=0, microsecond=0)
    if _within(cast, at):
        lag = PromAlert(
            {
                "alertname": "PostgresReplicationLag",
                "job": "postgres-orders",
                "instance": "pg-orders-2:9187",
                "severity": "high",
            },
            {"summary": "Orders replica more than 60 s behind"},
            at,
        )
        cast.later(at, None, wire.alertmanager_group(am, [lag]))  # muted: the upgrade window
        back = at + minutes(25)
        cast.later(back, None, wire.alertmanager_group(am, wire.resolved([lag], back)))


def _muted_pair(cast: Cast, at: datetime, *, staging: bool) -> None:
    if not _within(cast, at + timedelta(hours=1)):
        return
    if staging:
        labels = {"alertname": "CheckoutErrorRateHigh", "app": "checkout", "env": "staging"}
        summary = "Checkout error rate above 2% (staging)"
    else:
        labels = {"alertname": "CatalogStale", "service": "catalog", "env": "prod"}
        summary = "Catalog data older than 6 hours"
    alert = PromAlert(
        {**labels, "instance": "noise-1:9100", "severity": "warning"}, {"summary": summary}, at
    )
    key = cast.keys["prometheus-main"]
    cast.later(at, None, wire.alertmanager_group(key, [alert]))
    done = at + minutes(cast.rng.uniform(15, 40))
    cast.later(done, None, wire.alertmanager_group(key, wire.resolved([alert], done)))
