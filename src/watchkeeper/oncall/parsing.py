"""Schedules from their YAML-shaped dicts (the public configuration contract) into domain types."""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast
from zoneinfo import ZoneInfo

from watchkeeper.oncall.fields import (
    InvalidSchedule,
    parse_date,
    parse_days,
    parse_instant,
    parse_length,
    parse_wall_time,
    parse_zone,
)
from watchkeeper.oncall.model import (
    ROTATION_TYPES,
    AddOverride,
    Layer,
    Override,
    RemoveOverride,
    ReplaceOverride,
    Restriction,
    Rotation,
    Schedule,
    SwapOverride,
)

_ALL_DAYS = frozenset(range(7))


def parse_schedule(data: object, *, path: str = "") -> Schedule:
    """A Schedule from `{id, name, time_zone, layers, overrides}`; InvalidSchedule names the field.

    `path` prefixes every field in errors, e.g. "schedules[2]".
    """
    fields = _mapping(
        data, path, required=("id", "time_zone", "layers"), optional=("name", "overrides")
    )
    schedule_id = _text(fields["id"], _join(path, "id"))
    name = _text(fields["name"], _join(path, "name")) if "name" in fields else schedule_id
    zone = parse_zone(fields["time_zone"], _join(path, "time_zone"))
    layers = _list(fields["layers"], _join(path, "layers"))
    overrides = _list(fields.get("overrides", []), _join(path, "overrides"))
    return Schedule(
        id=schedule_id,
        name=name,
        time_zone=zone,
        layers=tuple(
            _layer(item, f"{_join(path, 'layers')}[{index}]") for index, item in enumerate(layers)
        ),
        overrides=tuple(
            _override(item, f"{_join(path, 'overrides')}[{index}]", zone)
            for index, item in enumerate(overrides)
        ),
    )


def _layer(data: object, path: str) -> Layer:
    fields = _mapping(data, path, required=("rotation", "users"), optional=("restrictions",))
    users = _list(fields["users"], _join(path, "users"))
    if not users:
        raise InvalidSchedule(_join(path, "users"), "needs at least one user")
    return Layer(
        rotation=_rotation(fields["rotation"], _join(path, "rotation")),
        users=tuple(
            _user(user, f"{_join(path, 'users')}[{index}]") for index, user in enumerate(users)
        ),
        restrictions=tuple(
            _restriction(item, f"{_join(path, 'restrictions')}[{index}]")
            for index, item in enumerate(_list(fields.get("restrictions", []), path))
        ),
    )


def _rotation(data: object, path: str) -> Rotation:
    fields = _mapping(data, path, required=("type", "handoff", "start"), optional=("length",))
    kind = fields["type"]
    if kind not in ROTATION_TYPES:
        raise InvalidSchedule(
            _join(path, "type"),
            f"unknown rotation type {kind!r}; allowed: {', '.join(ROTATION_TYPES)}",
        )
    length = None
    if kind == "custom":
        if "length" not in fields:
            raise InvalidSchedule(
                _join(path, "length"), 'required for a custom rotation, e.g. "12h"'
            )
        length = parse_length(fields["length"], _join(path, "length"))
    elif "length" in fields:
        raise InvalidSchedule(_join(path, "length"), f"only for type custom, not {kind}")
    return Rotation(
        type=kind,
        handoff=parse_wall_time(fields["handoff"], _join(path, "handoff")),
        start=parse_date(fields["start"], _join(path, "start")),
        length=length,
    )


def _restriction(data: object, path: str) -> Restriction:
    fields = _mapping(data, path, required=("from", "to"), optional=("days",))
    return Restriction(
        days=parse_days(fields["days"], _join(path, "days")) if "days" in fields else _ALL_DAYS,
        start=parse_wall_time(fields["from"], _join(path, "from")),
        end=parse_wall_time(fields["to"], _join(path, "to")),
    )


def _override(data: object, path: str, zone: ZoneInfo) -> Override:
    kind = _override_kind(data, path)
    optional = {"add": (), "replace": ("replaces",), "remove": (), "swap": ()}[kind]
    required = {"add": "user", "replace": "user", "remove": "remove", "swap": "swap"}[kind]
    fields = _mapping(data, path, required=(required, "from", "to"), optional=optional)
    start = parse_instant(fields["from"], _join(path, "from"), zone)
    end = parse_instant(fields["to"], _join(path, "to"), zone)
    if end <= start:
        raise InvalidSchedule(_join(path, "to"), "must be after from")
    if kind == "swap":
        pair = _list(fields["swap"], _join(path, "swap"))
        if len(pair) != 2:
            raise InvalidSchedule(_join(path, "swap"), f"expected two users, got {pair!r}")
        first = _user(pair[0], f"{_join(path, 'swap')}[0]")
        second = _user(pair[1], f"{_join(path, 'swap')}[1]")
        if first == second:
            raise InvalidSchedule(_join(path, "swap"), "expected two different users")
        return SwapOverride(first, second, start, end)
    user = _user(fields[required], _join(path, required))
    if kind == "add":
        return AddOverride(user, start, end)
    if kind == "remove":
        return RemoveOverride(user, start, end)
    return ReplaceOverride(user, _user(fields["replaces"], _join(path, "replaces")), start, end)


def _override_kind(data: object, path: str) -> str:
    """add: {user}; replace: {user, replaces}; remove: {remove}; swap: {swap: [a, b]}."""
    keys = set(data) if isinstance(data, Mapping) else set()
    if "swap" in keys:
        return "swap"
    if "remove" in keys:
        return "remove"
    if "replaces" in keys:
        return "replace"
    if "user" in keys:
        return "add"
    raise InvalidSchedule(
        path,
        "expected one of {user}, {user, replaces}, {remove} or {swap: [a, b]} with from and to",
    )


def _mapping(
    data: object, path: str, *, required: tuple[str, ...], optional: tuple[str, ...]
) -> Mapping[str, object]:
    if not isinstance(data, Mapping):
        raise InvalidSchedule(path or "schedule", f"expected a mapping, got {data!r}")
    allowed = (*required, *optional)
    for key in data:
        if key not in allowed:
            raise InvalidSchedule(
                _join(path, str(key)), f"unknown field; allowed: {', '.join(allowed)}"
            )
    for key in required:
        if key not in data:
            raise InvalidSchedule(_join(path, key), "required")
    return cast(Mapping[str, object], data)


def _list(value: object, path: str) -> list[object]:
    if not isinstance(value, list):
        raise InvalidSchedule(path, f"expected a list, got {value!r}")
    return value


def _text(value: object, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidSchedule(path, f"expected a non-empty string, got {value!r}")
    return value


def _user(value: object, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidSchedule(path, f"expected a user name, got {value!r}")
    return value


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
