"""Reading a frozen escalation policy: its levels, repeats, ack timeout and time-of-day rules.

Pure functions over the policy spec as `apply` stored it (and the ticket froze it): the
escalation stage decides where a ticket starts, the engine walks the levels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from watchkeeper.config.durations import parse_duration
from watchkeeper.quality.hours import classify_local_time

_DAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
BUSINESS_START: Final = time(8, 0)  # QUALITY.md's business hours: Mon-Fri 08:00-18:00


@dataclass(frozen=True, slots=True)
class Level:
    index: int  # 0-based; people read index + 1
    role: str
    targets: tuple[str, ...]
    delay: float
    round_robin: bool

    @property
    def label(self) -> str:
        return f"level {self.index + 1} ({self.role})"


@dataclass(frozen=True, slots=True)
class Start:
    """Where a new ticket's escalation begins: which policy, which level, when."""

    policy: Mapping[str, Any]
    level: int
    due_at: float
    note: str | None = None  # what a rule changed, for the timeline


def seconds(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, int | float):
        return float(value)
    return parse_duration(str(value)).total_seconds()


def levels(policy: Mapping[str, Any]) -> list[Level]:
    return [
        Level(
            index=i,
            role=str(spec.get("role") or f"level-{i + 1}"),
            targets=tuple(str(t) for t in spec.get("targets") or []),
            delay=seconds(spec.get("delay")),
            round_robin=bool(spec.get("round_robin")),
        )
        for i, spec in enumerate(policy.get("levels") or [])
    ]


def repeats(policy: Mapping[str, Any]) -> int:
    """Extra passes over every level after the first."""
    return int(policy.get("repeat") or 0)


def ack_timeout(policy: Mapping[str, Any]) -> float | None:
    value = policy.get("ack_timeout")
    return seconds(value) if value else None


def start(
    policy: Mapping[str, Any],
    *,
    severity: str,
    now: datetime,
    policies: Mapping[str, Mapping[str, Any]],
) -> Start:
    """Apply the first matching time-of-day rule, read in the policy's time zone.

    A rule sending the ticket to another policy does not chain into that policy's rules: the
    alternative is what the operator named for those hours.
    """
    rule = matching_rule(policy, severity=severity, now=now)
    epoch = now.timestamp()
    if rule is None:
        return Start(policy, 0, epoch)
    action = rule.get("action") or {}
    why = _rule_text(rule)
    if action.get("policy"):
        other = policies.get(str(action["policy"]))
        if other is None:
            note = f"{why}: policy {action['policy']} is not configured; using {policy.get('id')}"
            return Start(policy, 0, epoch, note)
        return Start(other, 0, epoch, f"{why}: escalating by policy {other.get('id')}")
    if action.get("level"):
        count = len(levels(policy))
        level = min(int(action["level"]), count) - 1
        return Start(policy, level, epoch, f"{why}: starting at level {level + 1}")
    zone = ZoneInfo(str(policy.get("time_zone") or "UTC"))
    resume = next_business_start(now.astimezone(zone))
    text = resume.strftime("%a %d %b %H:%M ") + str(zone)
    return Start(policy, 0, resume.timestamp(), f"{why}: waiting until business hours ({text})")


def matching_rule(
    policy: Mapping[str, Any], *, severity: str, now: datetime
) -> Mapping[str, Any] | None:
    rules = policy.get("rules") or []
    if not rules:
        return None
    local = now.astimezone(ZoneInfo(str(policy.get("time_zone") or "UTC")))
    for rule in rules:
        wanted = rule.get("severity")
        if wanted and severity not in wanted:
            continue
        if rule.get("off_hours") and is_business_hours(local):
            continue
        when = rule.get("when")
        if when and not in_window(when, local):
            continue
        return dict(rule)
    return None


def is_business_hours(local: datetime) -> bool:
    return classify_local_time(local) == "business"


def in_window(window: Mapping[str, Any], local: datetime) -> bool:
    """Whether local wall time `local` falls in a window that starts on one of `days` at
    `from` and ends at `to` (the next day when `to` is not after `from`; equal: 24 hours)."""
    days = {_DAYS.index(str(d)[:3].lower()) for d in window.get("days") or []}
    begin, end = _clock(window["from"]), _clock(window["to"])
    wall = local.replace(tzinfo=None)
    for back in (0, 1):
        day: date = wall.date() - timedelta(days=back)
        if day.weekday() not in days:
            continue
        opens = datetime.combine(day, begin)
        closes = datetime.combine(day, end)
        if closes <= opens:
            closes += timedelta(days=1)
        if opens <= wall < closes:
            return True
    return False


def next_business_start(local: datetime) -> datetime:
    """`local` itself during business hours, else the next weekday 08:00 in its zone."""
    if is_business_hours(local):
        return local
    zone = local.tzinfo
    day = local.date()
    for _ in range(8):
        candidate = datetime.combine(day, BUSINESS_START, tzinfo=zone)
        if candidate.weekday() < 5 and candidate > local:
            return candidate
        day += timedelta(days=1)
    raise AssertionError("a weekday comes within a week")  # pragma: no cover


def _clock(text: Any) -> time:
    hours, _, minutes = str(text).partition(":")
    return time(int(hours), int(minutes or 0))


def _rule_text(rule: Mapping[str, Any]) -> str:
    parts = []
    if rule.get("off_hours"):
        parts.append("off hours")
    when = rule.get("when")
    if when:
        days = ",".join(str(d) for d in when.get("days") or [])
        parts.append(f"{days} {when.get('from')}-{when.get('to')}")
    if rule.get("severity"):
        parts.append("severity " + "/".join(rule["severity"]))
    return "rule (" + ", ".join(parts) + ")"


def human(seconds_: float) -> str:
    """90 -> "1m30s"."""
    total = round(seconds_)
    if total <= 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if total >= size:
            parts.append(f"{total // size}{unit}")
            total %= size
    return "".join(parts)
