"""The shop's 90 days, as data: how often each service fails, how its incidents are found,
what they look like to its monitoring, and what usually caused them.

Rates differ on purpose so the quality report has something to say: checkout and the web
shop fail often, the cache rarely; search incidents are mostly reported by customers first;
Grafana's web-shop latency alert flaps and is mostly noise; the orders database takes its
dependents down with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# What an incident's script does; see demo/incidents.py.
ALERTMANAGER = "alertmanager"
GRAFANA = "grafana"
FLAP = "grafana-flap"
PAGERDUTY = "pagerduty"
OPSGENIE = "opsgenie"
GENERIC = "generic"
CLOUDEVENTS = "cloudevents"
FEEDBACK_LATE = "feedback-late"  # a customer reports it; monitoring notices later
FEEDBACK_MISS = "feedback-miss"  # a customer reports it; monitoring never notices
CASCADE = "cascade"  # the orders database fails and takes checkout and payments along


@dataclass(frozen=True, slots=True)
class Profile:
    service: str
    per_week: float
    scripts: tuple[str, ...]  # taken in turn, so every kind shows up even in a short span
    severities: tuple[str, ...]
    causes: tuple[str, ...]  # root-cause categories, taken in turn
    alerts: tuple[tuple[str, str], ...] = ()  # (alertname, summary)
    labels: Mapping[str, str] = field(default_factory=dict)
    false_alarms: tuple[bool, ...] = (False,)  # taken in turn
    fix_minutes: float = 12.0  # median time from localizing to the fix


PROFILES: tuple[Profile, ...] = (
    Profile(
        "checkout",
        1.6,
        (ALERTMANAGER,),
        ("high", "critical", "high", "warning"),
        ("bug", "dependency", "config-change"),
        (
            ("CheckoutErrorRateHigh", "Checkout error rate above 2% for 5 minutes"),
            ("CheckoutLatencyHigh", "Checkout p95 latency above 1.5 s"),
            ("CheckoutPodRestarts", "Checkout pods restarting"),
        ),
        {"app": "checkout", "env": "prod", "job": "checkout"},
    ),
    Profile(
        "payments",
        1.3,
        (PAGERDUTY,),
        ("high", "critical", "high"),
        ("third-party", "third-party", "network"),
        fix_minutes=18.0,
    ),
    Profile(
        "web-frontend",
        0.6,
        (GRAFANA,),
        ("high", "warning"),
        ("deploy", "bug", "capacity"),
        (
            ("FrontendErrorRate", "Web shop 5xx responses above 1%"),
            ("FrontendApdexLow", "Web shop Apdex below 0.8"),
        ),
        {"service": "web-frontend"},
    ),
    Profile(
        "web-frontend",
        2.5,
        (FLAP,),
        ("warning",),
        ("capacity", "monitoring"),
        (("FrontendLatencyP95", "Web shop p95 latency above 1.2 s"),),
        {"service": "web-frontend"},
        false_alarms=(True, True, False),
    ),
    Profile(
        "search",
        1.3,
        (FEEDBACK_LATE, FEEDBACK_MISS, FEEDBACK_LATE, GRAFANA),
        ("high", "warning"),
        ("capacity", "config-change", "bug"),
        (("SearchLatencyHigh", "Search p95 latency above 800 ms"),),
        {"team": "search"},
        fix_minutes=20.0,
    ),
    Profile(
        "cart",
        0.4,
        (ALERTMANAGER,),
        ("high", "warning"),
        ("dependency", "bug"),
        (("CartErrorRateHigh", "Cart API errors above 1%"),),
        {"service": "cart", "env": "prod"},
    ),
    Profile(
        "catalog",
        0.3,
        (ALERTMANAGER,),
        ("warning", "high"),
        ("data", "bug"),
        (("CatalogApiErrors", "Catalog API errors above 0.5%"),),
        {"service": "catalog", "env": "prod"},
    ),
    Profile(
        "inventory",
        1.1,
        (OPSGENIE,),
        ("high", "warning", "critical"),
        ("third-party", "network"),
    ),
    Profile(
        "auth",
        0.5,
        (ALERTMANAGER,),
        ("critical", "high"),
        ("config-change", "capacity"),
        (
            ("LoginErrorsHigh", "Sign-in failures above 3%"),
            ("TokenServiceLatencyHigh", "Token service p99 above 500 ms"),
        ),
        {"env": "prod", "job": "auth"},
    ),
    Profile(
        "notifications-svc",
        0.6,
        (GENERIC,),
        ("warning", "high"),
        ("third-party", "capacity"),
        fix_minutes=25.0,
    ),
    Profile(
        "orders-db",
        0.25,
        (CASCADE,),
        ("critical",),
        ("capacity", "hardware"),
        (
            ("PostgresTooManyConnections", "Orders database connections above 95% of max"),
            ("PostgresReplicationLag", "Orders replica more than 60 s behind"),
        ),
        {"job": "postgres-orders", "env": "prod"},
        fix_minutes=25.0,
    ),
    Profile(
        "cache",
        0.15,
        (ALERTMANAGER,),
        ("high",),
        ("capacity",),
        (("RedisMemoryHigh", "Redis memory above 90%"),),
        {"env": "prod", "job": "redis"},
    ),
    Profile(
        "message-queue",
        0.3,
        (CLOUDEVENTS,),
        ("high", "warning"),
        ("capacity", "network"),
    ),
)

CUSTOMER_REPORTS: tuple[str, ...] = (
    "Search shows no results for anything I type",
    "Searching for 'running shoes' takes forever and then shows an error page",
    "The search box spins and never finishes",
    "Search results are from last week: new products do not show up",
    "I get 'something went wrong' when I filter search results by size",
)
REPORTERS: tuple[str, ...] = ("support: Mia", "support: Jonas", "support: Priya", "chat bot")
