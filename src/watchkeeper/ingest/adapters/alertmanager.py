"""Prometheus Alertmanager: the webhook (version 4) and the API v2 alerts that Prometheus posts."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Final

import msgspec

from watchkeeper.domain.event import Link, NormalizedEvent
from watchkeeper.domain.severity import parse_severity
from watchkeeper.errors import InvalidPayload
from watchkeeper.ingest.adapters.base import (
    MAX_ANNOTATION_VALUE,
    MAX_SUMMARY,
    Parsed,
    check_labels,
)
from watchkeeper.ingest.adapters.decoding import (
    check_count,
    check_size,
    convert,
    decode_json,
    fit_key,
    links_from,
    parse_time,
    require_body_kind,
    safe_link,
    truncate,
)

__all__ = [
    "MAX_BODY",
    "WebhookAlert",
    "WebhookEnvelope",
    "alert_summary",
    "label_hash",
    "parse",
    "parse_alerts",
    "webhook_event",
]

MAX_BODY: Final = 10 * 1024 * 1024  # one POST is a whole group; groups can be large


class WebhookAlert(msgspec.Struct, kw_only=True, rename="camel"):
    """One alert of a webhook group (Grafana adds fields to it)."""

    status: str | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    starts_at: str | None = None
    ends_at: str | None = None
    generator_url: str | None = msgspec.field(default=None, name="generatorURL")
    fingerprint: str | None = None


class WebhookEnvelope(msgspec.Struct, kw_only=True, rename="camel"):
    """The group around the alerts (Grafana adds fields to it)."""

    version: str | None = None
    group_key: str | None = None
    truncated_alerts: int | None = None
    status: str | None = None
    receiver: str | None = None
    group_labels: dict[str, str] | None = None
    common_labels: dict[str, str] | None = None
    common_annotations: dict[str, str] | None = None
    external_url: str | None = msgspec.field(default=None, name="externalURL")


class _Webhook(WebhookEnvelope, kw_only=True):
    alerts: list[WebhookAlert]


class _PostableAlert(msgspec.Struct, kw_only=True, rename="camel"):
    labels: dict[str, str]
    annotations: dict[str, str] | None = None
    starts_at: str | None = None
    ends_at: str | None = None
    generator_url: str | None = msgspec.field(default=None, name="generatorURL")


def label_hash(labels: dict[str, str]) -> str:
    """The identity of a label set: SHA-256 of the canonical JSON of its sorted pairs,
    32 hex characters. Independent of key order, so every re-send maps to one alert."""
    canonical = msgspec.json.encode(sorted(labels.items()))
    return hashlib.sha256(canonical).hexdigest()[:32]


def parse(body: bytes, content_type: str | None, *, now: datetime) -> Parsed:
    """A webhook group: one event per alert, firing and resolved mixed.

    `truncatedAlerts > 0` means some alerts were left out; their absence says nothing
    (only an alert listed as resolved resolves), so the count is only kept in details.
    """
    del now
    check_size(body, MAX_BODY)
    require_body_kind(content_type)
    data = decode_json(body)
    group = convert(data, _Webhook)
    check_count(len(group.alerts), "alerts")
    context = group_details(group)
    raw_alerts = data["alerts"]
    return Parsed(
        events=[
            webhook_event(
                alert,
                raw_alerts[index],
                at=f"alerts[{index}]",
                group=context,
                links=[safe_link(alert.generator_url, "Source")],
            )
            for index, alert in enumerate(group.alerts)
        ]
    )


def parse_alerts(body: bytes, content_type: str | None, *, now: datetime) -> Parsed:
    """`POST /api/v2/alerts`: what Prometheus sends to an Alertmanager.

    An `endsAt` at or before `now` resolves (Alertmanager's own rule); a later one is a
    trigger carrying `ends_at`, which the pipeline resolves if no re-send extends it.
    """
    check_size(body, MAX_BODY)
    require_body_kind(content_type)
    data = decode_json(body)
    alerts = convert(data, list[_PostableAlert])
    check_count(len(alerts), None)
    events = []
    for index, alert in enumerate(alerts):
        at = f"[{index}]"
        if not alert.labels:
            raise InvalidPayload("at least one label is required", field=f"{at}.labels")
        check_labels(alert.labels, f"{at}.labels")
        annotations = alert.annotations or {}
        check_labels(annotations, f"{at}.annotations", max_value=MAX_ANNOTATION_VALUE)
        ends = parse_time(alert.ends_at, f"{at}.endsAt")
        starts = parse_time(alert.starts_at, f"{at}.startsAt")
        if starts is None:
            # Like Alertmanager: an alert sent only with its end started no later than that.
            starts = min(now, ends) if ends is not None else now
        elif ends is not None and ends < starts:
            raise InvalidPayload(
                "endsAt is before startsAt", field=f"{at}.endsAt", allowed="a time after startsAt"
            )
        events.append(
            NormalizedEvent(
                action="resolve" if ends is not None and ends <= now else "trigger",
                summary=alert_summary(alert.labels, annotations),
                severity=parse_severity(alert.labels.get("severity")),
                dedup_key=label_hash(alert.labels),
                labels=alert.labels,
                annotations=annotations,
                service=alert.labels.get("service") or None,
                occurred_at=starts,
                ends_at=ends,
                links=links_from([safe_link(alert.generator_url, "Source")]),
                raw=data[index],
            )
        )
    return Parsed(events=events)


def group_details(group: WebhookEnvelope) -> dict[str, Any]:
    """What each alert's details keep of its group (small fields only: a group can hold
    thousands of alerts)."""
    details: dict[str, Any] = {}
    for name, value in (
        ("receiver", group.receiver),
        ("groupKey", group.group_key),
        ("groupLabels", group.group_labels),
        ("externalURL", group.external_url),
    ):
        if value:
            details[name] = value
    if group.truncated_alerts:
        details["truncatedAlerts"] = group.truncated_alerts
    return details


def webhook_event(
    alert: WebhookAlert,
    raw: Any,
    *,
    at: str,
    group: dict[str, Any],
    links: Iterable[Link | None] = (),
    details: dict[str, Any] | None = None,
) -> NormalizedEvent:
    """One alert of a webhook group (Alertmanager's or Grafana's)."""
    labels = alert.labels or {}
    annotations = alert.annotations or {}
    check_labels(labels, f"{at}.labels")
    check_labels(annotations, f"{at}.annotations", max_value=MAX_ANNOTATION_VALUE)
    resolved = alert.status == "resolved"
    starts = parse_time(alert.starts_at, f"{at}.startsAt")
    ends = parse_time(alert.ends_at, f"{at}.endsAt")
    return NormalizedEvent(
        action="resolve" if resolved else "trigger",
        summary=alert_summary(labels, annotations),
        severity=parse_severity(labels.get("severity")),
        dedup_key=fit_key(alert.fingerprint) if alert.fingerprint else label_hash(labels),
        labels=labels,
        annotations=annotations,
        details={**group, **(details or {})},
        service=labels.get("service") or None,
        occurred_at=starts,
        # A firing alert's endsAt is not a promise to resolve: the group is re-sent every
        # repeat_interval and resolved alerts are listed explicitly.
        ends_at=ends if resolved else None,
        links=links_from(links),
        raw=raw,
    )


def alert_summary(labels: dict[str, str], annotations: dict[str, str]) -> str:
    """annotations.summary, else annotations.description, else the alert name and labels."""
    for name in ("summary", "description"):
        text = annotations.get(name, "").strip()
        if text:
            return truncate(text, MAX_SUMMARY)
    alertname = labels.get("alertname") or "alert"
    others = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()) if k != "alertname")
    return truncate(f"{alertname} ({others})" if others else alertname, MAX_SUMMARY)
