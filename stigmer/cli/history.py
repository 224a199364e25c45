"""stigmer history and stigmer rollback: an object's kept revisions, and going back to one."""

import time
from typing import Annotated

import typer

from stigmer.api.kinds import Resource
from stigmer.cli import printers
from stigmer.cli.getting import Kind, ShowSecrets
from stigmer.cli.state import state
from stigmer.errors import NotFound, UsageError

Name = Annotated[str | None, typer.Argument(help="Name (slug) or id; none with TYPE/NAME.")]
HEADERS = ["REVISION", "GENERATION", "WHEN", "WHO", "CHANGE"]


def _target(kind: str, name: str | None) -> tuple[str, str | None, str]:
    """(kind, org, name) of the one object a command is about."""
    from stigmer.cli import targets

    wanted = targets.parse(kind, [name] if name else [])
    if len(wanted) != 1 or len(wanted[0].names) != 1:
        raise UsageError("name one object: KIND NAME or TYPE/NAME")
    org, slug = wanted[0].names[0]
    return wanted[0].kind.name, org, slug


def _ago(when_ns: int, now: float) -> str:
    seconds = max(0, int(now - when_ns / 1e9))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def _render(objs: list[Resource], output: str, *, single: bool) -> str:
    """yaml (also what a single revision's table means) or json."""
    if output == "json":
        return printers.render_json(objs, single=single)
    return printers.render_yaml(objs, single=single)


def history(
    ctx: typer.Context,
    *,
    kind: Kind,
    name: Name = None,
    revision: Annotated[
        int | None, typer.Option("--revision", help="Show this one revision (-o yaml or json).")
    ] = None,
    diff: Annotated[
        int | None, typer.Option("--diff", help="Show this revision against the live object.")
    ] = None,
    output: Annotated[str, typer.Option("-o", "--output", help="table, yaml or json.")] = "table",
    show_secrets: ShowSecrets = False,
) -> None:
    """List an object's kept revisions, oldest first: the specs its changes replaced."""
    if output not in ("table", "yaml", "json"):
        raise typer.BadParameter("must be one of table, yaml, json", param_hint="-o")
    if revision is not None and diff is not None:
        raise UsageError("give --revision or --diff, not both")
    kind_name, org, slug = _target(kind, name)
    client = state(ctx).client(write=False)
    if diff is not None:
        typer.echo(client.history_diff(kind_name, slug, diff, org=org), nl=False)
        return
    kept = client.history(kind_name, slug, org=org, show_secrets=show_secrets)
    what = f"{kind_name.lower()}/{slug}"
    if revision is not None:
        one = [r for r in kept if r.number == revision]
        if not one:
            numbers = ", ".join(str(r.number) for r in kept) or "none"
            raise NotFound(f"revision {revision} of {what} is not kept (kept: {numbers})")
        typer.echo(_render([one[0].object], output, single=True), nl=False)
        return
    if output != "table":
        typer.echo(_render([r.object for r in kept], output, single=False), nl=False)
        return
    if not kept:
        typer.echo(f"No revisions kept for {what}: its spec never changed", err=True)
        return
    now = time.time()
    rows = [HEADERS] + [
        [str(r.number), str(r.generation), _ago(r.when_ns, now), r.who or printers.NONE, r.change]
        for r in kept
    ]
    typer.echo(printers.table(rows), nl=False)


def rollback(
    ctx: typer.Context,
    *,
    kind: Kind,
    name: Name = None,
    to_revision: Annotated[
        int | None,
        typer.Option("--to-revision", help="The kept revision to restore [the newest kept]."),
    ] = None,
) -> None:
    """Restore an object's spec from a kept revision, as an apply (a new generation)."""
    kind_name, org, slug = _target(kind, name)
    client = state(ctx).client()
    result = client.rollback(kind_name, slug, to_revision=to_revision, org=org)
    outcome = "rolled back" if result.outcome == "configured" else str(result.outcome)
    typer.echo(f"{result.kind.singular}/{result.name} {outcome}")
