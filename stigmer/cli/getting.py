"""stigmer get and stigmer describe: read objects back."""

from typing import Annotated, Any

import typer

from stigmer.cli import printers
from stigmer.cli.completing import complete_kind, complete_name, complete_output
from stigmer.cli.state import state
from stigmer.errors import Expired, NotFound, UsageError

Kind = Annotated[
    str,
    typer.Argument(
        help="agent|ag, agentinstance|ai, environment|env, skill, mcpserver|mcp (or all).",
        autocompletion=complete_kind,
    ),
]
ShowSecrets = Annotated[
    bool, typer.Option("--show-secrets", help="Reveal secret values (admins only).")
]


def get(
    ctx: typer.Context,
    *,
    kind: Kind,
    names: Annotated[
        list[str] | None,
        typer.Argument(
            help="Names (slugs) or ids; ORG/NAME for another org.", autocompletion=complete_name
        ),
    ] = None,
    output: Annotated[
        str,
        typer.Option(
            "-o",
            "--output",
            help="table, wide, yaml, json, name, jsonpath=TEMPLATE or custom-columns=SPEC.",
            autocompletion=complete_output,
        ),
    ] = "table",
    selector: Annotated[
        str | None, typer.Option("-l", "--selector", help="Label selector, e.g. k=v,k2!=v.")
    ] = None,
    all_orgs: Annotated[
        bool, typer.Option("-A", "--all-orgs", help="List across every org you may view.")
    ] = False,
    watch: Annotated[
        bool, typer.Option("-w", "--watch", help="After listing, print changes until Ctrl-C.")
    ] = False,
    show_secrets: ShowSecrets = False,
    sort_by: Annotated[
        str | None, typer.Option("--sort-by", help="Order by a JSONPath, e.g. .metadata.name.")
    ] = None,
    field_selector: Annotated[
        str | None,
        typer.Option(
            "--field-selector", help="Field requirements, e.g. metadata.name=x,status.ready=True."
        ),
    ] = None,
) -> None:
    """List objects of some kinds, or get some by name (KIND NAME... or TYPE/NAME...).

    KIND "all" lists every kind.
    """
    from stigmer.cli import shaping, targets

    output = shaping.check_output(output)
    if watch and (shaping.is_template(output) or sort_by):
        raise UsageError("-w prints table, wide, yaml, json or name, in the feed's order")
    wanted = targets.parse(kind, names or [])
    named = sum(len(t.names) for t in wanted)
    if named and all_orgs:  # kubectl refuses the same with -A
        raise UsageError("a resource cannot be retrieved by name across all orgs")
    if watch and len(wanted) > 1:
        raise UsageError("watch one kind at a time")
    client = state(ctx).client(write=False)
    org = None if all_orgs else client.org
    # The watch starts before the list, so no change made meanwhile is missed.
    changes = client.watch(wanted[0].kind, org=org) if watch else None
    found, missing = _read(client, wanted, selector, all_orgs=all_orgs, show_secrets=show_secrets)
    found = [(k, shaping.select(objs, fields=field_selector, sort_by=sort_by)) for k, objs in found]
    widths: list[int] = []
    if watch and output in ("table", "wide"):  # the header even when empty: rows will come
        widths = printers.watch_widths(wanted[0].kind, found[0][1], wide=output == "wide")
        _print_watched(wanted[0].kind, found[0][1], widths, wide=output == "wide")
    else:
        show_org = all_orgs or any(org for t in wanted for org, _ in t.names)
        _print(found, output, single=named == 1, show_org=show_org)
        quiet = output in ("yaml", "json") or output.startswith("jsonpath=")
        if not missing and not any(objs for _, objs in found) and not quiet:
            typer.echo(printers.nothing_found(None if all_orgs else client.org), err=True)
    for message in missing:
        typer.echo(f"error: {message}", err=True)
    if changes is not None:

        def relist() -> Any:
            """Watches anew, then lists: what follows an expired watch."""
            fresh = client.watch(wanted[0].kind, org=org)
            listed = _read(client, wanted, selector, all_orgs=all_orgs, show_secrets=show_secrets)
            return fresh, shaping.select(listed[0][0][1], fields=field_selector, sort_by=None)

        if field_selector:
            changes = _matching(changes, field_selector)
        _follow(wanted[0].kind, output, changes, relist, all_orgs=all_orgs, widths=widths)
    if missing:
        raise typer.Exit(1)


def _read(
    client: Any, wanted: list[Any], selector: str | None, *, all_orgs: bool, show_secrets: bool
) -> tuple[list[tuple[Any, list[Any]]], list[str]]:
    """Each kind with its objects (by name, or listed), and the not-found messages."""
    found: list[tuple[Any, list[Any]]] = []
    missing: list[str] = []
    for target in wanted:
        objs = []
        for org, name in target.names:
            try:
                objs.append(client.get(target.kind, name, org=org, show_secrets=show_secrets))
            except NotFound as e:
                missing.append(str(e))
        if not target.names:
            objs = client.list(
                target.kind, all_orgs=all_orgs, selector=selector, show_secrets=show_secrets
            )
            objs.sort(key=lambda o: (o.metadata.org, o.metadata.slug))
        found.append((target.kind, objs))
    return found, missing


def _matching(changes: Any, field_selector: str) -> Any:
    """The changes of ``get -w`` whose object matches the field selector."""
    from stigmer.cli import shaping

    for change in changes:
        if shaping.select([change.object], fields=field_selector, sort_by=None):
            yield change


def _print(
    found: list[tuple[Any, list[Any]]], output: str, *, single: bool, show_org: bool
) -> None:
    """yaml, json and jsonpath: one document (a List unless one object was named); tables
    per kind; custom columns one table (their columns are the same for every kind)."""
    from stigmer.cli import shaping

    every = [o for _, objs in found for o in objs]
    if shaping.is_template(output):
        if every or output.startswith("jsonpath="):
            typer.echo(shaping.render_template(output, every, single=single), nl=False)
    elif output in ("yaml", "json"):
        typer.echo(printers.render(found[0][0], every, output, single=single), nl=False)
    elif output == "name":
        typer.echo("".join(f"{printers.name_of(o, org=show_org)}\n" for o in every), nl=False)
    else:
        tables = [printers.render(k, objs, output) for k, objs in found if objs]
        typer.echo("\n".join(tables), nl=False)


def _print_watched(kind: Any, objs: list[Any], widths: list[int], *, wide: bool) -> None:
    """The listing before ``get -w``'s changes: the header names the EVENT column too."""
    lines = [printers.watch_header(kind, widths, wide=wide)]
    lines += [printers.watch_row(kind, o, "", widths, wide=wide) for o in objs]
    typer.echo("\n".join(lines))


def _follow(
    kind: Any,
    output: str,
    changes: Any,
    relist: Any,
    *,
    all_orgs: bool,
    widths: list[int],
) -> None:
    """Prints each change from the change feed as it happens, until Ctrl-C.

    Table rows keep the columns of the listing printed before them, and say
    what happened in its EVENT column. When the watch expires (it fell behind
    the feed's retention), everything is listed again, as kubectl does.
    """
    while True:
        try:
            for change in changes:
                etype = printers.event_type(change.event)
                _print_change(kind, change.object, etype, output, all_orgs=all_orgs, widths=widths)
            return
        except Expired as e:
            typer.echo(f"warning: {e}", err=True)
            changes, objs = relist()
            for obj in objs:
                _print_change(kind, obj, "", output, all_orgs=all_orgs, widths=widths)
        except KeyboardInterrupt:
            return


def _print_change(
    kind: Any, obj: Any, etype: str, output: str, *, all_orgs: bool, widths: list[int]
) -> None:
    """One object of ``get -w``: a document, a name, or a table row saying what happened."""
    if output in ("yaml", "json"):
        typer.echo("---" if output == "yaml" else "", nl=output == "yaml")
        typer.echo(printers.render(kind, [obj], output, single=True), nl=False)
    elif output == "name":
        typer.echo(printers.name_of(obj, org=all_orgs))
    else:
        typer.echo(printers.watch_row(kind, obj, etype, widths, wide=output == "wide"))


def describe(
    ctx: typer.Context,
    *,
    kind: Kind,
    name: Annotated[
        str | None,
        typer.Argument(
            help="Name (slug) or id; none with TYPE/NAME.", autocompletion=complete_name
        ),
    ] = None,
    show_secrets: ShowSecrets = False,
) -> None:
    """Show an object in detail: fields, conditions, instances and recent events."""
    from stigmer.cli import targets
    from stigmer.cli.describing import describe_text

    wanted = targets.parse(kind, [name] if name else [])
    if len(wanted) != 1 or len(wanted[0].names) != 1:
        raise UsageError("describe one object: KIND NAME or TYPE/NAME")
    client = state(ctx).client(write=False)
    org, slug = wanted[0].names[0]
    obj = client.get(wanted[0].kind, slug, org=org, show_secrets=show_secrets, verb="describe")
    typer.echo(describe_text(client, obj, show_secrets=show_secrets), nl=False)
