"""``--field-selector metadata.name=x,status.ready=True``, as kubectl has it.

A requirement is ``PATH=VALUE``, ``PATH==VALUE`` or ``PATH!=VALUE``; all must
hold. PATH is a dotted path into the object's JSON view (``metadata.org``,
``spec.agentId``), compared as text; a field the object does not have is
empty. ``status.ready`` is the Ready condition's status (True, False or
Unknown), which kubectl users know from ``get``'s READY column.
"""

from __future__ import annotations

import re
from typing import Any

from stigmer.errors import UsageError

_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
Requirement = tuple[str, bool, str]  # path, equal (False: !=), value


def parse(selector: str) -> list[Requirement]:
    """The requirements of a field selector; UsageError naming a malformed one."""
    found = []
    for part in selector.split(","):
        path, op, value = _split(part)
        if not _PATH.fullmatch(path):
            raise UsageError(
                f'field selector "{part}": expected PATH=VALUE or PATH!=VALUE, '
                "e.g. metadata.name=x,status.ready=True"
            )
        found.append((path, op != "!=", value))
    return found


def _split(part: str) -> tuple[str, str, str]:
    for op in ("!=", "==", "="):
        path, sep, value = part.partition(op)
        if sep:
            return path.strip(), op, value.strip()
    return part.strip(), "", ""


def value_at(data: dict[str, Any], path: str) -> str:
    """The field's value as text; empty when absent."""
    if path == "status.ready":
        conditions = data.get("status", {}).get("conditions", [])
        return next((c.get("status", "") for c in conditions if c.get("type") == "Ready"), "")
    node: Any = data
    for step in path.split("."):
        node = node.get(step) if isinstance(node, dict) else None
    if isinstance(node, bool):
        return "true" if node else "false"
    return "" if node is None or isinstance(node, dict | list) else str(node)


def matches(requirements: list[Requirement], data: dict[str, Any]) -> bool:
    return all((value_at(data, p) == v) == equal for p, equal, v in requirements)
