"""stigmer store ...: tools for looking inside a binary store."""

from typing import Annotated

import typer

from stigmer.cli.examples import epilog
from stigmer.cli.state import Group, OrgCommand, state

app = typer.Typer(
    cls=Group,
    help="Debug tools for the store.",
    no_args_is_help=True,
    add_completion=False,
    epilog=epilog("store"),
)


@app.command("check", cls=OrgCommand, epilog=epilog("store check"))
def check(
    ctx: typer.Context,
    repair: Annotated[
        bool,
        typer.Option("--repair", help="Rebuild the indexes from the objects, then check again."),
    ] = False,
) -> None:
    """Verify every key, object and index entry; exit 1 if anything is wrong."""
    client = state(ctx).client(write=False)
    if repair:
        changes = client.repair_store()
        for change in changes:
            typer.echo(change)
        typer.echo(f"repair: {len(changes)} changes to {client.url}", err=True)
    problems = client.check_store()
    for problem in problems:
        typer.echo(problem)
    if problems:
        typer.echo(f"{len(problems)} problems found in {client.url}", err=True)
        raise typer.Exit(1)
    typer.echo(f"store {client.url} is consistent")


@app.command("dump", cls=OrgCommand, epilog=epilog("store dump"))
def dump(
    ctx: typer.Context,
    kind: Annotated[str | None, typer.Option("--kind", help="Only this kind.")] = None,
) -> None:
    """Print every object as YAML documents, secrets masked."""
    from stigmer.cli.printers import to_data
    from stigmer.manifests import emitting

    docs = [to_data(o) for o in state(ctx).client(write=False).dump(kind)]
    if docs:
        typer.echo("---\n".join(emitting.dump(d) for d in docs), nl=False)


@app.command("stats", cls=OrgCommand, epilog=epilog("store stats"))
def stats(ctx: typer.Context) -> None:
    """Counts per kind and org, the revision and the size on disk."""
    from stigmer.api import kinds

    client = state(ctx).client(write=False)
    s = client.stats()
    typer.echo(f"store:     {client.url}")
    typer.echo(f"revision:  {s.revision}")
    typer.echo(f"size:      {s.bytes_on_disk} bytes")
    for kind in sorted(s.counts):
        total = sum(s.counts[kind].values())
        typer.echo(f"{kinds.by_key(kind).singular}: {total}")  # the CLI's name, as elsewhere
        for org in sorted(s.counts[kind]):
            typer.echo(f"  {org}: {s.counts[kind][org]}")
