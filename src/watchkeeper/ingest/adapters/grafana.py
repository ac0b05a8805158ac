"""Grafana alerting webhook: Alertmanager's webhook group plus Grafana's links and values."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

import msgspec

from watchkeeper.ingest.adapters.alertmanager import (
    WebhookAlert,
    WebhookEnvelope,
    group_details,
    webhook_event,
)
from watchkeeper.ingest.adapters.base import Parsed
from watchkeeper.ingest.adapters.decoding import (
    check_count,
    check_size,
    convert,
    decode_json,
    require_body_kind,
    safe_link,
)

__all__ = ["MAX_BODY", "parse"]

MAX_BODY: Final = 10 * 1024 * 1024


class _GrafanaAlert(WebhookAlert, kw_only=True, rename="camel"):
    silence_url: str | None = msgspec.field(default=None, name="silenceURL")
    dashboard_url: str | None = msgspec.field(default=None, name="dashboardURL")
    panel_url: str | None = msgspec.field(default=None, name="panelURL")
    image_url: str | None = msgspec.field(default=None, name="imageURL")
    # Evaluated query values by ref id; Grafana versions differ in the value types sent.
    values: dict[str, Any] | None = None
    value_string: str | None = None


class _GrafanaWebhook(WebhookEnvelope, kw_only=True, rename="camel"):
    alerts: list[_GrafanaAlert]
    org_id: int | None = None
    title: str | None = None
    state: str | None = None
    message: str | None = None


def parse(body: bytes, content_type: str | None, *, now: datetime) -> Parsed:
    """A Grafana notification (POST or PUT): one event per alert.

    The dedup key is Grafana's fingerprint, else the label hash. The rendered `message` is
    left out of each alert's details: it repeats the group's data and can be large.
    """
    del now
    check_size(body, MAX_BODY)
    require_body_kind(content_type)
    data = decode_json(body)
    group = convert(data, _GrafanaWebhook)
    check_count(len(group.alerts), "alerts")
    context = group_details(group)
    for name, value in (("orgId", group.org_id), ("title", group.title), ("state", group.state)):
        if value is not None:
            context[name] = value
    raw_alerts = data["alerts"]
    events = []
    for index, alert in enumerate(group.alerts):
        details: dict[str, Any] = {}
        if alert.values is not None:
            details["values"] = alert.values
        if alert.value_string:
            details["valueString"] = alert.value_string
        links = [
            safe_link(alert.generator_url, "Source"),
            safe_link(alert.dashboard_url, "Dashboard"),
            safe_link(alert.panel_url, "Panel"),
            safe_link(alert.silence_url, "Silence"),
            safe_link(alert.image_url, "Image"),
        ]
        events.append(
            webhook_event(
                alert,
                raw_alerts[index],
                at=f"alerts[{index}]",
                group=context,
                links=links,
                details=details,
            )
        )
    return Parsed(events=events)
