"""Rows to JSON: instants as RFC 3339 UTC strings, field names as QUALITY.md spells them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from watchkeeper.clock import from_epoch, isoformat


def iso(value: float | None) -> str | None:
    return isoformat(from_epoch(value)) if value is not None else None


def ticket(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "title": row["title"],
        "status": row["status"],
        "service": row["service_id"],
        "group_key": row["group_key"],
        "severity": row["severity"],
        "severity_set_by": row["severity_set_by"],
        "impact_start": iso(row["impact_start"]),
        "detected": iso(row["detected_at"]),
        "acknowledged": iso(row["acknowledged_at"]),
        "acknowledged_by": row["acknowledged_by"],
        "localized": iso(row["localized_at"]),
        "mitigated": iso(row["mitigated_at"]),
        "resolved": iso(row["resolved_at"]),
        "resolved_by": row["resolved_by"],
        "closed": iso(row["closed_at"]),
        "channel": row["channel_id"],
        "channel_kind": row["channel_kind"],
        "integration": row["integration_id"],
        "first_automatic_at": iso(row["first_automatic_at"]),
        "root_cause": {
            "service": row["root_cause_service"],
            "category": row["root_cause_category"],
        },
        "false_alarm": bool(row["false_alarm"]),
        "escalation_count": row["escalation_count"],
        "round": row["round"],
        "assignee": row["assignee"],
        "responders": list(row["responders"] or []),
        "alert_count": row["alert_count"],
        "open_for_grouping": bool(row["grouping"]),
        "merged_into": row["merged_into"],
        "last_alert_at": iso(row["last_alert_at"]),
    }


def alert(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "status": row["status"],
        "dedup_key": row["dedup_key"],
        "integration": row["integration_id"],
        "channel": row["channel_id"],
        "channel_kind": row["channel_kind"],
        "service": row["service_id"],
        "ticket_id": row["ticket_id"],
        "severity": row["severity"],
        "summary": row["summary"],
        "title": row["title"],
        "source": row["source"],
        "labels": row["labels"],
        "annotations": row["annotations"],
        "details": row["details"],
        "links": row["links"],
        "route_reason": row["route_reason"],
        "muted": row["muted_reason"] is not None,
        "muted_reason": row["muted_reason"],
        "muted_until": iso(row["muted_until"]),
        "event_count": row["event_count"],
        "starts_at": iso(row["starts_at"]),
        "first_event_at": iso(row["first_event_at"]),
        "last_event_at": iso(row["last_event_at"]),
        "ends_at": iso(row["ends_at"]),
        "expires_at": iso(row["expires_at"]),
        "resolved_at": iso(row["resolved_at"]),
        "resolved_by": row["resolved_by"],
    }


def event(row: Mapping[Any, Any], *, with_payload: bool = False) -> dict[str, Any]:
    out = {
        "id": row["id"],
        "received_at": iso(row["received_at"]),
        "integration": row["integration_id"],
        "channel": row["channel_id"],
        "channel_kind": row["channel_kind"],
        "action": row["action"],
        "kind": row["kind"],
        "dedup_key": row["dedup_key"],
        "service": row["service_id"],
        "alert_id": row["alert_id"],
        "ticket_id": row["ticket_id"],
        "severity": row["severity"],
        "summary": row["summary"],
        "occurred_at": iso(row["occurred_at"]),
        "labels": row["labels"],
        "decision": row["decision"],
        "reason": row["reason"],
    }
    if with_payload:
        out["payload"] = row["payload"]
    return out


def timeline_entry(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        "at": iso(row["at"]),
        "kind": row["kind"],
        "actor": row["actor"],
        "message": row["message"],
        "data": row["data"],
    }


def silence(row: Mapping[Any, Any], now: float) -> dict[str, Any]:
    ends = row["expired_at"] or row["ends_at"]
    state = "expired" if ends <= now else ("pending" if row["starts_at"] > now else "active")
    return {
        "id": row["id"],
        "matchers": row["matchers"],
        "starts_at": iso(row["starts_at"]),
        "ends_at": iso(ends),
        "created_by": row["created_by"],
        "comment": row["comment"],
        "created_at": iso(row["created_at"]),
        "state": state,
    }
