"""``stigmer explain KIND[.field.path]``: field documentation, read from the JSON Schema.

The committed schema of each kind is generated from the protos, so its
descriptions are the proto comments and its constraints are the ones
validation enforces; explaining reads nothing else. The text imitates
``kubectl explain``: KIND, VERSION, the FIELD and its type, its
constraints, its description, and for an object the list of its fields.
"""

from __future__ import annotations

import difflib
import textwrap
from dataclasses import dataclass
from typing import Any

from stigmer.api import kinds, naming
from stigmer.errors import UsageError
from stigmer.manifests import validation

_WIDTH = 80
_HINTS = {naming.ORG_PATTERN: 'lowercase letters, digits and "-", not at either end'}


@dataclass(frozen=True, slots=True)
class _Field:
    """A field found by walking the schema: its property schema and whether it is required."""

    path: tuple[str, ...]
    schema: dict[str, Any]  # the property as written, possibly a $ref with a description
    required: bool


def explain(target: str, *, recursive: bool = False) -> str:
    """The documentation of ``KIND[.field.path]``, for example ``agent.spec.mcpServers``.

    ``recursive`` lists the fields of the fields too, as a tree of names and
    types, like ``kubectl explain --recursive``. Raises UsageError naming the
    kinds or fields that exist when the kind or a field is unknown.
    """
    kind_name, *steps = target.strip().split(".")
    kind = kinds.by_cli_name(kind_name) if kind_name else None
    if kind is None:
        names = ", ".join(kinds.cli_names())
        raise UsageError(f'unknown kind "{kind_name}" (expected one of: {names})')
    root = validation.schema(kind)
    found = _walk(root, kind, steps)
    lines = [f"KIND:       {kind.name}", f"VERSION:    {kind.api_version}", ""]
    node = _deref(root, found.schema)
    if found.path:
        lines += [f"FIELD: {'.'.join(found.path)} <{type_name(found.schema)}>", ""]
    lines += _section("DESCRIPTION", _descriptions(root, found))
    lines += _section("CONSTRAINTS", constraints(root, found.schema, required=found.required))
    element = _element(root, node)
    if "properties" in element:
        fields = _tree(root, element, 1, {id(element)}) if recursive else _fields(root, element)
        lines += ["FIELDS:", *fields]
    return "\n".join(lines).rstrip() + "\n"


def _tree(root: dict[str, Any], node: dict[str, Any], depth: int, seen: set[int]) -> list[str]:
    """Each property with its type, and under it its own properties, indented.

    ``seen`` holds the schemas on the way down, so a recursive type (a
    sub-agent's fields) is listed once, not forever.
    """
    required = set(node.get("required", []))
    lines = []
    for name, prop in node["properties"].items():
        marker = " -required-" if name in required else ""
        lines.append(f"{'  ' * depth}{name}  <{type_name(prop)}>{marker}")
        child = _element(root, _deref(root, prop))
        if "properties" in child and id(child) not in seen:
            lines += _tree(root, child, depth + 1, seen | {id(child)})
    return lines


def complete(prefix: str) -> list[str]:
    """What ``KIND.field.pa`` may go on to: kinds, then the fields at the path so far."""
    kind_name, dot, rest = prefix.partition(".")
    if not dot:
        return [n for n in kinds.cli_names() if n.startswith(kind_name.lower())]
    kind = kinds.by_cli_name(kind_name)
    if kind is None:
        return []
    *steps, last = rest.split(".")
    root = validation.schema(kind)
    try:
        parent = _element(root, _deref(root, _walk(root, kind, steps).schema))
    except UsageError:
        return []
    head = ".".join([kind_name, *steps])
    return [f"{head}.{n}" for n in parent.get("properties", {}) if n.startswith(last)]


def _walk(root: dict[str, Any], kind: kinds.Kind, steps: list[str]) -> _Field:
    """The field at ``steps``, going through lists and maps to their elements."""
    field = _Field((), root, required=False)
    for step in steps:
        parent = _element(root, _deref(root, field.schema))
        properties = parent.get("properties", {})
        name = _match(step, properties)
        if name is None:
            raise UsageError(_unknown_field(kind, field.path, step, parent))
        required = name in parent.get("required", [])
        field = _Field((*field.path, name), properties[name], required)
    return field


def _match(step: str, properties: dict[str, Any]) -> str | None:
    """The property ``step`` names: exactly, in snake_case, or ignoring case."""
    camel = _camel(step)
    for name in (step, camel):
        if name in properties:
            return name
    folded = {name.lower(): name for name in properties}
    return folded.get(step.lower()) or folded.get(camel.lower())


def _unknown_field(
    kind: kinds.Kind, path: tuple[str, ...], step: str, parent: dict[str, Any]
) -> str:
    where = ".".join((kind.singular, *path))
    if step in parent.get("x-system-fields", []):
        return (
            f'field "{step}" of {where} is system-managed: apply ignores it in manifests, '
            "so it has no documentation here"
        )
    names = list(parent.get("properties", {}))
    if not names:
        return f'{where} is of type {type_name(parent)} and has no fields; "{step}" does not exist'
    close = difflib.get_close_matches(step, names, n=1)
    hint = f' (did you mean "{close[0]}"?)' if close else ""
    return f'field "{step}" does not exist in {where}{hint}; its fields: {", ".join(names)}'


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _deref(root: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """The schema a ``$ref`` points to (``#/$defs/Name``), or the node itself."""
    ref = node.get("$ref")
    if not isinstance(ref, str):
        return node
    target: Any = root
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return _deref(root, target)


def _element(root: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """For a list its item schema, for a map its value schema, else the node; dereferenced."""
    while True:
        if node.get("type") == "array" and isinstance(node.get("items"), dict):
            node = _deref(root, node["items"])
        elif isinstance(node.get("additionalProperties"), dict):
            node = _deref(root, node["additionalProperties"])
        else:
            return node


def type_name(node: dict[str, Any]) -> str:
    """``string``, ``integer``, ``list of X``, ``map of string to X`` or ``object X``."""
    ref = node.get("$ref")
    if isinstance(ref, str):
        return f"object {ref.rsplit('/', 1)[-1]}"
    kind = node.get("type")
    if kind == "array":
        return f"list of {type_name(node.get('items', {}))}"
    if kind == "object":
        values = node.get("additionalProperties")
        return f"map of string to {type_name(values)}" if isinstance(values, dict) else "object"
    if kind is None and "const" in node:
        return {str: "string", bool: "boolean", int: "integer"}.get(type(node["const"]), "value")
    return str(kind or "value")


def constraints(root: dict[str, Any], node: dict[str, Any], *, required: bool = False) -> list[str]:
    """The rules a field's value must follow, one per line."""
    found = ["required"] if required else []
    found += _rules(_deref(root, node))
    element, prefix = node, ""
    while True:
        element = _deref(root, element)
        if element.get("type") == "array" and isinstance(element.get("items"), dict):
            element, prefix = element["items"], "each item: "
        elif isinstance(element.get("additionalProperties"), dict):
            element, prefix = element["additionalProperties"], "each value: "
        else:
            break
        found += [prefix + rule for rule in _rules(_deref(root, element))]
    return found


def _rules(node: dict[str, Any]) -> list[str]:
    rules = []
    if "const" in node:
        rules.append(f'must be "{node["const"]}"')
    if "enum" in node:
        rules.append("one of: " + ", ".join(map(str, node["enum"])))
    if (n := node.get("minLength")) is not None:
        rules.append("must not be empty" if n == 1 else f"at least {n} characters")
    if (n := node.get("maxLength")) is not None:
        rules.append(f"at most {n} characters")
    if (n := node.get("minimum")) is not None:
        rules.append(f"minimum: {n}")
    if (n := node.get("maximum")) is not None:
        rules.append(f"maximum: {n}")
    if (pattern := node.get("pattern")) is not None:
        hint = _HINTS.get(pattern)
        rules.append(f"pattern: {pattern}" + (f" ({hint})" if hint else ""))
    if options := node.get("x-one-of"):
        rules.append("exactly one of: " + ", ".join(options))
    if (names := node.get("required")) and node.get("type") == "object":
        rules.append("required fields: " + ", ".join(names))
    if system := node.get("x-system-fields"):
        rules.append("system-managed, ignored on apply: " + ", ".join(system))
    return rules


def _descriptions(root: dict[str, Any], field: _Field) -> list[str]:
    """The field's own description, then its type's when that says something more."""
    texts = [field.schema.get("description", "")]
    element = _element(root, _deref(root, field.schema))
    texts.append(element.get("description", ""))
    out: list[str] = []
    for text in texts:
        if text and text not in out:
            out.append(text)
    return out or ["(no description)"]


def _section(title: str, paragraphs: list[str]) -> list[str]:
    if not paragraphs:
        return []
    lines = [f"{title}:"]
    if title != "DESCRIPTION":  # one rule per line, never wrapped
        return [*lines, *(f"    {text}" for text in paragraphs), ""]
    for i, text in enumerate(paragraphs):
        if i:
            lines.append("")
        lines += textwrap.wrap(text, _WIDTH, initial_indent="    ", subsequent_indent="    ")
    return [*lines, ""]


def _fields(root: dict[str, Any], node: dict[str, Any]) -> list[str]:
    """One entry per property: name, type, -required-, and a one-line description."""
    required = set(node.get("required", []))
    width = max(len(name) for name in node["properties"]) + 2
    lines = []
    for name, prop in node["properties"].items():
        marker = " -required-" if name in required else ""
        lines.append(f"  {name.ljust(width)}<{type_name(prop)}>{marker}")
        description = prop.get("description") or _deref(root, prop).get("description", "")
        if description:
            lines.append("    " + textwrap.shorten(description, _WIDTH - 4, placeholder="..."))
    return lines
