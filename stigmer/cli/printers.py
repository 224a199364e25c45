"""Output formats: table, wide, yaml, json and name, as kubectl prints them."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from typing import Any

from stigmer.api import kinds
from stigmer.api.kinds import Kind, Resource
from stigmer.cli.escaping import escape
from stigmer.manifests import conversion, emitting

FORMATS = ("table", "wide", "yaml", "json", "name")
NONE = "<none>"


def to_data(obj: Resource) -> dict[str, Any]:
    """An object as plain data: JSON names, numbers as numbers, enums by name."""
    return conversion.to_dict(obj)


def as_list(items: Iterable[dict[str, Any]]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "List", "items": list(items)}


def render_yaml(objs: Sequence[Resource], *, single: bool) -> str:
    """One object as itself; otherwise a List."""
    if single and len(objs) == 1:
        return emitting.dump(to_data(objs[0]))
    return emitting.dump(as_list(to_data(o) for o in objs))


def render_json(objs: Sequence[Resource], *, single: bool) -> str:
    data = to_data(objs[0]) if single and len(objs) == 1 else as_list(to_data(o) for o in objs)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def name_of(obj: Resource, *, org: bool = False) -> str:
    """TYPE/NAME, or TYPE/ORG/NAME when the org must be said (listing every org)."""
    md = obj.metadata
    return (
        f"{kinds.of(obj).singular}/{md.org}/{md.slug}"
        if org
        else f"{kinds.of(obj).singular}/{md.slug}"
    )


def nothing_found(org: str | None) -> str:
    """What an empty listing says on stderr, naming the org (None: every org), as kubectl."""
    return "No resources found" + (f" in org {org}" if org is not None else "")


def age(obj: Resource, now: float | None = None) -> str:
    """How long ago the object was created: 42s, 5m, 3h, 12d."""
    created = obj.status.audit.spec_audit.created_at
    if not created.seconds:
        return NONE
    return duration((now or time.time()) - created.seconds)


def duration(seconds: float) -> str:
    """A span as kubectl's AGE column shows it: 42s, 5m, 3h, 12d."""
    seconds = max(0, int(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _labels(obj: Resource) -> str:
    labels = obj.metadata.labels
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels)) or NONE


def row(kind: Kind, obj: Resource, *, wide: bool, now: float) -> list[str]:
    """A table row: NAME and ORG, the kind's own columns (kinds.Kind.columns), then AGE."""
    md = obj.metadata
    own = [column.cell(obj) or NONE for column in kind.columns]
    cells = [md.slug, md.org, *own, age(obj, now)]
    return [*cells, md.id, _labels(obj)] if wide else cells


def headers(kind: Kind, *, wide: bool) -> list[str]:
    base = ["NAME", "ORG", *(column.header for column in kind.columns), "AGE"]
    return [*base, "ID", "LABELS"] if wide else base


def table(rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns, three spaces apart, like kubectl."""
    if not rows:
        return ""
    # Escaping is rare: text that joins into printable text has no unsafe character (each
    # _unsafe() finds is unprintable), so the whole table is tested once (escape, each cell).
    if not "".join(map("".join, rows)).isprintable():
        rows = [[escape(c) for c in r] for r in rows]
    widths = [max(map(len, column)) for column in zip(*rows, strict=True)]
    # One format call per row, not a ljust per cell: the same text, a third of the work.
    line = "   ".join(f"{{:<{w}}}" for w in widths).format
    return "\n".join([line(*r).rstrip() for r in rows]) + "\n"


def render_table(kind: Kind, objs: Sequence[Resource], *, wide: bool, header: bool = True) -> str:
    now = time.time()
    rows = [row(kind, o, wide=wide, now=now) for o in objs]
    return table(([headers(kind, wide=wide)] if header else []) + rows)


# Watched rows come one at a time: their columns are at least this wide, so that
# most later rows line up with the header printed before them.
_WATCH_FLOORS = {"NAME": 24, "ORG": 12}


def watch_widths(kind: Kind, objs: Sequence[Resource], *, wide: bool) -> list[int]:
    """Column widths for ``get -w``: the listing's, or the floors if wider."""
    now = time.time()
    rows = [headers(kind, wide=wide)] + [row(kind, o, wide=wide, now=now) for o in objs]
    floors = {**_WATCH_FLOORS, **{c.header: c.floor for c in kind.columns}}
    return [max(floors.get(rows[0][i], 0), *(len(r[i]) for r in rows)) for i in range(len(rows[0]))]


def _watch_line(cells: Sequence[str], widths: Sequence[int], event: str) -> str:
    return "   ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + "   " + event


def watch_header(kind: Kind, widths: Sequence[int], *, wide: bool) -> str:
    return _watch_line(headers(kind, wide=wide), widths, "EVENT")


def watch_row(kind: Kind, obj: Resource, event: str, widths: Sequence[int], *, wide: bool) -> str:
    """One row of ``get -w``: the object's cells, then what happened (empty when listed)."""
    cells = row(kind, obj, wide=wide, now=time.time())
    return _watch_line(cells, widths, event).rstrip()


def render(kind: Kind, objs: Sequence[Resource], output: str, *, single: bool = False) -> str:
    """Objects in one of FORMATS."""
    if output == "yaml":
        return render_yaml(objs, single=single)
    if output == "json":
        return render_json(objs, single=single)
    if output == "name":
        return "".join(f"{name_of(o)}\n" for o in objs)
    return render_table(kind, objs, wide=output == "wide")


def event_type(event: Any) -> str:
    """created, updated or deleted."""
    from stigmer.api.v1.event_pb2 import EventType

    return str(EventType.Name(event.type))
