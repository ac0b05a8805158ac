"""The compiled configuration the pipeline runs on: built once per configuration version."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from watchkeeper.config.durations import parse_duration
from watchkeeper.domain.expressions import EvalContext, compile_expression
from watchkeeper.domain.matchers import compile_matchers, parse_matchers
from watchkeeper.domain.templates import Template, compile_template
from watchkeeper.oncall.targets import Directory

Predicate = Callable[[Mapping[str, Any]], bool]

DEFAULT_MAX_GROUP_AGE = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class Route:
    """One routing rule of an integration: when it matches, the event goes to `service`."""

    predicate: Predicate
    service: str
    text: str


@dataclass(frozen=True, slots=True)
class Integration:
    id: str
    name: str
    type: str
    key: str
    channel_id: str
    channel_kind: str
    service_id: str | None
    dedup: Template | None = None
    group_by: Template | None = None
    title: Template | None = None
    routes: tuple[Route, ...] = ()
    alert_timeout: float | None = None
    interval: float | None = None  # heartbeats


@dataclass(frozen=True, slots=True)
class Service:
    id: str
    name: str
    team_id: str | None
    max_group_age: float = DEFAULT_MAX_GROUP_AGE
    auto_resolve: str = "immediately"  # immediately | after_quiet | never
    quiet: float = 0.0
    alert_timeout: float | None = None
    group_by: Template | None = None
    escalation_policy: str | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    version: int
    integrations_by_key: Mapping[str, Integration]
    integrations_by_id: Mapping[str, Integration]
    services: Mapping[str, Service]
    channels: Mapping[str, str]  # id -> kind
    muters: tuple[Any, ...] = ()
    policies: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    specs: Mapping[str, Mapping[str, dict[str, Any]]] = field(default_factory=dict)
    # people, teams and schedules, compiled for escalation (who to page, how)
    directory: Directory = field(default_factory=Directory)
    outbound_allow: tuple[str, ...] = ()  # networks webhooks may reach besides public ones


def compile_predicate(spec: Mapping[str, Any]) -> tuple[Predicate, str]:
    """A rule's condition: `match` matchers and/or a CEL `expression` (both must hold)."""
    parts: list[Predicate] = []
    text: list[str] = []
    match = spec.get("match") or []
    if match:
        parsed = parse_matchers([str(m) if not isinstance(m, Mapping) else m for m in match])
        matcher = compile_matchers(parsed)
        parts.append(lambda ctx: matcher(ctx["labels"]))
        text.append("{" + ", ".join(str(m) for m in parsed) + "}")
    expression = spec.get("expression")
    if expression:
        expr = compile_expression(str(expression))
        parts.append(lambda ctx: expr(cast("EvalContext", ctx)))
        text.append(str(expression))
    if not parts:
        return (lambda _ctx: True), "always"
    if len(parts) == 1:
        return parts[0], text[0]
    first, second = parts
    return (lambda ctx: first(ctx) and second(ctx)), " and ".join(text)


def _template(value: Any) -> Template | None:
    """Titles are cut; keys keep a hash of what was cut, so two long keys never merge."""
    return compile_template(str(value)) if value else None


def _key_template(value: Any) -> Template | None:
    return compile_template(str(value), overflow="hash") if value else None


def _seconds(value: Any) -> float | None:
    """Durations arrive as the file spells them ("5m") or as seconds."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    return parse_duration(str(value)).total_seconds()


def compile_integration(spec: Mapping[str, Any], channel_kind: str) -> Integration:
    routes = []
    for route in spec.get("routes") or []:
        predicate, text = compile_predicate(route)
        routes.append(Route(predicate=predicate, service=str(route["service"]), text=text))
    return Integration(
        id=spec["id"],
        name=spec.get("name") or spec["id"],
        type=spec["type"],
        key=spec["key"],
        channel_id=spec["channel"],
        channel_kind=channel_kind,
        service_id=spec.get("service"),
        dedup=_key_template(spec.get("dedup")),
        group_by=_key_template(spec.get("group_by")),
        title=_template(spec.get("title")),
        routes=tuple(routes),
        alert_timeout=_seconds(spec.get("alert_timeout")),
        interval=_seconds(spec.get("interval")),
    )


def compile_service(spec: Mapping[str, Any]) -> Service:
    auto = spec.get("auto_resolve") or {}
    return Service(
        id=spec["id"],
        name=spec.get("name") or spec["id"],
        team_id=spec.get("team"),
        max_group_age=_seconds(spec.get("max_group_age")) or DEFAULT_MAX_GROUP_AGE,
        auto_resolve=str(auto.get("mode") or "immediately"),
        quiet=_seconds(auto.get("quiet")) or 0.0,
        alert_timeout=_seconds(spec.get("alert_timeout")),
        group_by=_key_template(spec.get("group_by")),
        escalation_policy=spec.get("escalation_policy"),
    )
