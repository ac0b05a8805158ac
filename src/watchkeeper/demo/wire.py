"""The requests real senders make, in their own wire formats: what the demo sends.

Each builder returns a `Wire`: one HTTP request as Alertmanager, Prometheus, Grafana, a
PagerDuty or Opsgenie client, a script, a cloud provider, a cron job or a support tool would
send it. The live replay sends them over HTTP; the history feeds the same bytes to the ingest
adapters in-process (`demo/local_ingest.py`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import msgspec

JSON = "application/json"
STILL_FIRING = "0001-01-01T00:00:00Z"  # Alertmanager's endsAt for an alert that still fires


@dataclass(frozen=True, slots=True)
class Wire:
    """One request. `format` names the adapter; `key` is the integration key it carries."""

    format: str
    method: str
    path: str
    key: str
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)  # path parameters and query

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")


@dataclass(frozen=True, slots=True)
class PromAlert:
    """One Prometheus alert: its labels say what it is, annotations say what to do."""

    labels: Mapping[str, str]
    annotations: Mapping[str, str] = field(default_factory=dict)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    resolved: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)  # Grafana's per-alert fields


def resolved(alerts: Sequence[PromAlert], at: datetime) -> list[PromAlert]:
    """The same alerts, as their sender reports them once they stopped firing at `at`."""
    return [
        PromAlert(a.labels, a.annotations, a.starts_at, at, resolved=True, extra=a.extra)
        for a in alerts
    ]


def rfc3339(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _json(value: Any) -> bytes:
    return msgspec.json.encode(value)


def fingerprint(labels: Mapping[str, str]) -> str:
    """A stable 16-hex fingerprint of a label set, as Alertmanager gives each alert."""
    canonical = "\x1f".join(f"{k}={v}" for k, v in sorted(labels.items()))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _webhook_alert(alert: PromAlert, generator: str) -> dict[str, Any]:
    return {
        "status": "resolved" if alert.resolved else "firing",
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
        "startsAt": rfc3339(alert.starts_at) if alert.starts_at else STILL_FIRING,
        "endsAt": rfc3339(alert.ends_at) if alert.resolved and alert.ends_at else STILL_FIRING,
        "generatorURL": f"{generator}/graph?g0.expr={quote(alert.labels.get('alertname', ''))}",
        "fingerprint": fingerprint(alert.labels),
        **alert.extra,
    }


def _group(alerts: Sequence[PromAlert], group_by: Sequence[str]) -> dict[str, Any]:
    common = dict(alerts[0].labels)
    for alert in alerts[1:]:
        common = {k: v for k, v in common.items() if alert.labels.get(k) == v}
    group_labels = {k: common[k] for k in group_by if k in common}
    return {
        "status": "firing" if any(not a.resolved for a in alerts) else "resolved",
        "groupLabels": group_labels,
        "commonLabels": common,
        "commonAnnotations": {},
        "groupKey": "{}:{" + ", ".join(f'{k}="{v}"' for k, v in group_labels.items()) + "}",
        "truncatedAlerts": 0,
    }


def alertmanager_group(
    key: str, alerts: Sequence[PromAlert], *, group_by: Sequence[str] = ("alertname",)
) -> Wire:
    """An Alertmanager webhook (version 4): one POST per group, firing and resolved mixed."""
    body = {
        "version": "4",
        "receiver": "watchkeeper",
        "externalURL": "http://alertmanager.shop.internal:9093",
        **_group(alerts, group_by),
        "alerts": [_webhook_alert(a, "http://prometheus.shop.internal:9090") for a in alerts],
    }
    return Wire(
        "alertmanager",
        "POST",
        f"/integrations/{key}/alertmanager",
        key,
        _json(body),
        {"content-type": JSON, "user-agent": "Alertmanager/0.27.0"},
    )


def prometheus_alerts(key: str, alerts: Sequence[PromAlert]) -> Wire:
    """Prometheus posting to its Alertmanager API v2: an `endsAt` a few minutes ahead while
    firing, in the past once resolved."""
    body = [
        {
            "labels": dict(a.labels),
            "annotations": dict(a.annotations),
            **({"startsAt": rfc3339(a.starts_at)} if a.starts_at else {}),
            **({"endsAt": rfc3339(a.ends_at)} if a.ends_at else {}),
            "generatorURL": "http://prometheus.shop.internal:9090/graph",
        }
        for a in alerts
    ]
    return Wire(
        "alertmanager-api",
        "POST",
        "/api/v2/alerts",
        key,
        _json(body),
        {
            "content-type": JSON,
            "authorization": f"Bearer {key}",
            "user-agent": "Prometheus/2.53.0",
        },
    )


def grafana_group(key: str, alerts: Sequence[PromAlert], *, title: str) -> Wire:
    """A Grafana alerting notification: Alertmanager's envelope plus Grafana's fields."""
    firing = any(not a.resolved for a in alerts)
    rendered = [
        {
            **_webhook_alert(a, "https://grafana.shop.internal/alerting"),
            "dashboardURL": "https://grafana.shop.internal/d/shop-overview",
            "panelURL": "https://grafana.shop.internal/d/shop-overview?viewPanel=4",
            "silenceURL": "https://grafana.shop.internal/alerting/silence/new",
            "values": {"A": round(2.0 + len(a.labels) * 0.37, 2)},
        }
        for a in alerts
    ]
    body = {
        "receiver": "watchkeeper",
        "version": "1",
        "orgId": 1,
        "externalURL": "https://grafana.shop.internal/",
        **_group(alerts, ("alertname",)),
        "state": "alerting" if firing else "ok",
        "title": f"[{'FIRING' if firing else 'RESOLVED'}:{len(alerts)}] {title}",
        "message": f"{title}\nSee the dashboard for details.",
        "alerts": rendered,
    }
    return Wire(
        "grafana",
        "POST",
        f"/integrations/{key}/grafana",
        key,
        _json(body),
        {"content-type": JSON, "user-agent": "Grafana"},
    )


def pagerduty_event(
    key: str,
    action: str,
    dedup_key: str,
    *,
    summary: str = "",
    source: str = "",
    severity: str = "error",
    at: datetime | None = None,
    component: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> Wire:
    """A PagerDuty Events API v2 event: trigger, acknowledge or resolve one `dedup_key`."""
    body: dict[str, Any] = {"routing_key": key, "event_action": action, "dedup_key": dedup_key}
    if action == "trigger":
        payload: dict[str, Any] = {"summary": summary, "source": source, "severity": severity}
        if at is not None:
            payload["timestamp"] = rfc3339(at)
        if component:
            payload["component"] = component
        if details:
            payload["custom_details"] = dict(details)
        body["payload"] = payload
        body["client"] = "Payment provider status"
        body["client_url"] = "https://status.payments-provider.example"
    return Wire(
        "pagerduty",
        "POST",
        "/v2/enqueue",
        key,
        _json(body),
        {"content-type": JSON, "user-agent": "pagerduty-python/7.2.0"},
    )


def pagerduty_change(
    key: str, *, summary: str, source: str, at: datetime, details: Mapping[str, Any]
) -> Wire:
    """A change event (a deploy): shown beside tickets, never pages."""
    body = {
        "routing_key": key,
        "payload": {
            "summary": summary,
            "source": source,
            "timestamp": rfc3339(at),
            "custom_details": dict(details),
        },
        "links": [{"href": "https://ci.shop.internal/pipelines", "text": "Pipeline"}],
    }
    return Wire(
        "pagerduty-change", "POST", "/v2/change/enqueue", key, _json(body), {"content-type": JSON}
    )


def opsgenie_create(
    key: str,
    *,
    message: str,
    alias: str,
    priority: str,
    description: str = "",
    entity: str = "",
    tags: Sequence[str] = (),
) -> Wire:
    """An Opsgenie `POST /v2/alerts`: the alias is the dedup key."""
    body = {
        "message": message,
        "alias": alias,
        "description": description,
        "priority": priority,
        "entity": entity,
        "tags": list(tags),
        "source": "warehouse-system",
        "details": {"site": "warehouse-1"},
    }
    return Wire(
        "opsgenie",
        "POST",
        "/v2/alerts",
        key,
        _json(body),
        {"content-type": JSON, "authorization": f"GenieKey {key}"},
    )


def opsgenie_action(key: str, *, alias: str, action: str, user: str, note: str = "") -> Wire:
    """Acknowledge or close an Opsgenie alert by its alias."""
    body = {"user": user, "source": "warehouse-system", "note": note}
    query = {"identifierType": "alias"}
    return Wire(
        "opsgenie-action",
        "POST",
        f"/v2/alerts/{quote(alias, safe='')}/{action}?identifierType=alias",
        key,
        _json(body),
        {"content-type": JSON, "authorization": f"GenieKey {key}"},
        {"alias": alias, "action": action, **query},
    )


def generic(
    key: str,
    *,
    summary: str,
    dedup: str,
    action: str = "trigger",
    severity: str = "warning",
    service: str | None = None,
    labels: Mapping[str, str] | None = None,
    details: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> Wire:
    """The generic JSON format, as a script or `curl` sends it."""
    body: dict[str, Any] = {"summary": summary, "dedup": dedup, "action": action}
    if action == "trigger":
        body["severity"] = severity
    if service:
        body["service"] = service
    if labels:
        body["labels"] = dict(labels)
    if details:
        body["details"] = dict(details)
    if at is not None:
        body["timestamp"] = rfc3339(at)
    return Wire(
        "generic",
        "POST",
        f"/integrations/{key}/generic",
        key,
        _json(body),
        {"content-type": JSON, "user-agent": "curl/8.5.0"},
    )


def cloudevent(
    key: str,
    *,
    event_id: str,
    subject: str,
    type_: str,
    at: datetime,
    data: Mapping[str, Any],
) -> Wire:
    """A CloudEvents 1.0 event in structured mode."""
    body = {
        "specversion": "1.0",
        "id": event_id,
        "source": "//cloud.example/projects/shop/queues",
        "type": type_,
        "subject": subject,
        "time": rfc3339(at),
        "datacontenttype": JSON,
        "data": dict(data),
    }
    return Wire(
        "cloudevents",
        "POST",
        f"/integrations/{key}/cloudevents",
        key,
        _json(body),
        {"content-type": "application/cloudevents+json"},
    )


def heartbeat(key: str) -> Wire:
    """A cron job's ping (`curl -fsS .../heartbeat`)."""
    return Wire("heartbeat", "GET", f"/integrations/{key}/heartbeat", key)


def feedback(
    key: str,
    *,
    description: str,
    reporter: str,
    service: str | None = None,
    severity: str | None = None,
    impact_start: datetime | None = None,
    contact: str | None = None,
) -> Wire:
    """A user report from the support desk's form."""
    body: dict[str, Any] = {"description": description, "reporter": reporter}
    if service:
        body["service"] = service
    if severity:
        body["severity"] = severity
    if impact_start is not None:
        body["impact_start"] = rfc3339(impact_start)
    if contact:
        body["contact"] = contact
    return Wire(
        "feedback",
        "POST",
        f"/integrations/{key}/feedback",
        key,
        _json(body),
        {"content-type": JSON, "user-agent": "support-desk/3.2"},
    )
