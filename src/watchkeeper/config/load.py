"""Read and check a configuration file, collecting every error with its YAML path."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from watchkeeper.config.references import check_references
from watchkeeper.config.schema import SECTIONS, Config, Model, Outbound
from watchkeeper.config.yaml_source import child_path, read_yaml
from watchkeeper.errors import ConfigError

LineOf = Callable[[str], int | None]
Errors = list[tuple[str, str]]


def load_config(text: str, *, source: str) -> Config:
    """Parse and check YAML text; raises ConfigError listing every problem found."""
    doc = read_yaml(text, source=source)
    if doc.errors and doc.data is None:
        raise ConfigError(doc.errors)
    return validate_config(doc.data, line_of=doc.line_of, earlier=doc.errors)


def check_config(text: str, *, source: str) -> Errors:
    """Every problem of a configuration text as (YAML path, message); empty when it is valid."""
    try:
        load_config(text, source=source)
    except ConfigError as exc:
        return exc.errors
    return []


def check_file(path: str | Path) -> Errors:
    """`watchkeeper check-config FILE`: the problems of one file, none when it is valid."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [("", f"cannot read {path}: {exc}")]
    return check_config(text, source=str(path))


def validate_config(
    data: object, *, line_of: LineOf | None = None, earlier: Errors | None = None
) -> Config:
    """Check already-parsed data (a YAML document, or a JSON body of `PUT /api/v1/config`).

    Each item is validated on its own so that one bad item does not hide the others, and
    the references between sections are checked on the data itself, so every problem of
    the file is reported at once.
    """
    errors: Errors = list(earlier or [])
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        errors.append(("", f"the file must be a mapping of sections ({', '.join(_top_keys())})"))
        raise ConfigError(_ordered(errors, line_of))
    for key in data:
        if key not in _top_keys():
            errors.append((str(key), _unknown_key(key, _top_keys())))
    fields: dict[str, Any] = {}
    for section, model in SECTIONS.items():
        raw = data.get(section)
        items = [] if raw is None else raw
        fields[section] = []
        if not isinstance(items, list):
            errors.append((section, f"must be a list of {section.replace('_', ' ')}"))
            continue
        for position, item in enumerate(items):
            try:
                fields[section].append(model.model_validate(item))
            except ValidationError as exc:
                errors.extend(_from_pydantic(exc, f"{section}[{position}]", model))
    try:
        fields["outbound"] = Outbound.model_validate(data.get("outbound") or {})
    except ValidationError as exc:
        errors.extend(_from_pydantic(exc, "outbound", Outbound))
        fields["outbound"] = Outbound()
    errors.extend(check_references(data))
    if errors:
        raise ConfigError(_ordered(errors, line_of))
    return Config.model_construct(**fields)


def _top_keys() -> list[str]:
    return _keys_of(Config)


def _keys_of(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def _ordered(errors: Errors, line_of: LineOf | None) -> Errors:
    """Errors in file order, each message ending with its line when the file tells it."""
    if line_of is None:
        return errors
    lined = [(line_of(path), path, message) for path, message in errors]
    lined.sort(key=lambda entry: entry[0] or 0)
    return [
        (path, message if line is None else f"{message} (line {line})")
        for line, path, message in lined
    ]


def _from_pydantic(exc: ValidationError, prefix: str, model: type[Model]) -> Errors:
    out: Errors = []
    for error in exc.errors(include_url=False):
        path = prefix
        for part in error["loc"]:
            path = child_path(path, part)
        out.append((path, _message(error, model)))
    return out


def _message(error: ErrorDetails, model: type[Model]) -> str:
    kind, loc = error["type"], error["loc"]
    if kind == "extra_forbidden":
        owner = _model_at(model, loc[:-1])
        return _unknown_key(loc[-1], _keys_of(owner) if owner else [])
    if kind == "missing":
        return "is required"
    if kind == "value_error":
        return str(error.get("ctx", {}).get("error", error["msg"]))
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be a mapping (key: value), not {_kind(error['input'])}"
    if kind == "string_type" and isinstance(error["input"], int | float):
        # An unquoted 0151... or 010 is a number in YAML: the digits as typed are gone.
        return f"must be text: write it in quotes (got {error['input']!r})"
    if kind == "list_type":
        return f"must be a list, not {_kind(error['input'])}"
    message = error["msg"]
    if loc and loc[-1] in ("key", "secret"):
        return message  # never echo a secret
    return f"{message} (got {error['input']!r})"


def _kind(value: object) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the text {value!r}"
    return f"the value {value!r}"


def _unknown_key(key: object, allowed: list[str]) -> str:
    close = difflib.get_close_matches(str(key), allowed, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown key {key!r}{hint} (allowed: {', '.join(allowed)})"


def _model_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model that owns the key at `loc` inside `model`, to list its allowed keys."""
    current: type[BaseModel] | None = model
    for part in loc:
        if isinstance(part, int) or current is None:
            continue
        fields = {info.alias or name: info for name, info in current.model_fields.items()}
        info = fields.get(part)
        current = _inner_model(info.annotation) if info is not None else None
    return current


def _inner_model(annotation: object) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (list, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _inner_model(arg)
            if found is not None:
                return found
    return None
