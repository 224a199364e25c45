"""``-o custom-columns=HEADER:PATH,...`` and ``--sort-by=PATH``, as kubectl has them.

Both take kubectl's JSONPath (``.metadata.name`` or ``{.metadata.name}``),
evaluated on each object's JSON view, which the Client has masked already.
"""

from __future__ import annotations

from typing import Any

from stigmer.cli import jsonpath
from stigmer.cli.printers import NONE, table
from stigmer.errors import UsageError


def parse_columns(spec: str) -> list[tuple[str, str]]:
    """(header, path) pairs of ``NAME:.metadata.name,READY:.status...``."""
    columns = []
    for part in spec.split(","):
        header, sep, path = part.partition(":")
        if not sep or not header.strip() or not path.strip():
            raise UsageError(
                f'custom-columns: "{part}" is not HEADER:PATH, '
                "e.g. -o custom-columns=NAME:.metadata.name,ORG:.metadata.org"
            )
        path = jsonpath.strip_braces(path)
        jsonpath.find(path, {})  # a bad path is an error before anything is read
        columns.append((header.strip(), path))
    return columns


def render_columns(columns: list[tuple[str, str]], items: list[dict[str, Any]]) -> str:
    """A table with one column per (header, path); several values join with commas."""
    rows = [[header for header, _ in columns]]
    for item in items:
        cells = []
        for _, path in columns:
            found = jsonpath.find(path, item)
            cells.append(",".join(jsonpath.show(v) for v in found) if found else NONE)
        rows.append(cells)
    return table(rows)


def sort_key(path: str) -> Any:
    """A key function ordering objects' JSON views by what ``path`` finds in each.

    Numbers sort as numbers, the rest as text; objects where the path finds
    nothing come first, as kubectl's.
    """
    path = jsonpath.strip_braces(path)
    jsonpath.find(path, {})

    def key(item: dict[str, Any]) -> tuple[int, float, str]:
        found = jsonpath.find(path, item)
        if not found:
            return (0, 0.0, "")
        value = found[0]
        if isinstance(value, int | float) and not isinstance(value, bool):
            return (1, float(value), "")
        return (2, 0.0, jsonpath.show(value))

    return key
