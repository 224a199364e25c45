"""stigmer delete: by name, by the manifests that declare objects, or all of a kind."""

import sys
from typing import Annotated, Any

import typer

from stigmer.cli.state import state
from stigmer.errors import NotFound, UsageError


def delete(
    ctx: typer.Context,
    *,
    kind: Annotated[
        str | None, typer.Argument(help="agent|agents|ag or agentinstance|agentinstances|ai.")
    ] = None,
    names: Annotated[list[str] | None, typer.Argument(help="Names (slugs) or ids.")] = None,
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
    ignore_not_found: Annotated[
        bool, typer.Option("--ignore-not-found", help="A missing object is not an error.")
    ] = False,
) -> None:
    """Delete objects and what they own (an agent's instances)."""
    from stigmer.api import kinds
    from stigmer.client import resolve_kind

    client = state(ctx).client()
    targets: list[tuple[str, str, str]] = []  # (kind, org, name)
    if filename:
        targets += _declared(client, filename, recursive)
    elif kind is None:
        raise UsageError("say what to delete: KIND NAME..., KIND --all, or -f PATH")
    elif all_:
        for result in client.delete_all(kind):
            _print_deleted(result.kind.singular, result.name, result.recreated)
        return
    elif not names:
        raise UsageError(f"name the {kind} to delete, or use --all")
    else:
        k = resolve_kind(kind)
        targets += [(k.key, client.org, name) for name in names]
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
                typer.echo(f'error: {k.singular} "{name}" not found', err=True)
                failed = True
            continue
        gone |= {(kinds.of(o).key, o.metadata.org, o.metadata.slug) for o in result.deleted}
        gone -= {(kinds.of(o).key, o.metadata.org, o.metadata.slug) for o in result.recreated}
        _print_deleted(k.singular, name, result.recreated)
    if failed:
        raise typer.Exit(1)


def _print_deleted(kind: str, name: str, recreated: list[Any]) -> None:
    """``kind/name deleted``, then each default instance its agent put back at once."""
    typer.echo(f"{kind}/{name} deleted")
    for obj in recreated:
        owner = obj.metadata.owner_references[0].slug
        typer.echo(f"agentinstance/{obj.metadata.slug} recreated by agent/{owner}")


def _declared(client: object, filename: list[str], recursive: bool) -> list[tuple[str, str, str]]:
    from stigmer.manifests import reading

    parsed = client.read_manifests(filename, recursive=recursive, stdin=sys.stdin)  # type: ignore[attr-defined]
    for problem in parsed.problems:
        typer.echo(str(problem), err=True)
    if parsed.problems:
        raise typer.Exit(1)
    return [reading.identity(m, client.org) for m in parsed.manifests]  # type: ignore[attr-defined]
