"""Grafana alerting webhook: the documented example, a resolved group, links, bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from watchkeeper.domain.event import Link
from watchkeeper.errors import InvalidPayload, UnsupportedMediaType
from watchkeeper.ingest.adapters import grafana
from watchkeeper.ingest.adapters.alertmanager import label_hash


def test_documented_example(payload: Callable[[str], bytes], now: datetime) -> None:
    memory, cpu = grafana.parse(payload("grafana_webhook"), "application/json", now=now).events

    assert (memory.action, cpu.action) == ("trigger", "trigger")
    assert (memory.dedup_key, cpu.dedup_key) == ("c6eadffa33fcdf37", "bc97ff14869b13e3")
    assert memory.summary == "This alert was triggered for zone us-1"
    assert memory.severity == "warning"  # no severity label
    assert memory.labels == {"alertname": "High memory usage", "team": "blue", "zone": "us-1"}
    assert memory.annotations["runbook_url"] == "https://myrunbook.com/runbook/1234"
    assert memory.occurred_at == datetime(2021, 10, 12, 7, 51, 3, 157076, tzinfo=UTC)
    assert memory.ends_at is None
    assert memory.details["values"] == {"B": 44.23943737541908, "C": 1}
    assert memory.details["orgId"] == 1
    assert memory.details["state"] == "alerting"
    assert memory.details["title"] == "[FIRING:2]  (blue)"
    assert "message" not in memory.details
    assert [link.text for link in memory.links] == ["Source", "Silence"]  # empty URLs dropped
    assert memory.links[0] == Link("https://play.grafana.org/alerting/1afz29v7z/edit", "Source")
    assert memory.raw["silenceURL"].startswith("https://play.grafana.org/alerting/silence/new")


def test_resolved_group_with_all_links(payload: Callable[[str], bytes], now: datetime) -> None:
    [event] = grafana.parse(payload("grafana_resolved"), None, now=now).events

    assert event.action == "resolve"
    assert event.severity == "high"  # severity=major
    assert event.dedup_key == label_hash(event.labels)  # empty fingerprint
    assert (
        event.summary == "Disk full (__alert_rule_uid__=b8e9f0a1-2c3d-4e5f-8a9b-0c1d2e3f4a5b, "
        "grafana_folder=Infrastructure, instance=db-1, severity=major)"
    )
    assert event.ends_at == datetime(2026, 3, 2, 8, 45, tzinfo=UTC)
    assert [link.text for link in event.links] == [
        "Source",
        "Dashboard",
        "Panel",
        "Silence",
        "Image",
    ]
    assert event.details["valueString"] == "[ var='B' labels={instance=db-1} value=97.5 ]"
    assert "values" not in event.details  # null


def _body(**alert: Any) -> bytes:
    base = {"status": "firing", "labels": {"alertname": "A"}, "startsAt": "2026-03-02T08:00:00Z"}
    return json.dumps({"orgId": 1, "alerts": [{**base, **alert}]}).encode()


@pytest.mark.parametrize(
    "body, field",
    [
        (json.dumps({"orgId": 1, "title": "legacy", "evalMatches": []}).encode(), "alerts"),
        (_body(values=[1, 2]), "alerts[0].values"),
        (_body(dashboardURL=7), "alerts[0].dashboardURL"),
        (_body(startsAt="12 Oct 2021"), "alerts[0].startsAt"),
        (json.dumps({"orgId": "one", "alerts": []}).encode(), "orgId"),
    ],
    ids=[
        "legacy-format",
        "values-not-object",
        "url-not-string",
        "bad-startsAt",
        "orgId-not-int",
    ],
)
def test_invalid_notifications(body: bytes, field: str, now: datetime) -> None:
    with pytest.raises(InvalidPayload) as caught:
        grafana.parse(body, None, now=now)

    assert caught.value.field == field


def test_iso_time_without_offset_is_utc(now: datetime) -> None:
    [event] = grafana.parse(_body(startsAt="2021-10-12 09:51"), None, now=now).events

    assert event.occurred_at == datetime(2021, 10, 12, 9, 51, tzinfo=UTC)


def test_wrong_content_type(now: datetime) -> None:
    with pytest.raises(UnsupportedMediaType):
        grafana.parse(_body(), "text/html", now=now)
