"""Safe YAML reading for config: plain data only, duplicate keys refused, line per path kept."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_BYTES: Final = 10_000_000
# Aliases can make a small file expand exponentially ("billion laughs"); a real
# configuration has far fewer values than this.
MAX_VALUES: Final = 1_000_000

_MERGE_TAG: Final = "tag:yaml.org,2002:merge"


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 scalars: `no`/`on` stay text, `18:00` is not 1080 (base 60),
    `010` is ten and dates stay text for the schema to read."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag.rsplit(":", 1)[-1] in ("null", "merge")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


def _decimal_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    return int(loader.construct_scalar(node))


_Loader.add_constructor("tag:yaml.org,2002:int", _decimal_int)


@dataclass
class Document:
    """The parsed data, the line of each path (1-based) and the problems found on the way."""

    data: Any
    lines: dict[str, int] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)

    def line_of(self, path: str) -> int | None:
        """The line of `path`, or of its nearest ancestor present in the file."""
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = _parent(path)


def _parent(path: str) -> str:
    cut = max(path.rfind("."), path.rfind("["))
    return path[:cut] if cut > 0 else ""


def child_path(path: str, key: object) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def read_yaml(text: str, *, source: str) -> Document:
    """Parse one YAML document; syntax errors come back in `errors`, never raised."""
    if len(text.encode()) > MAX_BYTES:
        return Document(None, errors=[("", f"{source} is larger than {MAX_BYTES} bytes")])
    loader = _Loader(text)
    try:
        return _read(loader, source)
    finally:
        loader.dispose()


def _read(loader: _Loader, source: str) -> Document:
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        return Document(None, errors=[("", f"{source}: YAML syntax error at {where}: {problem}")])
    except yaml.YAMLError as exc:
        return Document(None, errors=[("", f"{source}: not valid YAML: {exc}")])
    except RecursionError:
        return Document(None, errors=[("", f"{source}: nested too deeply")])
    doc = Document(None)
    if node is None:
        return doc
    try:
        size = _expanded_size(node, {}, set())
    except ValueError as exc:
        doc.errors.append(("", str(exc)))
        return doc
    if size > MAX_VALUES:
        doc.errors.append(("", f"{source} expands to more than {MAX_VALUES} values (aliases?)"))
        return doc
    doc.data = _Builder(loader, doc).build(node, "")
    return doc


def _expanded_size(node: Node, memo: dict[int, int], active: set[int]) -> int:
    key = id(node)
    if key in memo:
        return memo[key]
    if key in active:
        line = node.start_mark.line + 1
        raise ValueError(f"an alias at line {line} refers to a value that contains it")
    active.add(key)
    total = 1
    if isinstance(node, MappingNode):
        total += sum(_expanded_size(v, memo, active) for _, v in node.value)
    elif isinstance(node, SequenceNode):
        total += sum(_expanded_size(v, memo, active) for v in node.value)
    active.discard(key)
    memo[key] = total
    return total


class _Builder:
    def __init__(self, loader: _Loader, doc: Document) -> None:
        self._loader = loader
        self._doc = doc

    def build(self, node: Node, path: str) -> Any:
        self._doc.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            return [self.build(item, child_path(path, i)) for i, item in enumerate(node.value)]
        assert isinstance(node, ScalarNode)
        try:
            return self._loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            self._doc.errors.append((path, f"cannot read this value: {exc}"))
            return None

    def _mapping(self, node: MappingNode, path: str) -> dict[Any, Any]:
        merged: dict[Any, Any] = {}
        own: dict[Any, Any] = {}
        first_line: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                # Earlier mappings in a merge list win over later ones.
                for source_node in reversed(sources):
                    value = self.build(source_node, path)
                    if isinstance(value, dict):
                        merged.update(value)
                    else:
                        self._doc.errors.append((path, "`<<` merges mappings only"))
                continue
            if not isinstance(key_node, ScalarNode):
                line = key_node.start_mark.line + 1
                self._doc.errors.append((path, f"a key at line {line} is not plain text"))
                continue
            key = self._loader.construct_object(key_node)
            line = key_node.start_mark.line + 1
            where = child_path(path, key)
            if key in own:
                self._doc.errors.append(
                    (where, f"duplicate key {key!r} (line {line}; first at line {first_line[key]})")
                )
            first_line.setdefault(key, line)
            own[key] = self.build(value_node, where)
            self._doc.lines[where] = line
        merged.update(own)
        return merged
