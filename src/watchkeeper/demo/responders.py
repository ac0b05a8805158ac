"""Who answers a page in the demo's story: the person a policy level points at, at that time.

The simulated people acknowledge as the on-call schedules say they would be paged: the
first line while its delay runs, the second line after it, and so on. The schedules are read
with the on-call package's own functions, from the demo configuration.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from watchkeeper.config.durations import parse_duration
from watchkeeper.oncall.model import Schedule
from watchkeeper.oncall.parsing import parse_schedule
from watchkeeper.oncall.timeline import oncall_at

_SCHEDULE_FIELDS = ("id", "time_zone", "layers", "overrides")


@dataclass(frozen=True, slots=True)
class Level:
    role: str
    targets: tuple[str, ...]
    starts_after: float  # seconds after the ticket opened when this level is paged


@dataclass(frozen=True, slots=True)
class Answer:
    user: str
    level: int  # 0 is the first level
    role: str


class Responders:
    def __init__(self, doc: Mapping[str, Any]) -> None:
        self.zones = {str(u["id"]): str(u.get("time_zone") or "UTC") for u in doc["users"]}
        self.teams = {str(t["id"]): [str(m) for m in t.get("members", [])] for t in doc["teams"]}
        self.service_policy = {
            str(s["id"]): str(s.get("escalation_policy") or "") for s in doc["services"]
        }
        self.schedules: dict[str, Schedule] = {}
        for spec in doc.get("schedules", []):
            fields = {k: v for k, v in spec.items() if k in _SCHEDULE_FIELDS}
            self.schedules[str(spec["id"])] = parse_schedule(fields, path=f"schedules.{spec['id']}")
        self.policies: dict[str, list[Level]] = {}
        for policy in doc.get("escalation_policies", []):
            levels, offset = [], 0.0
            for level in policy["levels"]:
                levels.append(Level(str(level["role"]), tuple(level["targets"]), offset))
                offset += parse_duration(str(level.get("delay") or "0s")).total_seconds()
            self.policies[str(policy["id"])] = levels

    def levels(self, service: str) -> Sequence[Level]:
        return self.policies.get(self.service_policy.get(service, ""), [])

    def target_user(self, target: str, at: datetime) -> str | None:
        kind, _, ident = target.partition(":")
        if kind == "user":
            return ident
        if kind == "schedule" and ident in self.schedules:
            on_duty = oncall_at(self.schedules[ident], at)
            return on_duty[0] if on_duty else None
        if kind == "team":
            members = self.teams.get(ident, [])
            return members[0] if members else None
        return None

    def answering(self, service: str, opened: datetime, waited: float) -> Answer | None:
        """Who acknowledges a ticket of `service` opened at `opened`, `waited` seconds later:
        someone of the last level paged by then (the first line while its delay runs)."""
        levels = self.levels(service)
        paged = [(i, lv) for i, lv in enumerate(levels) if lv.starts_after <= waited]
        for index, level in reversed(paged):
            paged_at = opened + timedelta(seconds=level.starts_after)
            for target in level.targets:
                user = self.target_user(target, paged_at)
                if user is not None:
                    return Answer(user, index, level.role)
        return None

    def first_line(self, service: str, at: datetime) -> str | None:
        answer = self.answering(service, at, 0.0)
        return answer.user if answer else None

    def zone(self, user: str) -> str:
        return self.zones.get(user, "UTC")
