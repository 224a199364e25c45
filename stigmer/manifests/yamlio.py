"""YAML in and out: the one module that imports PyYAML.

Parsing uses libyaml's composer (``CSafeLoader``) to get a node tree with
source marks, and builds plain dicts, lists and scalars from it here, in
Python, so that the rules libyaml's constructor does not know are enforced in
the same pass: duplicate keys, allowed tags, and bounded alias expansion.
Dumping uses libyaml's emitter (``CSafeDumper``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

Node = yaml.Node

_TAG = "tag:yaml.org,2002:"
_STR, _MAP, _SEQ, _MERGE = _TAG + "str", _TAG + "map", _TAG + "seq", _TAG + "merge"
# Scalars built by PyYAML's safe constructor; timestamps stay text (labels
# like "2024-01-01" are strings to us).
_SCALAR_TAGS = {_TAG + t for t in ("int", "float", "bool", "null")}
_TEXT_TAGS = {_STR, _TAG + "timestamp"}
MAX_DEPTH = 100
_safe = yaml.constructor.SafeConstructor()


class YamlProblem(Exception):
    """A YAML document that cannot be used; ``line``/``column`` are 1-based."""

    def __init__(self, message: str, line: int = 0, column: int = 0, path: str = "") -> None:
        super().__init__(message)
        self.message, self.line, self.column, self.path = message, line, column, path


@dataclass(slots=True)
class RawDocument:
    """One parsed document: its data, its node tree, and where it starts and ends."""

    data: Any
    node: Node
    line: int
    column: int
    size: int  # characters from the document's start to its end


def position(node: Node) -> tuple[int, int]:
    """The 1-based (line, column) where a node starts."""
    return node.start_mark.line + 1, node.start_mark.column + 1


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class _Builder:
    """Turns one node tree into Python data, enforcing our rules."""

    def __init__(self, budget: int) -> None:
        self.budget = budget  # node visits left; aliases re-visit shared nodes

    def fail(self, node: Node, path: str, message: str) -> YamlProblem:
        return YamlProblem(message, *position(node), path=path)

    def build(self, node: Node, path: str, depth: int) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise self.fail(node, path, "alias expansion is too large (a YAML bomb?)")
        if depth > MAX_DEPTH:
            raise self.fail(node, path, f"nesting deeper than {MAX_DEPTH} levels")
        tag = node.tag
        if tag in _TEXT_TAGS:
            return node.value
        if tag == _MAP:
            return self.mapping(node, path, depth)
        if tag == _SEQ:
            return [self.build(v, _join(path, i), depth + 1) for i, v in enumerate(node.value)]
        if tag in _SCALAR_TAGS:
            return _safe.yaml_constructors[tag](_safe, node)
        raise self.fail(node, path, f'tag "{tag}" is not allowed')

    def key(self, node: Node, path: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag not in _TEXT_TAGS | _SCALAR_TAGS:
            raise self.fail(node, path, "mapping keys must be plain strings")
        return str(node.value)

    def mapping(self, node: Node, path: str, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        seen: dict[str, int] = {}
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merged.update(self.merge(value_node, path, depth))
                continue
            key = self.key(key_node, path)
            if key in seen:
                raise self.fail(
                    key_node,
                    _join(path, key),
                    f'duplicate key "{key}" (first defined at line {seen[key]})',
                )
            seen[key] = key_node.start_mark.line + 1
            out[key] = self.build(value_node, _join(path, key), depth + 1)
        return {**merged, **out} if merged else out

    def merge(self, node: Node, path: str, depth: int) -> dict[str, Any]:
        """The mappings of a ``<<:`` merge key; earlier ones win, as in YAML 1.1."""
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        result: dict[str, Any] = {}
        for source in reversed(sources):
            value = self.build(source, path, depth + 1)
            if not isinstance(value, dict):
                raise self.fail(source, path, "a merge key (<<) needs a mapping")
            result.update(value)
        return result


def parse_stream(text: str) -> tuple[list[RawDocument], list[YamlProblem]]:
    """Every non-empty document of a YAML stream, and the problems of the others.

    A document the builder refuses is reported and skipped; a syntax error
    ends the stream, keeping the documents before it.
    """
    loader = yaml.CSafeLoader(text)
    docs: list[RawDocument] = []
    problems: list[YamlProblem] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == _TAG + "null"):
                continue  # an empty document
            size = node.end_mark.index - node.start_mark.index
            builder = _Builder(budget=size + 1000)  # alias-free documents never run out
            try:
                data = builder.build(node, "", 0)
            except YamlProblem as e:
                problems.append(e)
                continue
            docs.append(RawDocument(data, node, *position(node), size))
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        problems.append(YamlProblem(_describe(e), line, column))
    except yaml.YAMLError as e:
        problems.append(YamlProblem(str(e).splitlines()[0]))
    finally:
        loader.dispose()
    return docs, problems


def _describe(e: yaml.MarkedYAMLError) -> str:
    """libyaml's message, on one line and without the duplicated marks."""
    parts = [p for p in (e.problem, e.context) if p]
    return "; ".join(parts) if parts else "invalid YAML"


def locate(node: Node, path: tuple[str | int, ...]) -> tuple[int, int]:
    """The (line, column) of the deepest node along ``path`` that exists.

    For a mapping entry it is the key's position, which is where a reader
    looks; camelCase and snake_case spellings of a key both match.
    """
    here = position(node)
    for step in path:
        if isinstance(node, yaml.MappingNode) and isinstance(step, str):
            wanted = {step, _snake(step)}
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value in wanted:
                    here, node = position(key_node), value_node
                    break
            else:
                return here
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value)
        ):
            node = node.value[step]
            here = position(node)
        else:
            return here
    return here


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def dump(data: Any) -> str:
    """YAML text for plain data, keys in the order given, unicode kept."""
    return yaml.dump(
        data, Dumper=yaml.CSafeDumper, sort_keys=False, allow_unicode=True, default_flow_style=False
    )


def dump_all(documents: list[Any]) -> str:
    """Several documents separated by ``---``."""
    return yaml.dump_all(
        documents,
        Dumper=yaml.CSafeDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
    )
