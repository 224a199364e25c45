"""stigmer delete: by name, by the manifests that declare objects, or all of a kind."""

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from stigmer.cli import printers
from stigmer.cli.state import fail_no_manifests, state, tell
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
    selector: Annotated[
        str | None,
        typer.Option("-l", "--selector", help="Delete the objects of the kind these labels pick."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Run every step, say what would go, commit nothing.")
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="With --all -A: do not ask for confirmation.")
    ] = False,
) -> None:
    """Delete objects and what they own (an agent's instances)."""
    from stigmer.api import kinds

    every = all_ or selector is not None  # the objects of a kind, not named ones
    both = all_ and selector is not None
    wanted = [] if filename else _wanted(kind, names, every=every, both=both)
    # A delete has nothing to do in a store that is not there: it creates none.
    client = state(ctx).client(create=False)
    targets: list[tuple[str, str, str]] = []  # (kind, org, name)
    suffix = " (dry run)" if dry_run else ""
    if filename:
        targets += _declared(client, filename, recursive)
    elif every:
        if all_ and all_orgs and not (yes or dry_run):  # a dry run deletes nothing: no question
            _confirm_every_org(client, wanted)
        _delete_all(client, wanted, all_orgs=all_orgs, selector=selector, dry_run=dry_run)
        return
    else:
        targets += [(t.kind.key, org or client.org, n) for t in wanted for org, n in t.names]
    failed = False
    gone: set[tuple[str, str, str]] = set()  # what this command deleted, cascades included
    for key, org, name in targets:
        k = kinds.by_key(key)
        if (key, org, name) in gone:  # its owner's cascade took it already: it is deleted
            typer.echo(f"{k.singular}/{name} deleted{suffix}")
            continue
        try:
            result = client.delete_result(k, name, org=org, dry_run=dry_run)
        except NotFound:
            if not ignore_not_found:
                typer.echo(f'error: {k.singular} "{name}" not found in org "{org}"', err=True)
                failed = True
            continue
        gone |= {(kinds.of(o).key, o.metadata.org, o.metadata.slug) for o in result.deleted}
        gone -= {(kinds.of(o).key, o.metadata.org, o.metadata.slug) for o in result.recreated}
        _print_deleted(k.singular, name, result.recreated, result.warnings, suffix)
    if failed:
        raise typer.Exit(1)


def _wanted(kind: str | None, names: list[str] | None, *, every: bool, both: bool) -> list[Any]:
    """The targets KIND NAME..., TYPE/NAME..., KIND --all or KIND -l name (``every``).

    Their usage errors come before the store is opened, so that they are the
    same with a store or without one.
    """
    from stigmer.cli import targets as parsing

    if kind is None:
        raise UsageError(
            "say what to delete: KIND NAME..., TYPE/NAME..., KIND --all, KIND -l SELECTOR, "
            "or -f PATH"
        )
    if both:
        raise UsageError("--all and -l cannot be used together: -l already picks the objects")
    wanted = parsing.parse(kind, names or [])
    named = any(t.names for t in wanted)
    if every and named:
        raise UsageError("--all and -l delete the objects of a kind: give no names")
    if not every and not named:
        raise UsageError(f"name the {kind} to delete, or use --all")
    return wanted


def _print_deleted(
    kind: str,
    name: str,
    recreated: list[Any],
    warnings: tuple[str, ...] | list[str] = (),
    suffix: str = "",
) -> None:
    """``kind/name deleted``, then each default instance its agent put back at once.

    A warning (a deleted target still referenced) goes to stderr, as kubectl's do.
    """
    typer.echo(f"{kind}/{name} deleted{suffix}")
    for warning in warnings:
        typer.echo(f"Warning: {warning}", err=True)
    for obj in recreated:
        owner = obj.metadata.owner_references[0].slug
        typer.echo(f"agentinstance/{obj.metadata.slug} recreated by agent/{owner}{suffix}")


def _confirm_every_org(client: "Client", wanted: list[Any]) -> None:
    """``delete KIND --all -A`` empties every org: asked on a terminal, refused without one.

    A script that means it says ``--yes``; one that did not mean it (a
    variable that came out empty, a pasted line) deletes nothing.
    """
    if not sys.stdin.isatty():
        raise UsageError("--all -A deletes in every org: confirm with --yes (no terminal to ask)")
    counts = {t.kind.plural: len(client.list(t.kind, all_orgs=True)) for t in wanted}
    orgs = {org for t in wanted for org in client.visible_orgs(t.kind)}
    what = ", ".join(f"{n} {plural}" for plural, n in counts.items())
    typer.confirm(f"Delete all {what} in {len(orgs)} orgs?", abort=True)


def _delete_all(
    client: "Client", wanted: list[Any], *, all_orgs: bool, selector: str | None, dry_run: bool
) -> None:
    """``delete KIND --all`` or ``-l``: says so when there was nothing to delete, as kubectl."""
    suffix = " (dry run)" if dry_run else ""
    deleted = False
    for target in wanted:
        found = client.delete_all(
            target.kind, all_orgs=all_orgs, selector=selector, dry_run=dry_run
        )
        for result in found:
            _print_deleted(
                result.kind.singular, result.name, result.recreated, result.warnings, suffix
            )
            deleted = True
    if not deleted:
        typer.echo(printers.nothing_found(None if all_orgs else client.org), err=True)


def _declared(client: "Client", filename: list[str], recursive: bool) -> list[tuple[str, str, str]]:
    problems, declared = client.declared(filename, recursive=recursive, stdin=sys.stdin)
    for problem in problems:
        tell(str(problem))
    if problems:
        raise typer.Exit(1)
    if not declared:
        fail_no_manifests(filename)
    return declared
