"""stigmer api-resources, stigmer version and stigmer events: what there is, and what happened."""

import json
import time
from typing import Annotated, Any

import typer

from stigmer.cli import printers
from stigmer.cli.completing import complete_kind, complete_name
from stigmer.cli.escaping import escape
from stigmer.cli.state import State, state
from stigmer.errors import Expired, NoStore, UsageError


def api_resources(
    output: Annotated[str, typer.Option("-o", "--output", help="table or name.")] = "table",
) -> None:
    """List the kinds this Stigmer serves: names, short names and verbs."""
    from stigmer.client import api_resources as resources

    if output not in ("table", "name"):
        raise UsageError(f'-o "{output}": expected table or name')
    found = resources()
    if output == "name":
        typer.echo("".join(f"{r.kind.plural}\n" for r in found), nl=False)
        return
    rows = [["NAME", "SHORTNAMES", "APIVERSION", "KIND", "VERBS"]]
    for r in found:
        short = ",".join(r.kind.cli_names[2:]) or printers.NONE
        rows.append([r.kind.plural, short, r.kind.api_version, r.kind.name, ",".join(r.verbs)])
    typer.echo(printers.table(rows), nl=False)


def version(
    ctx: typer.Context,
    output: Annotated[str, typer.Option("-o", "--output", help="text or json.")] = "text",
) -> None:
    """Print the client's version and the store's format (never creates a store)."""
    if output not in ("text", "json"):
        raise UsageError(f'-o "{output}": expected text or json')
    info = _version_info(state(ctx))
    if output == "json":
        typer.echo(json.dumps(info, indent=2))
        return
    store = info["store"]
    lines = [
        f"Client Version: {info['clientVersion']}",
        f"API Version: {info['apiVersion']}",
        f"Store: {store['url']}",
        f"Store Format: {_format(store)}",
    ]
    typer.echo("\n".join(lines))


def _format(store: dict[str, Any]) -> str:
    if not store["exists"]:
        return "(no store yet)"
    return "unknown" if store["formatVersion"] is None else str(store["formatVersion"])


def _version_info(st: State) -> dict[str, Any]:
    from stigmer import __version__
    from stigmer.api.kinds import API_VERSION
    from stigmer.client import Client

    url, exists, fmt = st.url(), True, None
    try:  # read only, as nobody: the format is no secret, and nothing is created or claimed
        with Client(url, create=False) as client:
            fmt = client.format_version()
    except NoStore:
        exists = False
    store = {"url": url, "exists": exists, "formatVersion": fmt}
    return {"clientVersion": __version__, "apiVersion": API_VERSION, "store": store}


def events(
    ctx: typer.Context,
    *,
    kind: Annotated[
        str | None,
        typer.Argument(help="Only this kind's events.", autocompletion=complete_kind),
    ] = None,
    name: Annotated[
        str | None,
        typer.Argument(help="Only this object's events.", autocompletion=complete_name),
    ] = None,
    all_orgs: Annotated[
        bool, typer.Option("-A", "--all-orgs", help="Events of every org you may watch.")
    ] = False,
    watch: Annotated[
        bool, typer.Option("-w", "--watch", help="After listing, print new events until Ctrl-C.")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", help="How many recent events to list.")] = 50,
) -> None:
    """List recent events from the change feed (TYPE, REASON, OBJECT, AGE, WHO)."""
    from stigmer.client import resolve_kind

    if name is not None and all_orgs:
        raise UsageError("events of one object are in its org: drop -A")
    k = resolve_kind(kind) if kind is not None else None
    client = state(ctx).client(write=False)
    org = None if all_orgs else client.org
    changes = client.watch(k, org=org) if watch else None  # before the list: nothing missed
    found = client.events(k, name, all_orgs=all_orgs, limit=limit)
    now = time.time()
    rows = [_row(e, now, org=all_orgs) for e in found]
    if rows or watch:
        typer.echo(printers.table([_HEADER, *rows]), nl=False)
    elif not rows:
        typer.echo(f"No events found{'' if all_orgs else f' in org {client.org}'}", err=True)
    if changes is not None:
        object_id = found[-1].id if name is not None and found else None
        _follow(client, changes, k, org, object_id, all_orgs=all_orgs)


_HEADER = ["TYPE", "REASON", "OBJECT", "AGE", "WHO"]
_WIDTHS = (8, 9, 40, 6)  # watched rows come one at a time: columns as wide as this


def _row(event: Any, now: float, *, org: bool) -> list[str]:
    """One event as kubectl's columns: every write is Normal; the reason says which."""
    from stigmer.api.kinds import by_key

    kind = by_key(event.kind).singular
    obj = f"{kind}/{event.org}/{event.slug}" if org else f"{kind}/{event.slug}"
    reason = printers.event_type(event).capitalize()
    age = printers.duration(now - event.time.seconds) if event.time.seconds else printers.NONE
    return ["Normal", reason, obj, age, event.actor or printers.NONE]


def _follow(
    client: Any, changes: Any, kind: Any, org: str | None, object_id: str | None, *, all_orgs: bool
) -> None:
    """Prints each new event of the feed as a row, until Ctrl-C; an expired watch goes on."""
    while True:
        try:
            for change in changes:
                if object_id is None or change.event.id == object_id:
                    cells = _row(change.event, time.time(), org=all_orgs)
                    line = "   ".join(c.ljust(w) for c, w in zip(cells, _WIDTHS, strict=False))
                    typer.echo(escape(line).rstrip())
            return
        except Expired as e:
            typer.echo(f"warning: {e}", err=True)
            changes = client.watch(kind, org=org)
        except KeyboardInterrupt:
            return
