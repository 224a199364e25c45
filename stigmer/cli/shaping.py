"""What ``get`` adds for scripts: ``-o jsonpath=``/``custom-columns=``, sorting, field selectors.

Every one of them reads the objects' JSON view (``printers.to_data``) of
objects the Client returned, so secrets stay masked as in every output.
jsonpath-ng is imported only when one of them is used.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from stigmer.api.kinds import Resource
from stigmer.cli import printers
from stigmer.errors import UsageError

TEMPLATES = ("jsonpath=", "custom-columns=")
# What -o takes, for help and completion.
OUTPUTS = (*printers.FORMATS, *TEMPLATES)


def check_output(output: str) -> str:
    """``output`` as given (``-o=json`` loses its ``=``); UsageError naming what -o takes."""
    output = output.removeprefix("=")
    if output in printers.FORMATS:
        return output
    if output.startswith(TEMPLATES):
        _template(output)  # a bad template fails before anything is read
        return output
    raise UsageError(
        f'-o "{output}": expected one of {", ".join(printers.FORMATS)}, '
        "jsonpath=TEMPLATE or custom-columns=HEADER:PATH,..."
    )


def is_template(output: str) -> bool:
    return output.startswith(TEMPLATES)


def _template(output: str) -> Any:
    kind, _, spec = output.partition("=")
    if kind == "jsonpath":
        from stigmer.cli import jsonpath

        return jsonpath.parse(spec)
    from stigmer.cli import columns

    return columns.parse_columns(spec)


def select(objs: list[Resource], *, fields: str | None, sort_by: str | None) -> list[Resource]:
    """The objects matching the field selector, ordered by ``sort_by`` when given."""
    if fields:
        from stigmer.cli import fields as field_selectors

        wanted = field_selectors.parse(fields)
        objs = [o for o in objs if field_selectors.matches(wanted, printers.to_data(o))]
    if sort_by:
        from stigmer.cli import columns

        key = columns.sort_key(sort_by)
        views = {id(o): key(printers.to_data(o)) for o in objs}
        objs = sorted(objs, key=lambda o: views[id(o)])
    return objs


def render_template(output: str, objs: Sequence[Resource], *, single: bool) -> str:
    """The objects through a jsonpath template or custom columns.

    jsonpath reads one object named alone, else a List of them, as kubectl;
    custom columns print one row per object.
    """
    nodes = _template(output)
    items = [printers.to_data(o) for o in objs]
    if output.startswith("jsonpath="):
        from stigmer.cli import jsonpath

        data = items[0] if single and len(items) == 1 else printers.as_list(items)
        return jsonpath.render(nodes, data)
    from stigmer.cli import columns

    return columns.render_columns(nodes, items)
