"""The demo configuration: `shop.yaml`, with the receiver's address and the demo's dates.

Dated objects only make sense on the demo's own calendar, so they are placed here: schedule
overrides that make one person carry more than their share, a past database upgrade and a
live re-index under maintenance windows, and objectives whose baseline is the history's first
half.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from watchkeeper.config.load import load_config
from watchkeeper.config.schema import Config

BERLIN = ZoneInfo("Europe/Berlin")


def _at(day: datetime, hour: int, minute: int = 0) -> datetime:
    local = day.astimezone(BERLIN)
    return local.replace(hour=hour, minute=minute, second=0, microsecond=0)


def _iso(instant: datetime) -> str:
    return instant.isoformat(timespec="seconds")


def demo_document(
    *, receiver_url: str, history_start: datetime, live_start: datetime
) -> dict[str, Any]:
    text = resources.files("watchkeeper.demo").joinpath("shop.yaml").read_text(encoding="utf-8")
    doc: dict[str, Any] = yaml.safe_load(text.replace("${RECEIVER}", receiver_url.rstrip("/")))
    schedules = {s["id"]: s for s in doc["schedules"]}
    # Bob covers Alice's holiday and a week of Chen's sick leave: the overloaded person.
    holiday = _at(history_start + timedelta(days=30), 9)
    sick = _at(history_start + timedelta(days=58), 9)
    schedules["sre-primary"]["overrides"] = [
        {
            "user": "bob",
            "replaces": "alice",
            "from": _iso(holiday),
            "to": _iso(holiday + timedelta(days=14)),
        },
        {
            "user": "bob",
            "replaces": "chen",
            "from": _iso(sick),
            "to": _iso(sick + timedelta(days=7)),
        },
    ]
    upgrade = _at(history_start + timedelta(days=40), 2)
    reindex = live_start - timedelta(minutes=10)
    doc["maintenance_windows"] += [
        {
            "id": "orders-db-upgrade",
            "services": ["orders-db", "payments", "checkout"],
            "starts": _iso(upgrade),
            "ends": _iso(upgrade + timedelta(hours=2)),
            "comment": "PostgreSQL minor upgrade (failover expected)",
        },
        {
            "id": "catalog-reindex",
            "services": ["catalog"],
            "starts": _iso(reindex),
            "ends": _iso(reindex + timedelta(hours=3)),
            "comment": "Full catalog re-index after the data migration",
        },
    ]
    doc["objectives"] = _objectives(history_start, live_start)
    return doc


def _objectives(history_start: datetime, live_start: datetime) -> list[dict[str, Any]]:
    first = history_start.date()
    middle = first + max(timedelta(days=1), (live_start.date() - first) / 2)
    baseline = {"from": first.isoformat(), "to": middle.isoformat()}
    deadline = (live_start.date() + timedelta(days=90)).isoformat()
    return [
        {
            "id": "find-it-first",
            "title": "We find incidents before our customers do",
            "owner": "sre",
            "key_results": [
                {
                    "id": "discovery",
                    "metric": "automatic_discovery_rate",
                    "statistic": "rate",
                    "baseline": baseline,
                    "target": {"absolute": 0.9},
                    "deadline": deadline,
                },
                {
                    "id": "search-misses",
                    "metric": "miss_rate",
                    "statistic": "rate",
                    "scope": {"service": "search"},
                    "baseline": baseline,
                    "target": {"relative": "-50%"},
                    "deadline": deadline,
                },
            ],
        },
        {
            "id": "restore-faster",
            "title": "Customers get their shop back sooner",
            "owner": "payments",
            "key_results": [
                {
                    "id": "checkout-ttr",
                    "metric": "ttr",
                    "statistic": "median",
                    "scope": {"service": "checkout"},
                    "baseline": baseline,
                    "target": {"relative": "-30%"},
                    "deadline": deadline,
                },
                {
                    "id": "fewer-false-alarms",
                    "metric": "false_alarm_rate",
                    "statistic": "rate",
                    "baseline": baseline,
                    "target": {"relative": "-50%"},
                    "deadline": deadline,
                },
            ],
        },
    ]


def demo_config(doc: dict[str, Any]) -> tuple[str, Config]:
    """The document as YAML text, checked as `watchkeeper check-config` would check it."""
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    return text, load_config(text, source="demo shop")
