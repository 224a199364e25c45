"""stigmer get and stigmer describe: read objects back."""

from typing import Annotated, Any

import typer

from stigmer.cli import printers
from stigmer.cli.state import state
from stigmer.errors import NotFound

Kind = Annotated[str, typer.Argument(help="agent|agents|ag or agentinstance|agentinstances|ai.")]
ShowSecrets = Annotated[
    bool, typer.Option("--show-secrets", help="Reveal secret values (admins only).")
]


def get(
    ctx: typer.Context,
    *,
    kind: Kind,
    names: Annotated[list[str] | None, typer.Argument(help="Names (slugs) or ids.")] = None,
    output: Annotated[
        str, typer.Option("-o", "--output", help="table, wide, yaml, json or name.")
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
) -> None:
    """List objects of a kind, or get some by name."""
    from stigmer.client import resolve_kind

    if output not in printers.FORMATS:
        raise typer.BadParameter(f"must be one of {', '.join(printers.FORMATS)}", param_hint="-o")
    k = resolve_kind(kind)  # a usage error, whether or not there is a store
    client = state(ctx).client(write=False)
    revision = client.store.revision()
    missing: list[str] = []
    if names:
        objs = []
        for name in names:
            try:
                objs.append(client.get(k, name, show_secrets=show_secrets))
            except NotFound as e:
                missing.append(str(e))
    else:
        objs = client.list(k, all_orgs=all_orgs, selector=selector, show_secrets=show_secrets)
        objs.sort(key=lambda o: (o.metadata.org, o.metadata.slug))
    if objs or output in ("yaml", "json"):
        typer.echo(printers.render(k, objs, output, single=len(names or []) == 1), nl=False)
    elif not missing:
        typer.echo("No resources found", err=True)
    for message in missing:
        typer.echo(f"error: {message}", err=True)
    if watch:
        _follow(client, k, output, revision, all_orgs=all_orgs)
    if missing:
        raise typer.Exit(1)


def _follow(client: Any, kind: Any, output: str, revision: int, *, all_orgs: bool) -> None:
    """Prints each change from the change feed as it happens, until Ctrl-C."""
    try:
        for change in client.watch(kind, since=revision, org=None if all_orgs else client.org):
            obj = change.object
            if output in ("yaml", "json"):
                typer.echo("---" if output == "yaml" else "", nl=output == "yaml")
                typer.echo(printers.render(kind, [obj], output, single=True), nl=False)
            elif output == "name":
                typer.echo(printers.name_of(obj))
            else:
                etype = printers.event_type(change.event)
                line = printers.render_table(kind, [obj], wide=output == "wide", header=False)
                typer.echo(f"{line.rstrip()}   {etype}")
    except KeyboardInterrupt:
        return


def describe(
    ctx: typer.Context,
    *,
    kind: Kind,
    name: Annotated[str, typer.Argument(help="Name (slug) or id.")],
    show_secrets: ShowSecrets = False,
) -> None:
    """Show an object in detail: fields, conditions, instances and recent events."""
    from stigmer.cli.describing import describe_text
    from stigmer.client import resolve_kind

    client = state(ctx).client(write=False)
    k = resolve_kind(kind)
    obj = client.get(k, name, show_secrets=show_secrets, verb="describe")
    typer.echo(describe_text(client, obj), nl=False)
