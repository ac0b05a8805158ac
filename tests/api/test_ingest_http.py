"""Every wire format over HTTP, in process: a documented example reaches a ticket with the right
service and severity; malformed and hostile input is refused with the right status and a body
that says what is wrong, nothing of it is stored, and every refusal is counted."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from tests.support.harness import Harness, running
from tests.support.processes import scratch_database

from watchkeeper.storage import tables

GEN = "gen-key-0123456789abcdef"
AM = "am-key-0123456789abcdef"
PD = "0123456789abcdef0123456789abcdef"
OG = "og-key-0123456789abcdef"
GRAF = "graf-key-0123456789abcdef"
CE = "ce-key-0123456789abcdef"
HB = "hb-key-0123456789abcdef"
FB = "fb-key-0123456789abcdef"
PROBLEM = "application/problem+json"


@pytest.fixture
def wk(db_url: str) -> Iterator[Harness]:
    with running(db_url) as h:
        yield h


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_wk(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Harness]:
    """One harness per database for the refusal cases (they store nothing, so they can share
    one; each checks the counters it moves against their values before it)."""
    template = request.getfixturevalue("pg_template") if request.param == "postgresql" else None
    with (
        scratch_database(request.param, tmp_path_factory.mktemp("db"), template) as url,
        running(url) as harness,
    ):
        yield harness


def tickets(wk: Harness, **params: Any) -> list[dict[str, Any]]:
    response = wk.api("GET", "/api/v1/tickets", params=params)
    assert response.status_code == 200, response.text
    return sorted(response.json()["tickets"], key=lambda t: t["id"])


def only_ticket(wk: Harness) -> dict[str, Any]:
    found = tickets(wk)
    assert len(found) == 1, found
    return found[0]


def ticket_detail(wk: Harness, ticket_id: int) -> dict[str, Any]:
    response = wk.api("GET", f"/api/v1/tickets/{ticket_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def stored_counts(wk: Harness) -> tuple[int, int, int]:
    return wk.count(tables.events), wk.count(tables.alerts), wk.count(tables.tickets)


def wait_until(check: Any, *, timeout: float = 5.0, what: str = "condition") -> Any:
    """Rejections are written by the writer after the answer: poll briefly."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout}s (last: {value!r})")
        time.sleep(0.02)


# --- every format reaches a ticket ------------------------------------------------------------


def test_generic_json(wk: Harness) -> None:
    response = wk.post(
        f"/integrations/{GEN}/generic",
        json={
            "summary": "Disk full on db-1",
            "details": {"mount": "/var/lib/postgresql", "free_bytes": 0},
            "severity": "critical",
            "service": "cart",
            "dedup": "disk-db-1",
            "labels": {"host": "db-1", "replicas": 3},
            "links": ["https://grafana.example.com/d/disk"],
        },
    )
    assert response.status_code == 202, response.text
    [outcome] = response.json()["events"]
    assert outcome["decision"] == "converged" and outcome["dedup_key"] == "disk-db-1"
    ticket = only_ticket(wk)
    assert (ticket["service"], ticket["severity"]) == ("cart", "critical")
    assert ticket["channel"] == "scripts" and ticket["channel_kind"] == "automatic"
    [alert] = ticket_detail(wk, ticket["id"])["alerts"]
    assert alert["labels"] == {"host": "db-1", "replicas": "3"}


def test_generic_form(wk: Harness) -> None:
    response = wk.post(
        f"/integrations/{GEN}/generic",
        content=b"summary=Checkout+5xx+above+2%25&service=checkout&severity=error"
        b"&dedup=checkout-5xx&labels.region=eu-west-1&link=https://status.example.com",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 202, response.text
    ticket = only_ticket(wk)
    assert (ticket["service"], ticket["severity"]) == ("checkout", "high")  # error -> high
    assert ticket["title"] == "Checkout 5xx above 2%"
    [alert] = ticket_detail(wk, ticket["id"])["alerts"]
    assert alert["labels"] == {"region": "eu-west-1"}


AM_WEBHOOK = {
    "receiver": "watchkeeper",
    "status": "firing",
    "alerts": [
        {
            "status": "firing",
            "labels": {
                "alertname": "HighRequestLatency",
                "instance": "api-1:9090",
                "job": "api",
                "service": "checkout",
                "severity": "page",
            },
            "annotations": {
                "summary": "High request latency on api-1:9090",
                "runbook_url": "https://runbooks.example.com/HighRequestLatency",
            },
            "startsAt": "2026-03-02T08:51:03.157076382Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph?g0.expr=latency&g0.tab=1",
            "fingerprint": "c6eadffa33fcdf37",
        },
        {
            "status": "resolved",
            "labels": {
                "alertname": "HighRequestLatency",
                "instance": "api-2:9090",
                "job": "api",
                "service": "checkout",
                "severity": "page",
            },
            "annotations": {"description": "api-2:9090 has a median request latency above 0.5s"},
            "startsAt": "2026-03-02T08:40:03.157076382+01:00",
            "endsAt": "2026-03-02T08:58:33.157076382Z",
            "generatorURL": "http://prometheus:9090/graph?g0.expr=latency&g0.tab=1",
            "fingerprint": "bc97ff14869b13e3",
        },
    ],
    "groupLabels": {"alertname": "HighRequestLatency"},
    "commonLabels": {"alertname": "HighRequestLatency", "job": "api", "service": "checkout"},
    "commonAnnotations": {},
    "externalURL": "http://alertmanager:9093",
    "version": "4",
    "groupKey": '{}:{alertname="HighRequestLatency"}',
    "truncatedAlerts": 0,
}


def test_alertmanager_webhook(wk: Harness) -> None:
    response = wk.post(f"/integrations/{AM}/alertmanager", json=AM_WEBHOOK)
    assert response.status_code == 202, response.text
    decisions = [e["decision"] for e in response.json()["events"]]
    assert decisions == ["converged", "ignored"]  # a resolved alert we never saw
    ticket = only_ticket(wk)
    assert (ticket["service"], ticket["severity"]) == ("checkout", "critical")  # page
    assert ticket["title"] == "High request latency on api-1:9090"
    # Alertmanager re-sends the group: nothing new.
    assert wk.post(f"/integrations/{AM}/alertmanager", json=AM_WEBHOOK).status_code == 202
    assert only_ticket(wk)["alert_count"] == 1


def test_alertmanager_api_v2(wk: Harness) -> None:
    alerts = [
        {
            "annotations": {"summary": "Instance node-1:9100 is down"},
            "endsAt": "2026-03-02T09:04:00.000Z",
            "startsAt": "2026-03-02T08:30:00.000Z",
            "generatorURL": "http://prometheus:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1",
            "labels": {
                "alertname": "InstanceDown",
                "instance": "node-1:9100",
                "job": "node",
                "severity": "critical",
            },
        },
        {
            "annotations": {"summary": "Instance node-2:9100 is down"},
            "endsAt": "2026-03-02T08:55:00.000Z",
            "startsAt": "2026-03-02T08:20:00.000Z",
            "labels": {"alertname": "InstanceDown", "instance": "node-2:9100", "job": "node"},
        },
    ]
    response = wk.post("/api/v2/alerts", json=alerts, headers={"Authorization": f"Bearer {AM}"})
    assert response.status_code == 200, response.text
    ticket = only_ticket(wk)
    assert (ticket["service"], ticket["severity"]) == ("checkout", "critical")
    assert ticket["alert_count"] == 1  # node-2 had already ended
    wk.advance(5 * 60)  # node-1's endsAt passes without a re-send
    ticket = only_ticket(wk)
    assert ticket["status"] == "resolved"


def test_alertmanager_api_v2_a_resend_with_a_later_ends_at_keeps_the_alert_firing(
    wk: Harness,
) -> None:
    def send(ends: str) -> None:
        alert = {
            "labels": {"alertname": "DiskFull", "instance": "db-1"},
            "startsAt": "2026-03-02T08:50:00Z",
            "endsAt": ends,
        }
        r = wk.post("/api/v2/alerts", json=[alert], headers={"Authorization": f"Bearer {AM}"})
        assert r.status_code == 200, r.text

    send("2026-03-02T09:04:00Z")
    send("2026-03-02T09:04:00Z")  # a plain repeat: counted, nothing else changes
    (alert,) = wk.api("GET", "/api/v1/alerts").json()["alerts"]
    assert alert["event_count"] == 2
    wk.advance(3 * 60)
    send("2026-03-02T09:10:00Z")  # Prometheus re-sends with a later endsAt
    wk.advance(3 * 60)  # past the first endsAt: the re-send moved it
    (alert,) = wk.api("GET", "/api/v1/alerts").json()["alerts"]
    assert (alert["status"], alert["event_count"]) == ("firing", 3)
    assert only_ticket(wk)["status"] == "triggered"
    wk.advance(5 * 60)  # the new endsAt passes without a re-send
    (alert,) = wk.api("GET", "/api/v1/alerts").json()["alerts"]
    assert alert["status"] == "resolved"
    send("2026-03-02T09:30:00Z")  # fires again: a new alert
    assert len(wk.api("GET", "/api/v1/alerts").json()["alerts"]) == 2


GRAFANA = {
    "receiver": "My Super Webhook",
    "status": "firing",
    "orgId": 1,
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "High memory usage", "team": "blue", "zone": "us-1"},
            "annotations": {
                "description": "The system has high memory usage",
                "runbook_url": "https://myrunbook.com/runbook/1234",
                "summary": "This alert was triggered for zone us-1",
            },
            "startsAt": "2021-10-12T09:51:03.157076+02:00",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "https://play.grafana.org/alerting/1afz29v7z/edit",
            "fingerprint": "c6eadffa33fcdf37",
            "silenceURL": "https://play.grafana.org/alerting/silence/new?alertmanager=grafana",
            "dashboardURL": "",
            "panelURL": "",
            "values": {"B": 44.23943737541908, "C": 1},
        },
        {
            "status": "firing",
            "labels": {
                "alertname": "High CPU usage",
                "team": "blue",
                "zone": "eu-1",
                "severity": "major",
            },
            "annotations": {"summary": "This alert was triggered for zone eu-1"},
            "startsAt": "2021-10-12T09:56:03.157076+02:00",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "https://play.grafana.org/alerting/d1rdpdv7k/edit",
            "fingerprint": "bc97ff14869b13e3",
            "values": {"B": 44.23943737541908, "C": 1},
        },
    ],
    "groupLabels": {},
    "commonLabels": {"team": "blue"},
    "commonAnnotations": {},
    "externalURL": "https://play.grafana.org/",
    "version": "1",
    "groupKey": "{}:{}",
    "truncatedAlerts": 0,
    "title": "[FIRING:2]  (blue)",
    "state": "alerting",
    "message": "**Firing**\n\nLabels:\n - alertname = T2\n",
}


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_grafana(wk: Harness, method: str) -> None:
    response = wk.client.request(method, f"/integrations/{GRAF}/grafana", json=GRAFANA)
    assert response.status_code == 202, response.text
    ticket = only_ticket(wk)
    # No service label: the integration's default; the highest severity: major -> high
    # (the first alert has no severity label: warning).
    assert (ticket["service"], ticket["severity"]) == ("checkout", "high")
    assert ticket["alert_count"] == 2
    severities = sorted(a["severity"] for a in ticket_detail(wk, ticket["id"])["alerts"])
    assert severities == ["high", "warning"]


OPSGENIE = {
    "message": "An example alert message",
    "alias": "Life is too short for no alias",
    "description": "Every alert needs a description",
    "responders": [{"name": "NOC", "type": "team"}],
    "visibleTo": [{"name": "rocket_team", "type": "team"}],
    "actions": ["Restart", "AnExampleAction"],
    "tags": ["OverwriteQuietHours", "Critical"],
    "details": {"key1": "value1", "key2": "value2"},
    "entity": "An example entity",
    "priority": "P1",
}


def test_opsgenie_create_acknowledge_and_close_by_alias(wk: Harness) -> None:
    genie = {"Authorization": f"GenieKey {OG}"}
    response = wk.post("/v2/alerts", json=OPSGENIE, headers=genie)
    assert response.status_code == 202, response.text
    assert response.json()["result"] == "Request will be processed"
    assert response.json()["requestId"]
    ticket = only_ticket(wk)
    assert (ticket["service"], ticket["severity"]) == ("cart", "critical")  # P1

    alias = "Life%20is%20too%20short%20for%20no%20alias"
    action = {"user": "Monitoring Script", "source": "AWS Lambda", "note": "on it"}
    response = wk.post(
        f"/v2/alerts/{alias}/acknowledge?identifierType=alias", json=action, headers=genie
    )
    assert response.status_code == 202, response.text
    assert only_ticket(wk)["status"] == "acknowledged"
    assert only_ticket(wk)["acknowledged_by"] == "integration:og"

    response = wk.post(f"/v2/alerts/{alias}/close?identifierType=alias", headers=genie)
    assert response.status_code == 202, response.text
    assert only_ticket(wk)["status"] == "resolved"


def test_cloudevents_structured(wk: Harness) -> None:
    event = {
        "specversion": "1.0",
        "type": "com.example.alert.triggered",
        "source": "https://monitor.example.com/checks",
        "subject": "checkout-latency",
        "id": "5c0b4a1e-1",
        "time": "2026-03-02T08:59:00Z",
        "datacontenttype": "application/json",
        "data": {
            "summary": "Checkout latency above 2s",
            "severity": "error",
            "service": "checkout",
            "labels": {"region": "eu-west-1", "replicas": 3},
        },
    }
    path = f"/integrations/{CE}/cloudevents"
    headers = {"Content-Type": "application/cloudevents+json"}
    response = wk.post(path, content=json.dumps(event), headers=headers)
    assert response.status_code == 202, response.text
    ticket = only_ticket(wk)
    assert (ticket["service"], ticket["severity"]) == ("checkout", "high")
    # The same source+id again is a duplicate, recorded as such.
    response = wk.post(path, content=json.dumps(event), headers=headers)
    assert response.json()["events"][0]["decision"] == "duplicate"
    assert only_ticket(wk)["alert_count"] == 1


def test_cloudevents_binary(wk: Harness) -> None:
    response = wk.post(
        f"/integrations/{CE}/cloudevents",
        content=json.dumps(
            {"summary": "Cart Redis down", "severity": "critical", "service": "cart"}
        ),
        headers={
            "Content-Type": "application/json",
            "ce-specversion": "1.0",
            "ce-id": "evt-0001",
            "ce-source": "/monitoring/redis",
            "ce-type": "com.example.redis.down",
            "ce-subject": "redis-cart",
            "ce-time": "2026-03-02T08:58:00Z",
        },
    )
    assert response.status_code == 202, response.text
    ticket = only_ticket(wk)
    assert (ticket["service"], ticket["severity"]) == ("cart", "critical")
    [alert] = ticket_detail(wk, ticket["id"])["alerts"]
    assert alert["dedup_key"] == "redis-cart" and alert["source"] == "/monitoring/redis"


def test_heartbeat_missed_then_pings_resume(wk: Harness) -> None:
    response = wk.client.get(f"/integrations/{HB}/heartbeat")  # a cron job's curl
    assert response.status_code == 202, response.text
    wk.advance(9 * 60)
    assert tickets(wk) == []  # within the 10m interval
    wk.advance(2 * 60)
    ticket = only_ticket(wk)
    assert (ticket["service"], ticket["severity"]) == ("batch", "high")
    assert "No heartbeat from Nightly job" in ticket["title"]
    response = wk.post(f"/integrations/{HB}/heartbeat", json={"job": "nightly", "rc": 0})
    assert response.status_code == 202, response.text
    [alert] = ticket_detail(wk, ticket["id"])["alerts"]
    assert alert["status"] == "resolved"


def test_feedback_from_a_form_and_from_a_signed_in_person(wk: Harness) -> None:
    response = wk.post(
        f"/integrations/{FB}/feedback",
        json={
            "description": "The pay button does nothing\nTried twice in Firefox",
            "reporter": "customer 4711",
            "contact": "support ticket #991",
            "service": "checkout",
            "severity": "high",
            "impact_start": "2026-03-02T08:45:00Z",
        },
    )
    assert response.status_code == 202, response.text
    ticket = only_ticket(wk)
    assert (ticket["service"], ticket["severity"]) == ("checkout", "high")
    assert ticket["channel_kind"] == "feedback"
    assert ticket["title"] == "The pay button does nothing"
    assert ticket["impact_start"] == "2026-03-02T08:45:00Z"

    response = wk.api(
        "POST", "/api/v1/feedback", json={"description": "Checkout is slow", "severity": "critical"}
    )
    assert response.status_code == 202, response.text
    [outcome] = response.json()["events"]
    assert outcome["ticket_id"] == ticket["id"]  # reports converge by service
    assert only_ticket(wk)["severity"] == "critical"
    assert only_ticket(wk)["alert_count"] == 2


# --- refusals ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bad:
    """A request that must be refused. `counted_as`: the integration id the refusal is counted
    under ("" for an unknown key)."""

    name: str
    path: str
    status: int
    counted_as: str
    names: str | None = None  # the field the answer names
    json_body: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "POST"
    shape: str = "problem"  # or "pagerduty", "opsgenie"
    sampled: bool = True  # the refusal keeps a sample of the body

    def send(self, wk: Harness) -> Any:
        kwargs: dict[str, Any] = {"headers": self.headers}
        if self.json_body is not None:
            kwargs["json"] = self.json_body
        elif self.content is not None:
            kwargs["content"] = self.content
        return wk.client.request(self.method, self.path, **kwargs)


JSON = {"Content-Type": "application/json"}
MANY_LABELS = {f"label{i:03d}": "x" for i in range(200)}
TRIGGER = {
    "event_action": "trigger",
    "payload": {"summary": "s", "source": "h", "severity": "info"},
}

BAD = [
    Bad(
        "invalid JSON",
        f"/integrations/{GEN}/generic",
        400,
        "gen",
        content=b'{"summary": "disk full", ',
        headers=JSON,
    ),
    Bad(
        "wrong content type",
        f"/integrations/{GEN}/generic",
        415,
        "gen",
        names="content-type",
        content=b"<alert>disk full</alert>",
        headers={"Content-Type": "application/xml"},
    ),
    Bad(
        "body over the limit",
        f"/integrations/{GEN}/generic",
        413,
        "gen",
        names="body",
        json_body={"summary": "big", "details": "x" * 600_000},
        sampled=False,
    ),
    Bad(
        "missing summary",
        f"/integrations/{GEN}/generic",
        400,
        "gen",
        names="summary",
        json_body={"service": "cart", "severity": "critical"},
    ),
    Bad(
        "unknown severity",
        f"/integrations/{GEN}/generic",
        400,
        "gen",
        names="severity",
        json_body={"summary": "x", "severity": "apocalyptic"},
    ),
    Bad(
        "too many labels",
        f"/integrations/{GEN}/generic",
        400,
        "gen",
        names="labels",
        json_body={"summary": "x", "labels": MANY_LABELS},
    ),
    Bad(
        "webhook without alerts",
        f"/integrations/{AM}/alertmanager",
        400,
        "am",
        names="alerts",
        json_body={"version": "4", "status": "firing", "receiver": "wk"},
    ),
    Bad(
        "webhook alert with too many labels",
        f"/integrations/{AM}/alertmanager",
        400,
        "am",
        names="alerts[0].labels",
        json_body={"version": "4", "alerts": [{"status": "firing", "labels": MANY_LABELS}]},
    ),
    Bad(
        "API v2 alert with too many labels",
        "/api/v2/alerts",
        400,
        "am",
        names="[0].labels",
        json_body=[{"labels": MANY_LABELS}],
        headers={"Authorization": f"Bearer {AM}"},
    ),
    Bad(
        "API v2 alert without labels",
        "/api/v2/alerts",
        400,
        "am",
        names="[0].labels",
        json_body=[{"annotations": {"summary": "x"}}],
        headers={"Authorization": f"Bearer {AM}"},
    ),
    Bad(
        "API v2 unknown bearer key",
        "/api/v2/alerts",
        401,
        "",
        names="Authorization",
        json_body=[{"labels": {"alertname": "x"}}],
        headers={"Authorization": "Bearer not-a-key-0123456789"},
        sampled=False,
    ),
    Bad(
        "API v2 without a key",
        "/api/v2/alerts",
        401,
        "",
        names="Authorization",
        json_body=[{"labels": {"alertname": "x"}}],
        sampled=False,
    ),
    Bad(
        "Grafana invalid JSON",
        f"/integrations/{GRAF}/grafana",
        400,
        "graf",
        content=b"[not json",
        headers=JSON,
    ),
    Bad(
        "Opsgenie unknown GenieKey",
        "/v2/alerts",
        401,
        "",
        names="Authorization",
        json_body={"message": "x"},
        headers={"Authorization": "GenieKey og-key-unknown-000000"},
        sampled=False,
    ),
    Bad(
        "Opsgenie without message",
        "/v2/alerts",
        422,
        "og",
        names="message",
        json_body={"alias": "no-message", "priority": "P1"},
        headers={"Authorization": f"GenieKey {OG}"},
        shape="opsgenie",
    ),
    Bad(
        "Opsgenie action by id",
        "/v2/alerts/abc-123/close",
        422,
        "og",
        names="identifierType",
        headers={"Authorization": f"GenieKey {OG}"},
        shape="opsgenie",
        sampled=False,
    ),
    Bad(
        "PagerDuty unknown routing key",
        "/v2/enqueue",
        400,
        "",
        names="routing_key",
        json_body={**TRIGGER, "routing_key": "f" * 32},
        shape="pagerduty",
    ),
    Bad(
        "PagerDuty trigger without summary",
        "/v2/enqueue",
        400,
        "pd",
        names="payload.summary",
        json_body={
            "routing_key": PD,
            "event_action": "trigger",
            "payload": {"source": "h", "severity": "error"},
        },
        shape="pagerduty",
    ),
    Bad(
        "PagerDuty unknown action",
        "/v2/enqueue",
        400,
        "pd",
        names="event_action",
        json_body={**TRIGGER, "routing_key": PD, "event_action": "snooze"},
        shape="pagerduty",
    ),
    Bad(
        "CloudEvent without id",
        f"/integrations/{CE}/cloudevents",
        400,
        "ce",
        names="id",
        content=json.dumps({"specversion": "1.0", "source": "/x", "type": "t"}).encode(),
        headers={"Content-Type": "application/cloudevents+json"},
    ),
    Bad(
        "CloudEvent binary without ce- headers",
        f"/integrations/{CE}/cloudevents",
        415,
        "ce",
        names="content-type",
        content=b"disk full",
        headers={"Content-Type": "text/plain"},
    ),
    Bad(
        "feedback without description",
        f"/integrations/{FB}/feedback",
        400,
        "fb",
        names="description",
        json_body={"reporter": "someone", "service": "checkout"},
    ),
    Bad(
        "heartbeat with a body of another type",
        f"/integrations/{HB}/heartbeat",
        415,
        "hb",
        names="content-type",
        content=b"ok",
        headers={"Content-Type": "text/plain"},
    ),
    Bad(
        "unknown key",
        "/integrations/no-such-key-0123456789/generic",
        404,
        "",
        names="key",
        json_body={"summary": "lost"},
        sampled=False,
    ),
    Bad(
        "key of another type",
        f"/integrations/{AM}/generic",
        404,
        "",
        names="key",
        json_body={"summary": "lost"},
        sampled=False,
    ),
    Bad(
        "unknown key for a heartbeat",
        "/integrations/no-such-key-0123456789/heartbeat",
        404,
        "",
        names="key",
        method="GET",
        sampled=False,
    ),
]


COUNTED = ("am", "ce", "fb", "gen", "graf", "hb", "og", "pd", "")


def rejections_of(wk: Harness, integration: str) -> dict[str, Any]:
    response = wk.api("GET", "/api/v1/integrations")
    assert response.status_code == 200, response.text
    listing = response.json()
    if integration == "":
        return dict(listing["unknown_key_rejections"])
    [found] = [i for i in listing["integrations"] if i["id"] == integration]
    return dict(found["rejections"])


def rejection_counts(wk: Harness) -> dict[str, int]:
    response = wk.api("GET", "/api/v1/integrations")
    assert response.status_code == 200, response.text
    listing = response.json()
    counts = {i["id"]: i["rejections"]["count"] for i in listing["integrations"]}
    counts[""] = listing["unknown_key_rejections"]["count"]
    return {i: counts[i] for i in COUNTED}


def metric(wk: Harness, integration: str) -> float:
    response = wk.client.get("/metrics")
    assert response.status_code == 200, response.text
    prefix = f'watchkeeper_rejected_payloads_total{{integration="{integration}"}} '
    for line in response.text.splitlines():
        if line.startswith(prefix):
            return float(line[len(prefix) :])
    return 0.0


@pytest.mark.parametrize("bad", BAD, ids=[b.name for b in BAD])
def test_refused_stored_nothing_and_counted(shared_wk: Harness, bad: Bad) -> None:
    wk = shared_wk
    before = rejection_counts(wk)
    metric_before = metric(wk, bad.counted_as)
    response = bad.send(wk)
    assert response.status_code == bad.status, response.text
    body = response.json()
    if bad.shape == "problem":
        assert response.headers["content-type"].startswith(PROBLEM)
        assert body["status"] == bad.status and body["title"] and body["detail"]
        if bad.names is None:
            assert "JSON" in body["detail"]  # says what is wrong with the body
        else:
            assert body["field"] == bad.names, body
    elif bad.shape == "pagerduty":
        assert body["status"] == "invalid event" and body["message"], body
        assert any(bad.names in error for error in body["errors"]), body
    else:
        assert body["message"] and body["requestId"], body
        assert bad.names in body["errors"], body

    assert stored_counts(wk) == (0, 0, 0)  # no event, alert or ticket

    expected = {**before, bad.counted_as: before[bad.counted_as] + 1}
    wait_until(
        lambda: rejection_counts(wk) == expected,
        what=f"the refusal counted under {bad.counted_as or 'unknown integration'!r} only",
    )
    counted = rejections_of(wk, bad.counted_as)
    assert counted["last_status"] == bad.status
    assert counted["last_error"]
    assert counted["last_remote"]  # the sender's address
    if bad.sampled:
        assert counted["sample"], counted
    assert metric(wk, bad.counted_as) == metric_before + 1
    assert stored_counts(wk) == (0, 0, 0)


def test_a_refused_sample_never_shows_the_routing_key(wk: Harness) -> None:
    """Raw PagerDuty payloads are stored without their routing key (a secret anyone who can
    read events would see); the sample of a refused one must not keep it either."""
    response = wk.post(
        "/v2/enqueue",
        json={"routing_key": PD, "event_action": "trigger", "payload": {"source": "h"}},
    )
    assert response.status_code == 400
    counted = wait_until(lambda: (r := rejections_of(wk, "pd"))["count"] == 1 and r)
    assert counted["sample"] and PD not in counted["sample"]


def test_refusals_add_up_per_integration(wk: Harness) -> None:
    for _ in range(3):
        assert wk.post(f"/integrations/{GEN}/generic", json={"service": "x"}).status_code == 400
    wk.post(f"/integrations/{GEN}/generic", json={"summary": "fine"})
    big = {"summary": "x", "details": "y" * 600_000}
    assert wk.post(f"/integrations/{GEN}/generic", json=big).status_code == 413
    counted = wait_until(lambda: (r := rejections_of(wk, "gen"))["count"] == 4 and r)
    assert counted["last_status"] == 413 and "bytes" in counted["last_error"]
    assert metric(wk, "gen") == 4
    assert wk.count(tables.events) == 1  # only the good one


def test_an_oversized_body_without_content_length_is_refused(wk: Harness) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"summary": "streamed", "details": "'
        for _ in range(150):
            yield b"z" * 4096
        yield b'"}'

    response = wk.post(f"/integrations/{GEN}/generic", content=chunks(), headers=JSON)
    assert response.status_code == 413, response.text
    assert response.json()["field"] == "body"
    assert stored_counts(wk) == (0, 0, 0)


# --- the management API -----------------------------------------------------------------------


def test_management_api_needs_a_token(wk: Harness) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong-token"}, {"Authorization": "Basic eA=="}):
        response = wk.client.get("/api/v1/tickets", headers=headers)
        assert response.status_code == 401, response.text
        assert response.headers["content-type"].startswith(PROBLEM)
        assert response.json()["field"] == "Authorization"
    response = wk.client.post("/api/v1/tickets", json={"title": "x", "service": "cart"})
    assert response.status_code == 401
    assert wk.count(tables.tickets) == 0


def test_open_a_ticket_by_hand(wk: Harness) -> None:
    response = wk.api(
        "POST",
        "/api/v1/tickets",
        json={
            "title": "Customers report failed payments",
            "service": "checkout",
            "severity": "high",
            "description": "three calls to support in ten minutes",
        },
    )
    assert response.status_code == 201, response.text
    ticket = response.json()
    assert ticket["channel_kind"] == "manual" and ticket["status"] == "triggered"
    assert ticket["round"] == 1 and ticket["severity"] == "high"
    assert ticket["service"] == "checkout" and ticket["alert_count"] == 0
    assert [t["id"] for t in tickets(wk)] == [ticket["id"]]
    response = wk.api("POST", f"/api/v1/tickets/{ticket['id']}/acknowledge")
    assert response.status_code == 200 and response.json()["status"] == "acknowledged"


def test_ticket_operations_through_a_life(wk: Harness) -> None:
    wk.generic(summary="Failed payments", dedup="payments", service="checkout", severity="high")
    tid = only_ticket(wk)["id"]

    def op(name: str, **kwargs: Any) -> dict[str, Any]:
        response = wk.api("POST", f"/api/v1/tickets/{tid}/{name}", **kwargs)
        assert response.status_code == 200, (name, response.text)
        return dict(response.json())

    wk.clock.advance(60)
    acked = op("acknowledge", json={"note": "looking"})
    assert acked["status"] == "acknowledged" and acked["acknowledged"] == "2026-03-02T09:01:00Z"
    assert acked["acknowledged_by"] == "admin"
    wk.clock.advance(60)
    resolved = op("resolve", json={"note": "rolled back"})
    assert resolved["status"] == "resolved" and resolved["resolved"] == "2026-03-02T09:02:00Z"
    reopened = op("reopen", json={"note": "it is back"})
    assert reopened["status"] == "triggered" and reopened["round"] == 2
    assert reopened["resolved"] is None

    response = wk.api("POST", f"/api/v1/tickets/{tid}/comments", json={"text": "DB failover"})
    assert response.status_code == 201, response.text

    response = wk.api("PATCH", f"/api/v1/tickets/{tid}", json={"severity": "critical"})
    assert response.status_code == 200, response.text
    assert response.json()["severity"] == "critical"
    assert response.json()["severity_set_by"] == "admin"
    assert response.json()["localized"] is None
    wk.clock.advance(60)
    response = wk.api(
        "PATCH",
        f"/api/v1/tickets/{tid}",
        json={"root_cause": {"service": "payments-api", "category": "deploy"}},
    )
    assert response.status_code == 200, response.text
    assert response.json()["localized"] == "2026-03-02T09:03:00Z"
    assert response.json()["root_cause"] == {"service": "payments-api", "category": "deploy"}
    response = wk.api("PATCH", f"/api/v1/tickets/{tid}", json={"false_alarm": True})
    assert response.json()["false_alarm"] is True

    reassigned = op("reassign", json={"assignee": "bob"})
    assert reassigned["assignee"] == "bob" and "bob" in reassigned["responders"]

    timeline = ticket_detail(wk, tid)["timeline"]
    kinds = [entry["kind"] for entry in timeline]
    for kind in ("opened", "acknowledged", "resolved", "reopened", "comment", "edited"):
        assert kind in kinds, kinds
    assert any(e["kind"] == "comment" and e["message"] == "DB failover" for e in timeline)

    # Bad edits are refused with the field named, and change nothing.
    for patch, name in (
        ({"severity": "apocalyptic"}, "severity"),
        ({"root_cause": {"service": "nope"}}, "root_cause.service"),
        ({"assignee": "bob"}, "assignee"),
    ):
        response = wk.api("PATCH", f"/api/v1/tickets/{tid}", json=patch)
        assert response.status_code == 422, response.text
        assert response.json()["field"] == name
    assert wk.api("GET", f"/api/v1/tickets/{tid}").json()["severity"] == "critical"


def test_unknown_service_for_a_ticket_by_hand(wk: Harness) -> None:
    response = wk.api("POST", "/api/v1/tickets", json={"title": "x", "service": "nope"})
    assert response.status_code == 422
    assert response.json()["field"] == "service"
    assert wk.count(tables.tickets) == 0


def test_merge_two_tickets(wk: Harness) -> None:
    wk.generic(summary="cart errors", dedup="cart-5xx", service="cart", severity="critical")
    wk.generic(summary="checkout errors", dedup="co-5xx", service="checkout", severity="warning")
    cart, checkout = tickets(wk)
    response = wk.api("POST", f"/api/v1/tickets/{cart['id']}/merge", json={"into": checkout["id"]})
    assert response.status_code == 200, response.text
    merged = response.json()
    assert merged["status"] == "resolved" and merged["merged_into"] == checkout["id"]
    target = ticket_detail(wk, checkout["id"])
    assert target["alert_count"] == 2 and target["severity"] == "critical"
    assert {a["dedup_key"] for a in target["alerts"]} == {"cart-5xx", "co-5xx"}
    response = wk.api("POST", f"/api/v1/tickets/{checkout['id']}/merge", json={"into": cart["id"]})
    assert response.status_code == 409, response.text  # not into a resolved ticket


def test_a_source_acknowledgement_acknowledges_the_ticket(wk: Harness) -> None:
    trigger = {
        "routing_key": PD,
        "event_action": "trigger",
        "dedup_key": "srv01/mysql",
        "payload": {"summary": "MySQL down on srv01", "source": "srv01", "severity": "critical"},
    }
    assert wk.post("/v2/enqueue", json=trigger).status_code == 202
    ack = {"routing_key": PD, "event_action": "acknowledge", "dedup_key": "srv01/mysql"}
    response = wk.post("/v2/enqueue", json=ack)
    assert response.status_code == 202, response.text
    assert response.json() == {
        "status": "success",
        "message": "Event processed",
        "dedup_key": "srv01/mysql",
    }
    ticket = only_ticket(wk)
    assert ticket["status"] == "acknowledged"
    assert ticket["acknowledged_by"] == "integration:pd"
    # Acknowledging an unknown key is accepted and does nothing (PagerDuty's rule).
    ack_unknown = {**ack, "dedup_key": "never-seen"}
    assert wk.post("/v2/enqueue", json=ack_unknown).status_code == 202
    assert len(tickets(wk)) == 1


def test_a_silence_mutes_a_new_alert_until_it_is_deleted(wk: Harness) -> None:
    response = wk.api(
        "POST",
        "/api/v1/silences",
        json={"matchers": ["service=cart"], "duration": "2h", "comment": "cart migration"},
    )
    assert response.status_code == 201, response.text
    silence = response.json()
    assert silence["state"] == "active" and silence["created_by"] == "admin"

    outcome = wk.generic(summary="cart latency", dedup="cart-latency", service="cart")
    [event] = outcome["events"]
    assert event["decision"] == "muted"
    assert silence["id"] in event["reason"] and "cart migration" in event["reason"]
    assert tickets(wk) == []
    response = wk.api("GET", "/api/v1/events", params={"dedup_key": "cart-latency"})
    [stored] = response.json()["events"]
    assert stored["decision"] == "muted" and silence["id"] in stored["reason"]
    [alert] = wk.api("GET", "/api/v1/alerts", params={"dedup_key": "cart-latency"}).json()["alerts"]
    assert alert["muted"] and alert["status"] == "firing"

    # Other services are not silenced.
    wk.generic(summary="checkout latency", dedup="co-latency", service="checkout")
    assert [t["service"] for t in tickets(wk)] == ["checkout"]

    response = wk.api("DELETE", f"/api/v1/silences/{silence['id']}")
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "expired"
    assert [t["service"] for t in tickets(wk)] == ["checkout"]  # until the engine runs
    wk.advance(1)  # the engine looks at muted alerts again
    cart = [t for t in tickets(wk) if t["service"] == "cart"]
    assert len(cart) == 1 and cart[0]["status"] == "triggered"
    [alert] = wk.api("GET", "/api/v1/alerts", params={"dedup_key": "cart-latency"}).json()["alerts"]
    assert not alert["muted"] and alert["ticket_id"] == cart[0]["id"]
    # the ticket's page shows its alert's whole story, the muted first event included
    events = ticket_detail(wk, cart[0]["id"])["events"]
    assert [e["decision"] for e in events] == ["muted"]
    wk.generic(summary="cart latency", dedup="cart-latency", service="cart")
    events = ticket_detail(wk, cart[0]["id"])["events"]
    assert [e["decision"] for e in events] == ["deduplicated", "muted"]


def test_bad_silences_are_refused(wk: Harness) -> None:
    for body, name in (
        ({"matchers": ["service=~(("], "duration": "1h", "comment": "x"}, "matchers[0]"),
        ({"matchers": ["service=cart"], "duration": "1h"}, "comment"),
        ({"matchers": ["service=cart"], "duration": "soon", "comment": "x"}, "duration"),
        ({"matchers": ["service=cart"], "comment": "x"}, "ends_at"),
    ):
        response = wk.api("POST", "/api/v1/silences", json=body)
        assert response.status_code == 422, response.text
        assert response.json()["field"] == name, response.json()
    assert wk.api("GET", "/api/v1/silences").json()["silences"] == []


def test_base64_cloudevent_data(wk: Harness) -> None:
    data = base64.b64encode(b'{"summary": "disk full", "severity": "critical"}').decode()
    event = {
        "specversion": "1.0",
        "type": "com.example.someevent",
        "source": "/mycontext",
        "id": "B234-1234-1234",
        "datacontenttype": "application/json",
        "data_base64": data,
    }
    response = wk.post(
        f"/integrations/{CE}/cloudevents",
        content=json.dumps(event),
        headers={"Content-Type": "application/cloudevents+json"},
    )
    assert response.status_code == 202, response.text
    ticket = only_ticket(wk)
    assert (ticket["service"], ticket["severity"], ticket["title"]) == (
        "cart",
        "critical",
        "disk full",
    )


def test_an_alert_shows_its_own_events_and_not_those_of_its_key_s_earlier_alert(
    wk: Harness,
) -> None:
    wk.generic(summary="disk full", dedup="disk", service="cart")
    wk.generic(summary="disk full", dedup="disk", service="cart")
    wk.generic(summary="disk ok", dedup="disk", service="cart", action="resolve")
    wk.generic(summary="disk full again", dedup="disk", service="cart")
    wk.generic(summary="disk full", dedup="other", service="cart")
    first, second = sorted(
        wk.api("GET", "/api/v1/alerts", params={"dedup_key": "disk"}).json()["alerts"],
        key=lambda a: a["id"],
    )
    shown = wk.api("GET", f"/api/v1/alerts/{first['id']}").json()
    assert [e["action"] for e in shown["events"]] == ["resolve", "trigger", "trigger"]
    assert [e["decision"] for e in shown["events"]][1:] == ["deduplicated", "converged"]
    shown = wk.api("GET", f"/api/v1/alerts/{second['id']}").json()
    assert [(e["action"], e["summary"]) for e in shown["events"]] == [
        ("trigger", "disk full again")
    ]
