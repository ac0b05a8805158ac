"""The mute stage: filters, silences and maintenance windows, each a Muter that gives a reason.

Inhibition by the dependency graph plugs in here later as one more Muter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

from watchkeeper.pipeline.snapshot import Predicate, compile_predicate

MuteAction = Literal["drop", "mute"]


@dataclass(frozen=True, slots=True)
class MuteDecision:
    action: MuteAction
    reason: str
    until: float | None = None  # when the mute ends by itself; None: while the rule exists


class Muter(Protocol):
    def decide(self, ctx: Mapping[str, Any], now: float) -> MuteDecision | None: ...


@dataclass(frozen=True, slots=True)
class Filter:
    id: str
    predicate: Predicate
    text: str
    action: MuteAction
    reason: str
    integration: str | None = None
    service: str | None = None

    def decide(self, ctx: Mapping[str, Any], now: float) -> MuteDecision | None:
        if self.integration is not None and ctx["integration"] != self.integration:
            return None
        if self.service is not None and ctx["service"] != self.service:
            return None
        if not self.predicate(ctx):
            return None
        why = f"filter {self.id}: {self.reason}" if self.reason else f"filter {self.id}"
        return MuteDecision(self.action, f"{why} ({self.text})")


@dataclass(frozen=True, slots=True)
class Window:
    """A silence or maintenance window: mutes what matches between two instants."""

    kind: Literal["silence", "maintenance"]
    id: str
    predicate: Predicate
    text: str
    starts_at: float
    ends_at: float
    comment: str = ""
    services: frozenset[str] = frozenset()

    def decide(self, ctx: Mapping[str, Any], now: float) -> MuteDecision | None:
        if not self.starts_at <= now < self.ends_at:
            return None
        if self.services and ctx["service"] not in self.services:
            return None
        if not self.predicate(ctx):
            return None
        note = f": {self.comment}" if self.comment else ""
        return MuteDecision("mute", f"{self.kind} {self.id}{note} ({self.text})", self.ends_at)


@dataclass(frozen=True, slots=True)
class Recurring:
    """A weekly maintenance window: on `days`, from `start` to `end` local time (past midnight
    when `end` <= `start`; the window belongs to the day it starts)."""

    id: str
    predicate: Predicate
    text: str
    days: frozenset[int]  # 0 = Monday
    start: time
    end: time
    zone: ZoneInfo
    comment: str = ""
    services: frozenset[str] = frozenset()

    def active_until(self, now: float) -> float | None:
        local = datetime.fromtimestamp(now, self.zone)
        for back in (0, 1):
            day = (local - timedelta(days=back)).date()
            if day.weekday() not in self.days:
                continue
            begin = datetime.combine(day, self.start, self.zone)
            end_day = day if self.end > self.start else day + timedelta(days=1)
            finish = datetime.combine(end_day, self.end, self.zone)
            if begin <= local < finish:
                return finish.timestamp()
        return None

    def decide(self, ctx: Mapping[str, Any], now: float) -> MuteDecision | None:
        if self.services and ctx["service"] not in self.services:
            return None
        until = self.active_until(now)
        if until is None or not self.predicate(ctx):
            return None
        note = f": {self.comment}" if self.comment else ""
        return MuteDecision("mute", f"maintenance {self.id}{note} ({self.text})", until)


def compile_filter(spec: Mapping[str, Any]) -> Filter:
    predicate, text = compile_predicate(spec)
    return Filter(
        id=str(spec["id"]),
        predicate=predicate,
        text=text,
        action="drop" if spec.get("action") == "drop" else "mute",
        reason=str(spec.get("reason") or ""),
        integration=spec.get("integration"),
        service=spec.get("service"),
    )


def compile_window(
    kind: Literal["silence", "maintenance"],
    spec: Mapping[str, Any],
    *,
    starts_at: float,
    ends_at: float,
) -> Window:
    predicate, text = compile_predicate(spec)
    services = frozenset(spec.get("services") or ())
    if services:
        text = f"services {', '.join(sorted(services))}" + ("" if text == "always" else f" {text}")
    return Window(
        kind=kind,
        id=str(spec["id"]),
        predicate=predicate,
        text=text,
        starts_at=starts_at,
        ends_at=ends_at,
        comment=str(spec.get("comment") or ""),
        services=services,
    )


_DAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


def compile_maintenance(spec: Mapping[str, Any]) -> Muter:
    recurring = spec.get("recurring")
    if not recurring:
        return compile_window(
            "maintenance", spec, starts_at=_instant(spec["starts"]), ends_at=_instant(spec["ends"])
        )
    weekly = recurring["weekly"]
    predicate, text = compile_predicate(spec)
    services = frozenset(spec.get("services") or ())
    return Recurring(
        id=str(spec["id"]),
        predicate=predicate,
        text=(f"services {', '.join(sorted(services))} " if services else "") + text,
        days=frozenset(_DAYS[str(d).lower()[:3]] for d in weekly["days"]),
        start=time.fromisoformat(str(weekly["from"])),
        end=time.fromisoformat(str(weekly["to"])),
        zone=ZoneInfo(str(weekly["time_zone"])),
        comment=str(spec.get("comment") or ""),
        services=services,
    )


def _instant(value: Any) -> float:
    if isinstance(value, int | float):
        return float(value)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def decide(muters: Sequence[Muter], ctx: Mapping[str, Any], now: float) -> MuteDecision | None:
    """The first drop wins over any mute; among mutes the one lasting longest is reported."""
    found: MuteDecision | None = None
    for muter in muters:
        decision = muter.decide(ctx, now)
        if decision is None:
            continue
        if decision.action == "drop":
            return decision
        if found is None or _later(decision.until, found.until):
            found = decision
    return found


def _later(a: float | None, b: float | None) -> bool:
    if a is None:
        return b is not None
    return b is not None and a > b
