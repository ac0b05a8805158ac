"""Who a level's targets are at an instant: users, a schedule's on-call people, a team's.

The Directory is compiled once per configuration version (people with their contact methods
and notification rules, teams, schedules); resolving a level is then a pure function of it and
the instant. A team target pages the team's schedule when one has the team's id, else every
member of the team: a schedule says who is on duty, a member list only who belongs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from watchkeeper.config.durations import parse_duration
from watchkeeper.notify.contact import CONTACT_TYPES, Contact
from watchkeeper.oncall import oncall_at
from watchkeeper.oncall.fields import InvalidSchedule
from watchkeeper.oncall.model import Schedule
from watchkeeper.oncall.parsing import parse_schedule

_DESTINATION = {
    "email": "address",
    "webhook": "url",
    "slack": "url",
    "teams": "url",
    "sms": "phone",
    "voice": "phone",
}


@dataclass(frozen=True, slots=True)
class Rule:
    """Notify `contact_id` `after` seconds after the person is paged; only for `severities`."""

    contact_id: str
    after: float
    severities: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    name: str
    time_zone: str
    contacts: Mapping[str, Contact]
    rules: tuple[Rule, ...]

    def plan(self, severity: str) -> list[tuple[Contact, float]]:
        """(contact, delay) for a page of `severity`. A person without rules is reached on
        every contact method at once: a forgotten rule must not mean silence."""
        if not self.rules:
            return [(contact, 0.0) for contact in self.contacts.values()]
        out = []
        for rule in self.rules:
            contact = self.contacts.get(rule.contact_id)
            if contact is None:
                continue
            if rule.severities is not None and severity not in rule.severities:
                continue
            out.append((contact, rule.after))
        return out

    def why_unreachable(self, severity: str) -> str:
        if not self.contacts:
            return f"{self.id} has no contact methods"
        return f"{self.id} has no notification rule for {severity} tickets"


@dataclass(frozen=True, slots=True)
class Directory:
    people: Mapping[str, Person] = field(default_factory=dict)
    teams: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    schedules: Mapping[str, Schedule] = field(default_factory=dict)
    broken: Mapping[str, str] = field(default_factory=dict)  # schedule id -> why not compiled


@dataclass(frozen=True, slots=True)
class Resolved:
    """The users a set of targets gives at an instant, and why a target gave nobody."""

    users: tuple[str, ...]
    notes: tuple[str, ...] = ()


def compile_directory(
    users: Iterable[Mapping[str, Any]],
    teams: Iterable[Mapping[str, Any]],
    schedules: Iterable[Mapping[str, Any]],
) -> Directory:
    """From the stored specs; a schedule that does not compile is kept aside with its reason
    (a level targeting it then reports it) instead of failing the whole snapshot."""
    people = {str(u["id"]): _person(u) for u in users}
    members: dict[str, list[str]] = {}
    for team in teams:
        members[str(team["id"])] = [str(m) for m in team.get("members") or []]
    for user in users:
        team_id = user.get("team")
        if team_id and str(user["id"]) not in members.setdefault(str(team_id), []):
            members[str(team_id)].append(str(user["id"]))
    compiled: dict[str, Schedule] = {}
    broken: dict[str, str] = {}
    for spec in schedules:
        ident = str(spec["id"])
        try:
            compiled[ident] = parse_schedule(schedule_input(spec), path=f"schedules[{ident}]")
        except (InvalidSchedule, ValueError, KeyError, TypeError) as exc:
            broken[ident] = str(exc)
    return Directory(
        people=people,
        teams={k: tuple(v) for k, v in members.items()},
        schedules=compiled,
        broken=broken,
    )


def schedule_input(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A stored schedule spec (the configuration model, dumped) in parse_schedule's shape:
    no name, no null keys, and overrides spelled {user}, {user, replaces} or {remove}."""
    layers = []
    for layer in spec.get("layers") or []:
        rotation = {k: v for k, v in dict(layer["rotation"]).items() if v is not None}
        item: dict[str, Any] = {"rotation": rotation, "users": list(layer["users"])}
        if layer.get("restrictions"):
            item["restrictions"] = [dict(r) for r in layer["restrictions"]]
        layers.append(item)
    overrides = []
    for override in spec.get("overrides") or []:
        window = {"from": override["from"], "to": override["to"]}
        if override.get("swap"):
            overrides.append({"swap": list(override["swap"]), **window})
        elif override.get("remove") is True:
            overrides.append({"remove": override["user"], **window})
        elif isinstance(override.get("remove"), str):
            overrides.append({"remove": override["remove"], **window})
        elif override.get("replaces"):
            overrides.append({"user": override["user"], "replaces": override["replaces"], **window})
        else:
            overrides.append({"user": override["user"], **window})
    out: dict[str, Any] = {"id": spec["id"], "time_zone": spec["time_zone"], "layers": layers}
    if overrides:
        out["overrides"] = overrides
    return out


def target_users(directory: Directory, target: str, at: datetime) -> tuple[list[str], str | None]:
    """The users of one target ("user:x", "schedule:y", "team:z") at `at`, or why none."""
    kind, _, ident = target.partition(":")
    if kind == "user":
        if ident not in directory.people:
            return [], f"user {ident} is not configured"
        return [ident], None
    if kind == "schedule":
        return _on_call(directory, ident, at, target)
    if kind == "team":
        if ident in directory.schedules or ident in directory.broken:
            return _on_call(directory, ident, at, f"{target} (schedule {ident})")
        users = list(directory.teams.get(ident, ()))
        if not users:
            return [], f"{target} has no members"
        return users, None
    return [], f"unknown target {target!r}"


def resolve(directory: Directory, targets: Sequence[str], at: datetime) -> Resolved:
    """Every user of `targets` at `at`, in target order, each once."""
    users: list[str] = []
    notes: list[str] = []
    for target in targets:
        found, why = target_users(directory, target, at)
        if why:
            notes.append(why)
        users.extend(u for u in found if u not in users)
    return Resolved(tuple(users), tuple(notes))


def _on_call(
    directory: Directory, schedule_id: str, at: datetime, label: str
) -> tuple[list[str], str | None]:
    if schedule_id in directory.broken:
        return [], f"{label} is invalid: {directory.broken[schedule_id]}"
    schedule = directory.schedules.get(schedule_id)
    if schedule is None:
        return [], f"{label} is not configured"
    users = oncall_at(schedule, at)
    if not users:
        return [], f"{label} has nobody on call"
    return users, None


def _person(spec: Mapping[str, Any]) -> Person:
    contacts: dict[str, Contact] = {}
    for c in spec.get("contacts") or []:
        kind = c.get("type")
        if kind not in CONTACT_TYPES:
            continue
        address = c.get(_DESTINATION[kind]) or c.get("address")
        if not address:
            continue
        contacts[str(c["id"])] = Contact(
            id=str(c["id"]),
            type=kind,
            address=str(address),
            secret=c.get("secret") or None,
            headers=dict(c.get("headers") or {}),
            paging=c.get("paging"),
        )
    rules = tuple(
        Rule(
            contact_id=str(r["contact"]),
            after=_seconds(r.get("after")),
            severities=frozenset(r["severity"]) if r.get("severity") else None,
        )
        for r in spec.get("notification_rules") or []
    )
    return Person(
        id=str(spec["id"]),
        name=str(spec.get("name") or spec["id"]),
        time_zone=str(spec.get("time_zone") or "UTC"),
        contacts=contacts,
        rules=rules,
    )


def _seconds(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, int | float):
        return float(value)
    delta: timedelta = parse_duration(str(value))
    return delta.total_seconds()
