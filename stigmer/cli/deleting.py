"""stigmer delete: by name, by the manifests that declare objects, or all of a kind."""

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from stigmer.cli import printers
from stigmer.cli.state import fail_no_manifests, state
from stigmer.errors import NotFound, UsageError

if TYPE_CHECKING:
    from stigmer.client import Client


def delete(
    ctx: typer.Context,
    *,
    kind: Annotated[
        str | None,
        typer.Argument(help="A kind (agent|ag, agentinstance|ai, env, skill, mcp), or TYPE/NAME."),
    ] = None,
    names: Annotated[
        list[str] | None, typer.Argument(help="Names (slugs) or ids, or more TYPE/NAMEs.")
    ] = None,
    filename: Annotated[
        list[str] | None,
        typer.Option("-f", "--filename", help="Delete what these manifests declare."),
    ] = None,
    recursive: Annotated[
        bool, typer.Option("-R", "--recursive", help="Read directories recursively.")
    ] = False,
    all_: Annotated[
        bool, typer.Option("--all", help="Delete every object of the kind in the org.")
    ] = False,
    all_orgs: Annotated[
        bool, typer.Option("-A", "--all-orgs", help="With --all: in every org you may list.")
    ] = False,
    ignore_not_found: Annotated[
        bool, typer.Option("--ignore-not-found", help="A missing object is not an error.")
    ] = False,
) -> None:
    """Delete objects and what they own (an agent's instances)."""
    from stigmer.api import kinds
    from stigmer.cli import targets as parsing

    client = state(ctx).client()
    targets: list[tuple[str, str, str]] = []  # (kind, org, name)
    if filename:
        targets += _declared(client, filename, recursive)
    elif kind is None:
        raise UsageError("say what to delete: KIND NAME..., TYPE/NAME..., KIND --all, or -f PATH")
    elif all_:
        _delete_all(client, parsing.parse(kind, names or []), all_orgs=all_orgs)
        return
    else:
        wanted = parsing.parse(kind, names or [])
        if not any(t.names for t in wanted):
            raise UsageError(f"name the {kind} to delete, or use --all")
        targets += [(t.kind.key, org or client.org, n) for t in wanted for org, n in t.names]
    failed = False
    gone: set[tuple[str, str, str]] = set()  # what this command deleted, cascades included
    for key, org, name in targets:
        k = kinds.by_key(key)
        if (key, org, name) in gone:  # its owner's cascade took it already: it is deleted
            typer.echo(f"{k.singular}/{name} deleted")
            continue
        try:
            result = client.delete_result(k, name, org=org)
        except NotFound:
            if not ignore_not_found:
                typer.echo(f'error: {k.singular} "{name}" not found in org "{org}"', err=True)
                failed = True
            continue
        gone |= {(kinds.of(o).key, o.metadata.org, o.metadata.slug) for o in result.deleted}
        gone -= {(kinds.of(o).key, o.metadata.org, o.metadata.slug) for o in result.recreated}
        _print_deleted(k.singular, name, result.recreated, result.warnings)
    if failed:
        raise typer.Exit(1)


def _print_deleted(
    kind: str, name: str, recreated: list[Any], warnings: tuple[str, ...] | list[str] = ()
) -> None:
    """``kind/name deleted``, then each default instance its agent put back at once.

    A warning (a deleted target still referenced) goes to stderr, as kubectl's do.
    """
    typer.echo(f"{kind}/{name} deleted")
    for warning in warnings:
        typer.echo(f"Warning: {warning}", err=True)
    for obj in recreated:
        owner = obj.metadata.owner_references[0].slug
        typer.echo(f"agentinstance/{obj.metadata.slug} recreated by agent/{owner}")


def _delete_all(client: "Client", wanted: list[Any], *, all_orgs: bool) -> None:
    """``delete KIND --all``: says so when there was nothing to delete, as kubectl does."""
    if any(t.names for t in wanted):
        raise UsageError("--all deletes every object of a kind: give no names")
    deleted = False
    for target in wanted:
        for result in client.delete_all(target.kind, all_orgs=all_orgs):
            _print_deleted(result.kind.singular, result.name, result.recreated, result.warnings)
            deleted = True
    if not deleted:
        typer.echo(printers.nothing_found(None if all_orgs else client.org), err=True)


def _declared(client: "Client", filename: list[str], recursive: bool) -> list[tuple[str, str, str]]:
    problems, declared = client.declared(filename, recursive=recursive, stdin=sys.stdin)
    for problem in problems:
        typer.echo(str(problem), err=True)
    if problems:
        raise typer.Exit(1)
    if not declared:
        fail_no_manifests(filename)
    return declared
