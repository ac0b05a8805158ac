"""Checks across sections: unique ids and keys, every reference known, no dependency cycles.

They read the parsed document, not the validated models, so that a reference inside an item
with some other error is still checked: the file's every problem is reported at once. Values
of the wrong type are skipped here; the schema reports them.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping, Set
from typing import Any, Final

_WHAT: Final = {
    "teams": "team",
    "users": "user",
    "services": "service",
    "channels": "channel",
    "integrations": "integration",
    "schedules": "schedule",
    "escalation_policies": "escalation policy",
}
_TARGET_SECTION: Final = {"user": "users", "schedule": "schedules", "team": "teams"}
_WITH_IDS: Final = (
    "teams",
    "users",
    "services",
    "channels",
    "integrations",
    "filters",
    "silences",
    "maintenance_windows",
    "schedules",
    "escalation_policies",
    "slos",
    "objectives",
)

Item = Mapping[str, Any]


def check_references(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Errors of the references in a parsed configuration document (a mapping of sections)."""
    return _Checker(data).run()


def _items(value: object, path: str) -> Iterator[tuple[str, Item]]:
    if isinstance(value, list):
        for position, item in enumerate(value):
            if isinstance(item, Mapping):
                yield f"{path}[{position}]", item


def _text(item: Item, key: str) -> str | None:
    value = item.get(key)
    return value if isinstance(value, str) else None


def _texts(item: Item, key: str, path: str) -> Iterator[tuple[str, str]]:
    value = item.get(key)
    if isinstance(value, list):
        for position, entry in enumerate(value):
            if isinstance(entry, str):
                yield f"{path}.{key}[{position}]", entry


def _mapping(item: Item, key: str) -> Item:
    value = item.get(key)
    return value if isinstance(value, Mapping) else {}


def schedule_people(schedule: Item, extra_overrides: Iterable[Item] = ()) -> set[str]:
    """Everyone a schedule can put on call: its layers' users and its overrides' `user`s."""
    people: set[str] = set()
    for layer_path, layer in _items(schedule.get("layers"), "layers"):
        people.update(user for _, user in _texts(layer, "users", layer_path))
    overrides = [item for _, item in _items(schedule.get("overrides"), "overrides")]
    for override in (*overrides, *extra_overrides):
        if (user := _text(override, "user")) is not None:
            people.add(user)
    return people


def check_override(
    override: Item, path: str, *, users: Set[str], on_schedule: Set[str]
) -> list[tuple[str, str]]:
    """The reference errors of one override at `path` (in the file, or made at run time):
    every user it names exists, and whoever it replaces, removes or swaps can be on call in
    this schedule (`on_schedule`, see `schedule_people`); otherwise it would change nothing."""
    errors: list[tuple[str, str]] = []
    named: list[tuple[str, str]] = [
        (f"{path}.{key}", value)
        for key in ("user", "replaces", "remove")
        if (value := _text(override, key)) is not None
    ]
    named.extend(_texts(override, "swap", path))
    for where, user in named:
        if user not in users:
            errors.append((where, _unknown("users", user, users)))
    for key in ("replaces", "remove"):
        gone = _text(override, key)
        if gone is not None and gone in users and gone not in on_schedule:
            errors.append((f"{path}.{key}", f"{gone!r} is never on call in this schedule"))
    pair = [user for _, user in _texts(override, "swap", path)]
    if len(pair) == 2 and set(pair) <= set(users) and not set(pair) & set(on_schedule):
        errors.append(
            (
                f"{path}.swap",
                f"neither {pair[0]!r} nor {pair[1]!r} is ever on call in this schedule",
            )
        )
    return errors


def _unknown(section: str, value: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, sorted(known), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown {_WHAT[section]} {value!r}{hint}"


class _Checker:
    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.known = {
            section: {ident for _, item in self.section(section) if (ident := _text(item, "id"))}
            for section in _WITH_IDS
        }
        self.channel_kinds = {
            _text(channel, "id"): _text(channel, "kind") for _, channel in self.section("channels")
        }
        self.errors: list[tuple[str, str]] = []

    def section(self, name: str) -> Iterator[tuple[str, Item]]:
        return _items(self.data.get(name), name)

    def need(self, path: str, section: str, value: str | None) -> None:
        if value is None or value in self.known[section]:
            return
        self.errors.append((path, _unknown(section, value, self.known[section])))

    def run(self) -> list[tuple[str, str]]:
        for section in _WITH_IDS:
            self.unique(self.section(section))
        self.unique_keys()
        for path, team in self.section("teams"):
            for where, member in _texts(team, "members", path):
                self.need(where, "users", member)
        for path, user in self.section("users"):
            self.user(path, user)
        for path, service in self.section("services"):
            self.service(path, service)
        self.cycles()
        for path, integration in self.section("integrations"):
            self.integration(path, integration)
        for path, rule in self.section("filters"):
            self.need(f"{path}.integration", "integrations", _text(rule, "integration"))
            self.need(f"{path}.service", "services", _text(rule, "service"))
        for path, window in self.section("maintenance_windows"):
            for where, service_id in _texts(window, "services", path):
                self.need(where, "services", service_id)
        for path, schedule in self.section("schedules"):
            self.schedule(path, schedule)
        for path, policy in self.section("escalation_policies"):
            self.policy(path, policy)
        for path, slo in self.section("slos"):
            self.need(f"{path}.service", "services", _text(slo, "service"))
        for path, objective in self.section("objectives"):
            self.objective(path, objective)
        return self.errors

    def unique(self, items: Iterable[tuple[str, Item]]) -> None:
        seen: dict[str, str] = {}
        for path, item in items:
            ident = _text(item, "id")
            if ident is None:
                continue
            if ident in seen:
                self.errors.append((f"{path}.id", f"duplicate id {ident!r} (also {seen[ident]})"))
            else:
                seen[ident] = path

    def unique_keys(self) -> None:
        seen: dict[str, str] = {}
        for path, integration in self.section("integrations"):
            key = _text(integration, "key")
            if key is None:
                continue
            if key in seen:
                # The key picks the integration on ingest: two with one key is ambiguous.
                self.errors.append((f"{path}.key", f"the same key as {seen[key]}"))
            else:
                seen[key] = path

    def user(self, path: str, user: Item) -> None:
        self.need(f"{path}.team", "teams", _text(user, "team"))
        contacts = list(_items(user.get("contacts"), f"{path}.contacts"))
        self.unique(contacts)
        names = sorted({ident for _, c in contacts if (ident := _text(c, "id"))})
        for where, rule in _items(user.get("notification_rules"), f"{path}.notification_rules"):
            contact = _text(rule, "contact")
            if contact is not None and contact not in names:
                listed = ", ".join(names) or "none"
                self.errors.append(
                    (f"{where}.contact", f"no contact {contact!r} here (contacts: {listed})")
                )

    def service(self, path: str, service: Item) -> None:
        self.need(f"{path}.team", "teams", _text(service, "team"))
        policy = _text(service, "escalation_policy")
        self.need(f"{path}.escalation_policy", "escalation_policies", policy)
        own = _text(service, "id")
        for where, other in _texts(service, "depends_on", path):
            if other == own:
                self.errors.append((where, "a service cannot depend on itself"))
            else:
                self.need(where, "services", other)

    def cycles(self) -> None:
        graph: dict[str, list[str]] = {}
        where: dict[str, str] = {}
        for path, service in self.section("services"):
            ident = _text(service, "id")
            if ident is not None and ident not in graph:
                graph[ident] = [d for _, d in _texts(service, "depends_on", path) if d != ident]
                where[ident] = f"{path}.depends_on"
        state: dict[str, int] = {}  # 1: on the current path, 2: done
        reported: set[frozenset[str]] = set()

        def visit(node: str, trail: list[str]) -> None:
            state[node] = 1
            trail.append(node)
            for nxt in graph[node]:
                if state.get(nxt) == 1:
                    loop = [*trail[trail.index(nxt) :], nxt]
                    if frozenset(loop) not in reported:
                        reported.add(frozenset(loop))
                        self.errors.append((where[nxt], "dependency cycle: " + " → ".join(loop)))
                elif nxt in graph and nxt not in state:
                    visit(nxt, trail)
            trail.pop()
            state[node] = 2

        for node in graph:
            if node not in state:
                visit(node, [])

    def integration(self, path: str, integration: Item) -> None:
        channel = _text(integration, "channel")
        self.need(f"{path}.channel", "channels", channel)
        self.need(f"{path}.service", "services", _text(integration, "service"))
        for where, route in _items(integration.get("routes"), f"{path}.routes"):
            self.need(f"{where}.service", "services", _text(route, "service"))
        kind = self.channel_kinds.get(channel)
        if kind == "manual":
            self.errors.append(
                (
                    f"{path}.channel",
                    "a manual channel is for tickets opened by hand, not integrations",
                )
            )
        elif _text(integration, "type") == "feedback" and kind not in (None, "feedback"):
            self.errors.append(
                (f"{path}.channel", f"a feedback integration needs a feedback channel, not {kind}")
            )

    def schedule(self, path: str, schedule: Item) -> None:
        for layer_path, layer in _items(schedule.get("layers"), f"{path}.layers"):
            for where, user in _texts(layer, "users", layer_path):
                self.need(where, "users", user)
        on_schedule = schedule_people(schedule)
        for where, override in _items(schedule.get("overrides"), f"{path}.overrides"):
            self.errors.extend(
                check_override(override, where, users=self.known["users"], on_schedule=on_schedule)
            )

    def policy(self, path: str, policy: Item) -> None:
        levels = list(_items(policy.get("levels"), f"{path}.levels"))
        for level_path, level in levels:
            for where, target in _texts(level, "targets", level_path):
                kind, _, ident = target.partition(":")
                if kind in _TARGET_SECTION:
                    self.need(where, _TARGET_SECTION[kind], ident)
        for where, rule in _items(policy.get("rules"), f"{path}.rules"):
            action = _mapping(rule, "action")
            other = _text(action, "policy")
            if other is not None and other == _text(policy, "id"):
                self.errors.append(
                    (f"{where}.action.policy", "a rule cannot switch to its own policy")
                )
            else:
                self.need(f"{where}.action.policy", "escalation_policies", other)
            start = action.get("level")
            has_levels = isinstance(policy.get("levels"), list)
            if isinstance(start, int) and has_levels and start > len(levels):
                message = f"level {start} does not exist (the policy has {len(levels)})"
                self.errors.append((f"{where}.action.level", message))

    def objective(self, path: str, objective: Item) -> None:
        owner = _text(objective, "owner")
        if owner is not None and owner not in self.known["teams"] | self.known["users"]:
            self.errors.append((f"{path}.owner", f"unknown team or user {owner!r}"))
        results = list(_items(objective.get("key_results"), f"{path}.key_results"))
        self.unique(results)
        for where, result in results:
            scope = _mapping(result, "scope")
            self.need(f"{where}.scope.service", "services", _text(scope, "service"))
            self.need(f"{where}.scope.team", "teams", _text(scope, "team"))
