"""YAML in and out: the one module that imports PyYAML.

Parsing uses libyaml's composer (``CSafeLoader``) to get a node tree with
source marks, and builds plain dicts, lists and scalars from it here, in
Python, so that the rules libyaml's constructor does not know are enforced in
the same pass: duplicate keys, allowed tags, and bounded alias expansion.
Dumping uses libyaml's emitter (``CSafeDumper``).

A document's node tree is dropped once its data is built: keeping the trees
of a large stream alive costs far more (in memory and in garbage-collector
passes over millions of marks) than building them. A ``Span`` remembers where
the document is in its text, and composes its tree again, from that slice
alone, only when a position inside it is asked for.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

Node = yaml.Node

_TAG = "tag:yaml.org,2002:"
_STR, _MAP, _SEQ, _MERGE = _TAG + "str", _TAG + "map", _TAG + "seq", _TAG + "merge"
# Scalars built by PyYAML's safe constructor; timestamps stay text (labels
# like "2024-01-01" are strings to us).
_SCALAR_TAGS = {_TAG + t for t in ("int", "float", "bool", "null")}
_INT = _TAG + "int"
_MAX_INT_TEXT = 100  # longer is never a 64-bit integer worth parsing (Python stops at 4300 digits)
_TEXT_TAGS = {_STR, _TAG + "timestamp"}
_KEY_TAGS = _TEXT_TAGS | _SCALAR_TAGS
_ScalarNode = yaml.ScalarNode
_NODE_KINDS = {yaml.ScalarNode: "scalar", yaml.MappingNode: "mapping", yaml.SequenceNode: "list"}
MAX_DEPTH = 100
# Alias expansion may visit this many nodes more than the document has characters.
ALIAS_ALLOWANCE = 1000
# Alias expansion may yield this many characters of text (keys and scalars)
# more than the document has: a few anchors of 100 KB, used a few thousand
# times, fit the node allowance and would still expand to gigabytes.
EXPANSION_ALLOWANCE = 1 << 20
_SHOWN_PATH_STEPS = 12  # a deeper path is cut here, so that a problem stays readable
_PLAIN_KEY = re.compile(r"[\w-]+", re.ASCII)
# Line breaks to Python's str.splitlines, C1 controls and bidi overrides, which JSON
# leaves unescaped: a message shows them escaped, so it stays one line and reads as written.
_LINE_BREAKS = str.maketrans(
    {chr(c): f"\\u{c:04x}" for c in (*range(0x80, 0xA0), 0x2028, 0x2029, *range(0x202A, 0x202F))}
    | {chr(c): f"\\u{c:04x}" for c in range(0x2066, 0x206A)}
)
_safe = yaml.constructor.SafeConstructor()


_Resolvers = tuple[tuple[str, re.Pattern[str]], ...]  # (tag, regexp) pairs, tried in order


def _implicit_resolvers() -> dict[str | None, _Resolvers]:
    """The safe loader's implicit tag resolvers by first character, wildcards appended."""
    table = yaml.CSafeLoader.yaml_implicit_resolvers
    wildcard = tuple(table.get(None, ()))
    out = {first: tuple(found) + wildcard for first, found in table.items()}
    out[None] = wildcard
    return out


_RESOLVERS = _implicit_resolvers()


class _Loader(yaml.CSafeLoader):
    """libyaml's safe loader with a leaner tag resolver.

    libyaml calls back into Python to resolve the tag of every node; PyYAML's
    resolver also tracks path resolvers, which the safe loader never has. This
    one resolves plain scalars by the same table and regular expressions, and
    is about three times faster; that saves a sixth of the time to load a
    manifest.
    """

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None

    def resolve(
        self,
        kind: Any,
        value: Any,
        implicit: Any,
        _scalar: type = yaml.ScalarNode,  # bound here: this runs once per node
        _sequence: type = yaml.SequenceNode,
        _resolvers: dict[str | None, _Resolvers] = _RESOLVERS,
        _wildcards: _Resolvers = _RESOLVERS[None],
    ) -> str:
        if kind is _scalar:
            if implicit[0] and (candidates := _resolvers.get(value[:1], _wildcards)):
                return _RESOLVED.get(value) or _resolve_plain(value, candidates)
            return _STR
        return _SEQ if kind is _sequence else _MAP


# The tags of plain scalars that the resolvers' regular expressions had to decide, by
# text. Keys and many values repeat from one document to the next ("name", "team-1"),
# and a lookup costs a tenth of a match; the table is emptied when it is full.
_RESOLVED: dict[str, str] = {}
_RESOLVED_MAX = 8192


def _resolve_plain(value: str, candidates: _Resolvers) -> str:
    """The tag of a plain scalar, by the first resolver that matches; remembered."""
    found = _STR
    for tag, regexp in candidates:
        if regexp.match(value):
            found = tag
            break
    if len(_RESOLVED) >= _RESOLVED_MAX:
        _RESOLVED.clear()
    _RESOLVED[value] = found
    return found


class YamlProblem(Exception):
    """A YAML document that cannot be used; ``line``/``column`` are 1-based."""

    def __init__(self, message: str, line: int = 0, column: int = 0, path: str = "") -> None:
        super().__init__(message)
        self.message, self.line, self.column, self.path = message, line, column, path
        self.steps: list[str | int] = []  # innermost first, added while unwinding

    def within(self, step: str | int, parent: Node, child: Node, where: Node) -> None:
        """Records that the problem is inside ``step`` of ``parent``, whose value is ``child``.

        A child that lies outside its parent in the text was reached through
        an alias; its marks are those of the anchored original. The problem is
        then placed at ``where`` (the entry's key, or the parent), which is
        where the alias, and so the use, is.
        """
        self.steps.append(step)
        index = child.start_mark.index
        if not parent.start_mark.index <= index < parent.end_mark.index:
            self.line, self.column = position(where)

    def finish(self) -> YamlProblem:
        """Turns the recorded steps into ``path``, shortened when very deep."""
        if self.steps:
            steps = self.steps[::-1]
            if len(steps) <= _SHOWN_PATH_STEPS + 2:
                self.path = format_path(steps)
            else:
                cut = len(steps) - _SHOWN_PATH_STEPS
                self.path = format_path(steps[:_SHOWN_PATH_STEPS]) + f"...({cut} more levels)"
        return self


def format_path(path: list[str | int] | tuple[str | int, ...]) -> str:
    """``("spec", "mcpServers", 0, "name")`` -> ``spec.mcpServers[0].name``.

    Keys other than letters, digits, "_" and "-" are quoted, as in
    ``metadata.labels["app.kubernetes.io/name"]``, so a path is one line.
    """
    out = ""
    for step in path:
        if isinstance(step, int):
            out += f"[{step}]"
        elif _PLAIN_KEY.fullmatch(step):
            out = f"{out}.{step}" if out else step
        else:
            out += f"[{show(step)}]"
    return out


def show(value: Any, limit: int = 60) -> str:
    """A value as JSON on one line, for a message; shortened past ``limit`` characters."""
    if isinstance(value, str):
        shown = value if len(value) <= limit else value[:limit] + "..."
        return json.dumps(shown, ensure_ascii=False).translate(_LINE_BREAKS)
    try:
        text = json.dumps(value, ensure_ascii=False, default=str).translate(_LINE_BREAKS)
    except ValueError:  # an integer with more digits than Python will print
        return "a number too large to show"
    return text if len(text) <= limit else text[:limit] + "..."


@dataclass(slots=True)
class Span:
    """Where a document is in its text; composes the document's node tree on demand."""

    text: str
    start: int  # character offset of the start of the line where the document begins
    end: int  # character offset just past the document
    line: int  # 1-based line of ``start``
    tree: Node | None = field(default=None, repr=False)
    failed: bool = False

    def locate(self, path: tuple[str | int, ...]) -> tuple[int, int] | None:
        """The absolute (line, column) of ``path``, or None if the tree cannot be rebuilt."""
        if self.tree is None and not self.failed:
            self.tree = _compose_slice(self.text[self.start : self.end])
            self.failed = self.tree is None
        if self.tree is None:
            return None
        line, column = locate(self.tree, path)
        return line + self.line - 1, column


def _compose_slice(text: str) -> Node | None:
    """The node tree of the first document of ``text``; None when it does not compose."""
    loader = _Loader(text)
    try:
        node = loader.get_node() if loader.check_node() else None
    except yaml.YAMLError:
        node = None  # e.g. a %TAG directive that lay before the slice
    finally:
        loader.dispose()
    return node


@dataclass(slots=True)
class RawDocument:
    """One parsed document: its data, where it starts, and its span in the text."""

    data: Any
    line: int
    column: int
    span: Span = field(repr=False)


def position(node: Node) -> tuple[int, int]:
    """The 1-based (line, column) where a node starts."""
    return node.start_mark.line + 1, node.start_mark.column + 1


def _fail(node: Node, message: str) -> YamlProblem:
    return YamlProblem(message, *position(node))


def _show_tag(tag: str) -> str:
    return show("!!" + tag[len(_TAG) :] if tag.startswith(_TAG) else tag)


class _Builder:
    """Turns one node tree into Python data, enforcing our rules.

    Paths are not tracked on the way down: a problem records its steps while
    it unwinds, so the common, valid case pays nothing for them.

    Only aliases make a document expand: without one, each node is visited
    once and its text is in the document, so neither bound can be reached.
    Unless ``bounded``, the builder does not count (a local flag per loop,
    instead of two counters per value).
    """

    __slots__ = ("bounded", "budget", "char_limit", "chars", "limit")

    def __init__(self, budget: int, chars: int, *, bounded: bool = True) -> None:
        self.bounded = bounded
        self.budget = self.limit = budget  # node visits left; aliases re-visit shared nodes
        self.chars = self.char_limit = chars  # characters of keys and scalars left, likewise

    def too_long(self, node: Node) -> YamlProblem:
        return _fail(
            node,
            f"aliases expand this document to more than {self.char_limit} characters "
            f"(its own size plus {EXPANSION_ALLOWANCE // (1 << 20)} MiB); "
            "refusing a possible YAML bomb",
        )

    def visit(self, node: Node) -> None:
        """Counts one more node visit against the bound."""
        self.budget -= 1
        if self.budget < 0:
            raise _fail(
                node,
                f"aliases expand to more than {self.limit} values; refusing a possible YAML bomb",
            )

    def spend(self, node: Node) -> None:
        """Counts a scalar's characters against the bound."""
        self.chars -= len(node.value)
        if self.chars < 0:
            raise self.too_long(node)

    def build(self, node: Node, depth: int) -> Any:
        if self.bounded:
            self.visit(node)
        if depth > MAX_DEPTH:
            raise _fail(node, f"nesting deeper than {MAX_DEPTH} levels")
        tag = node.tag
        cls = type(node)
        if tag in _TEXT_TAGS:
            if cls is yaml.ScalarNode:
                if self.bounded:
                    self.spend(node)
                return node.value
        elif tag == _MAP:
            if cls is yaml.MappingNode:
                return self.mapping(node, depth)
        elif tag == _SEQ:
            if cls is yaml.SequenceNode:
                return self.sequence(node, depth)
        elif tag in _SCALAR_TAGS:
            if cls is yaml.ScalarNode:
                return self.scalar(node, tag)
        else:
            raise _fail(node, f"tag {_show_tag(tag)} is not allowed; only plain data is")
        raise _fail(node, f"tag {_show_tag(tag)} cannot be used on a {_NODE_KINDS[cls]}")

    def scalar(self, node: Node, tag: str) -> Any:
        if self.bounded:
            self.spend(node)
        if tag == _INT and len(node.value) > _MAX_INT_TEXT:
            raise _fail(node, f"{show(node.value)} is out of range (integers have at most 64 bits)")
        try:
            value = _safe.yaml_constructors[tag](_safe, node)
        except (ValueError, KeyError, IndexError, yaml.YAMLError):
            message = f"{show(node.value)} is not a valid {_show_tag(tag)[1:-1]}"
            raise _fail(node, message) from None
        if tag == _INT and value.bit_length() > 64:
            raise _fail(node, f"{show(node.value)} is out of range (integers have at most 64 bits)")
        return value

    def sequence(self, node: Node, depth: int) -> list[Any]:
        out = []
        build, bounded = self.build, self.bounded
        inline = depth < MAX_DEPTH  # items are within the depth bound
        for i, item in enumerate(node.value):
            if (
                inline
                and item.tag == _STR
                and type(item) is _ScalarNode
                and (not bounded or (self.budget > 0 and len(item.value) <= self.chars))
            ):
                if bounded:
                    self.budget -= 1  # the common case, inlined: a plain string
                    self.chars -= len(item.value)
                out.append(item.value)
                continue
            try:
                out.append(build(item, depth + 1))
            except YamlProblem as e:
                e.within(i, node, item, node)
                raise
        return out

    def mapping(self, node: Node, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        merged: dict[str, Any] | None = None
        build, bounded = self.build, self.bounded
        inline = depth < MAX_DEPTH  # values are within the depth bound
        for key_node, value_node in node.value:
            tag = key_node.tag
            if tag == _MERGE:
                merged = {**(merged or {}), **self.merge(node, key_node, value_node, depth)}
                continue
            if tag not in _KEY_TAGS or type(key_node) is not _ScalarNode:
                raise _fail(key_node, "mapping keys must be plain strings")
            key = key_node.value  # a str: libyaml gives every scalar's text, 1 and true too
            if key in out:
                raise self.duplicate(node, key_node, key)
            if bounded:
                self.chars -= len(key)
                if self.chars < 0:
                    problem = self.too_long(key_node)
                    problem.steps.append(key)
                    raise problem
            if (
                inline
                and value_node.tag == _STR
                and type(value_node) is _ScalarNode
                and (not bounded or (self.budget > 0 and len(value_node.value) <= self.chars))
            ):
                if bounded:
                    self.budget -= 1  # the common case, inlined: a plain string
                    self.chars -= len(value_node.value)
                out[key] = value_node.value
                continue
            try:
                out[key] = build(value_node, depth + 1)
            except YamlProblem as e:
                e.within(key, node, value_node, key_node)
                raise
        return {**merged, **out} if merged else out

    def duplicate(self, node: Node, key_node: Node, key: str) -> YamlProblem:
        first = next(k for k, _ in node.value if k.tag != _MERGE and str(k.value) == key)
        problem = _fail(
            key_node, f"duplicate key {show(key)} (first defined at line {position(first)[0]})"
        )
        problem.steps.append(key)
        return problem

    def merge(self, parent: Node, key_node: Node, node: Node, depth: int) -> dict[str, Any]:
        """The mappings of a ``<<:`` merge key; earlier ones win, as in YAML 1.1.

        A problem inside a merged mapping is placed at the ``<<`` key when the
        mapping came through an alias, as it usually does.
        """
        sources = node.value if type(node) is yaml.SequenceNode else [node]
        values = []
        for source in sources:
            aliased = not parent.start_mark.index <= source.start_mark.index < parent.end_mark.index
            try:
                value = self.build(source, depth + 1)
                if not isinstance(value, dict):
                    raise _fail(source, "a merge key (<<) needs a mapping, or a list of mappings")
            except YamlProblem as e:
                if aliased:
                    e.line, e.column = position(key_node)
                raise
            values.append(value)
        result: dict[str, Any] = {}
        for value in reversed(values):
            result.update(value)
        return result


def parse_stream(text: str) -> tuple[list[RawDocument], list[YamlProblem]]:
    """Every non-empty document of a YAML stream, and the problems of the others."""
    docs: list[RawDocument] = []
    problems: list[YamlProblem] = []
    for item in iter_stream(text):
        if isinstance(item, YamlProblem):
            problems.append(item)
        else:
            docs.append(item)
    return docs, problems


def iter_stream(text: str) -> Iterator[RawDocument | YamlProblem]:
    """The non-empty documents of a YAML stream as they are parsed, and the problems of others.

    A document the builder refuses is reported and skipped; a syntax error
    ends the stream, keeping the documents before it.
    """
    try:
        loader = _Loader(text)
    except UnicodeEncodeError as e:  # only a str built in code can hold a lone surrogate
        line, column = _line_column(text, e.start)
        yield YamlProblem("not valid Unicode text (a lone surrogate)", line, column)
        return
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None or (node.tag == _TAG + "null" and type(node) is yaml.ScalarNode):
                continue  # an empty document
            start, end = node.start_mark, node.end_mark
            size = end.index - start.index
            # An alias is written "*name"; a document without a "*" has none.
            aliased = text.find("*", start.index, end.index) >= 0
            builder = _Builder(
                budget=size + ALIAS_ALLOWANCE, chars=size + EXPANSION_ALLOWANCE, bounded=aliased
            )
            try:
                data = builder.build(node, 0)
            except YamlProblem as e:
                yield e.finish()
                continue
            span = Span(text, start.index - start.column, end.index, start.line + 1)
            yield RawDocument(data, start.line + 1, start.column + 1, span)
    except yaml.MarkedYAMLError as e:
        yield _syntax_problem(e, text)
    except yaml.reader.ReaderError as e:
        where = _line_column_of_byte(text, e.position)
        char = e.character if isinstance(e.character, int) else ord(str(e.character)[:1] or "?")
        yield YamlProblem(f"unacceptable character #x{char:04x}: {e.reason}", *where)
    except yaml.YAMLError as e:
        yield YamlProblem(str(e).splitlines()[0])
    finally:
        loader.dispose()


def _line_column(text: str, index: int) -> tuple[int, int]:
    """1-based (line, column) of a character offset, counting "\\n" as the line break."""
    line_start = text.rfind("\n", 0, index) + 1
    return text.count("\n", 0, index) + 1, index - line_start + 1


def _line_column_of_byte(text: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of an offset into the UTF-8 encoding of ``text``."""
    prefix = text.encode("utf-8", "surrogatepass")[:offset].decode("utf-8", "replace")
    return _line_column(text, len(prefix))


def _syntax_problem(e: yaml.MarkedYAMLError, text: str) -> YamlProblem:
    """libyaml's message, on one line, with where the construct it was reading began."""
    mark = e.problem_mark or e.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
    message = e.problem or e.context or "invalid YAML"
    if e.problem == "found undefined alias" and line:
        name = re.match(r"\*([^\s,\[\]{}]*)", _line_at(text, line)[column - 1 :])
        if name:
            alias, anchor = show("*" + name[1]), show("&" + name[1])
            message = f"undefined alias {alias}: no anchor {anchor} comes before it"
            return YamlProblem(message, line, column)
    if e.problem and e.context:
        context = e.context
        start = e.context_mark
        if start is not None and mark is not None and start.line != mark.line:
            context += f" that starts at line {start.line + 1}, column {start.column + 1}"
        message += f" ({context})"
    if line and _char_at(text, line, column) == "\t":
        message += "; YAML does not allow tabs for indentation, use spaces"
    return YamlProblem(message, line, column)


def _line_at(text: str, line: int) -> str:
    """Line ``line`` (1-based) of the text, split as libyaml counts lines."""
    lines = text.splitlines()
    return lines[line - 1] if line <= len(lines) else ""


def _char_at(text: str, line: int, column: int) -> str:
    found = _line_at(text, line)
    return found[column - 1] if column <= len(found) else ""


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
