"""kubectl's JSONPath templates: ``-o jsonpath``, ``-o custom-columns`` and ``--sort-by``.

The one module that imports jsonpath-ng, a maintained JSONPath library: it
evaluates each path (fields, ``[*]``, ``[n]``, slices, ``..`` and ``[?()]``
filters). kubectl's template around the paths is not JSONPath, so it is
parsed here: text outside braces is printed as is, ``{.path}`` prints what
the path finds (several results space-separated), ``{"\\n"}`` prints a
string, and ``{range .path}...{end}`` repeats its body for each result,
whose paths are then relative to that result (``$`` is still the root).
A missing field prints nothing, as kubectl's default
``--allow-missing-template-keys`` does.

jsonpath-ng costs ~40 ms to import, so only these outputs import it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from jsonpath_ng.exceptions import JSONPathError
from jsonpath_ng.ext.parser import parse as _parse

from stigmer.errors import UsageError

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}


@dataclass(slots=True)
class _Node:
    """Text, a path, or a range over a path with a body of nodes."""

    text: str = ""
    path: str = ""
    body: list[_Node] | None = None  # set for a range


@cache
def _compiled(path: str) -> Any:
    """jsonpath-ng's parse of a kubectl path: ``.a.b`` and ``[0]`` start at the current value."""
    expr = path.strip()
    if expr.startswith("@"):
        expr = "$" + expr[1:]
    elif expr.startswith((".", "[")):
        expr = "$" + expr
    elif not expr.startswith("$"):
        expr = "$." + expr
    try:
        return _parse(expr)
    except (JSONPathError, ValueError, TypeError) as e:  # a lexer, parser or slice error
        raise UsageError(f'bad JSONPath "{path}": {e}') from e


def find(path: str, current: Any, root: Any | None = None) -> list[Any]:
    """What ``path`` finds: from ``root`` when it starts with ``$``, else from ``current``."""
    start = root if path.strip().startswith("$") and root is not None else current
    return [m.value for m in _compiled(path).find(start)]


def show(value: Any) -> str:
    """A found value as kubectl prints it: strings bare, the rest as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def strip_braces(expr: str) -> str:
    """``{.a.b}`` or ``.a.b``: the path inside (custom-columns and --sort-by take both)."""
    expr = expr.strip()
    if expr.startswith("{") and expr.endswith("}"):
        return expr[1:-1]
    return expr


def _split(template: str) -> list[tuple[bool, str]]:
    """(inside braces?, text) pieces; quotes inside braces may hold braces."""
    pieces: list[tuple[bool, str]] = []
    i, text = 0, []
    while i < len(template):
        char = template[i]
        if char != "{":
            text.append(char)
            i += 1
            continue
        if text:
            pieces.append((False, "".join(text)))
            text = []
        end, quote = i + 1, ""
        while end < len(template) and (quote or template[end] != "}"):
            if template[end] in "\"'" and not quote:
                quote = template[end]
            elif template[end] == quote and template[end - 1] != "\\":
                quote = ""
            end += 1
        if end >= len(template):
            raise UsageError(f'unclosed "{{" in JSONPath template "{template}"')
        pieces.append((True, template[i + 1 : end]))
        i = end + 1
    if text:
        pieces.append((False, "".join(text)))
    return pieces


def _literal(inner: str) -> str | None:
    """The string a ``{"..."}`` piece prints, with its escapes, or None if not a string."""
    inner = inner.strip()
    if len(inner) < 2 or inner[0] not in "\"'" or inner[-1] != inner[0]:
        return None
    out, chars = [], iter(inner[1:-1])
    for char in chars:
        out.append(_ESCAPES.get(next(chars, ""), "") if char == "\\" else char)
    return "".join(out)


def parse(template: str) -> list[_Node]:
    """The nodes of a template; UsageError on an unbalanced range/end or a bad path."""
    stack: list[list[_Node]] = [[]]
    for braced, piece in _split(template):
        words = piece.strip().split(None, 1)
        if not braced:
            stack[-1].append(_Node(text=piece))
        elif (text := _literal(piece)) is not None:
            stack[-1].append(_Node(text=text))
        elif words and words[0] == "range":
            body: list[_Node] = []
            node = _Node(path=words[1] if len(words) > 1 else "", body=body)
            _compiled(node.path)
            stack[-1].append(node)
            stack.append(body)
        elif words == ["end"]:
            if len(stack) == 1:
                raise UsageError(f'"{{end}}" without "{{range}}" in "{template}"')
            stack.pop()
        else:
            _compiled(piece)
            stack[-1].append(_Node(path=piece))
    if len(stack) != 1:
        raise UsageError(f'"{{range}}" without "{{end}}" in "{template}"')
    return stack[0]


def render(nodes: list[_Node], current: Any, root: Any | None = None) -> str:
    """The text the template's nodes print for ``current`` (``root``: the whole input)."""
    root = current if root is None else root
    out = []
    for node in nodes:
        if node.body is not None:
            for item in find(node.path, current, root):
                out.append(render(node.body, item, root))
        elif node.path:
            out.append(" ".join(show(v) for v in find(node.path, current, root)))
        else:
            out.append(node.text)
    return "".join(out)
