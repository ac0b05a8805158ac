"""Feeds a sender's request to the ingest adapters and the writer in this process.

The history is generated with the clock set back, faster than HTTP would allow: the same
bytes a sender would post go through the same adapter (`ingest/adapters/*`) and the same
writer and pipeline as on the server, minus the socket.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from watchkeeper.demo.wire import Wire
from watchkeeper.ingest.adapters import (
    alertmanager,
    cloudevents,
    feedback,
    generic,
    grafana,
    heartbeat,
    opsgenie,
    pagerduty,
)
from watchkeeper.ingest.adapters.base import Parsed
from watchkeeper.pipeline.flow import Outcome
from watchkeeper.pipeline.writer import ChangeItem, EventItem, Item
from watchkeeper.runtime import Runtime

Adapter = Callable[[Wire, datetime], Parsed]

# wire format -> (adapter, integration type whose key it carries)
ADAPTERS: dict[str, tuple[Adapter, str]] = {
    "alertmanager": (
        lambda w, now: alertmanager.parse(w.body, w.content_type, now=now),
        "alertmanager",
    ),
    "alertmanager-api": (
        lambda w, now: alertmanager.parse_alerts(w.body, w.content_type, now=now),
        "alertmanager",
    ),
    "grafana": (lambda w, now: grafana.parse(w.body, w.content_type, now=now), "grafana"),
    "pagerduty": (lambda w, now: pagerduty.parse(w.body, w.content_type, now=now), "pagerduty"),
    "pagerduty-change": (
        lambda w, now: pagerduty.parse_change(w.body, w.content_type, now=now),
        "pagerduty",
    ),
    "opsgenie": (lambda w, now: opsgenie.parse_create(w.body, w.content_type, now=now), "opsgenie"),
    "opsgenie-action": (
        lambda w, now: opsgenie.parse_action(
            w.params["alias"], w.params["action"], w.body, w.content_type, w.params, now=now
        ),
        "opsgenie",
    ),
    "generic": (lambda w, now: generic.parse(w.body, w.content_type, now=now), "generic"),
    "cloudevents": (
        lambda w, now: cloudevents.parse(w.body, w.content_type, w.headers, now=now),
        "cloudevents",
    ),
    "heartbeat": (lambda w, now: heartbeat.parse(w.body, w.content_type, now=now), "heartbeat"),
    "feedback": (lambda w, now: feedback.parse(w.body, w.content_type, now=now), "feedback"),
}


class LocalIngest:
    """`send(wire)` does what the ingest edge does with that request, and returns outcomes."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.requests = 0
        self.events = 0
        self.tickets: set[int] = set()

    def send(self, wire: Wire) -> list[Outcome]:
        adapter, integration_type = ADAPTERS[wire.format]
        parsed = adapter(wire, self.rt.clock.now())
        integration = self.rt.snapshots.current.integrations_by_key.get(wire.key)
        if integration is None or integration.type != integration_type:
            raise LookupError(f"no {integration_type} integration has the key of {wire.path}")
        items: list[Item] = [EventItem(integration, e) for e in parsed.events]
        items.extend(ChangeItem(integration, c) for c in parsed.changes)
        self.requests += 1
        self.events += len(parsed.events)
        if not items:
            return []
        outcomes = [o for o in self.rt.writer.submit_wait(items) if o is not None]
        self.tickets.update(o.ticket_id for o in outcomes if o.ticket_id is not None)
        return outcomes
