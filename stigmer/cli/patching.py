"""stigmer label, annotate and patch: change one field of live objects, validated as an apply."""

from typing import TYPE_CHECKING, Annotated

import typer

from stigmer.cli.state import fail, state, tell
from stigmer.errors import InvalidResource, UsageError

if TYPE_CHECKING:
    from stigmer.client import ApplyReport, Client

KindArg = Annotated[
    str, typer.Argument(help="agent|agents|ag or agentinstance|agentinstances|ai, or TYPE/NAME.")
]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Run every step, commit nothing.")]
Overwrite = Annotated[
    bool, typer.Option("--overwrite", help="Allow changing the value of a key that has one.")
]
Selector = Annotated[
    str | None, typer.Option("-l", "--selector", help="Change every object these labels pick.")
]
All = Annotated[bool, typer.Option("--all", help="Change every object of the kind in the org.")]
Args = Annotated[
    list[str] | None,
    typer.Argument(help="Names (or ORG/NAME), then changes: KEY=VALUE sets, KEY- removes."),
]


def report(client: "Client", report: "ApplyReport", label: str, done: str, unchanged: str) -> bool:
    """Prints what happened to one object, or why it failed; True when it did not fail.

    A synced object gets apply's warning: its directory's next sync sets it back.
    """
    from stigmer.cli.applying import _warn_synced as warn_synced
    from stigmer.cli.applying import error_line

    warn_synced(client, [r for r in report.results if r.outcome != "unchanged"])
    for problem in report.problems:
        tell(f"error: {problem}")
    for result in report.results:
        if result.ok:
            word = unchanged if result.outcome == "unchanged" else done
            typer.echo(f"{label} {word}")
        else:
            typer.echo(f"error: {error_line(result)}", err=True)
    return report.ok


def patch(
    ctx: typer.Context,
    *,
    kind: KindArg,
    name: Annotated[
        str | None, typer.Argument(help="Name (slug) or id; none with TYPE/NAME.")
    ] = None,
    patch_text: Annotated[
        str, typer.Option("-p", "--patch", help="The patch, as JSON.", show_default=False)
    ],
    type_: Annotated[
        str, typer.Option("--type", help="merge (RFC 7386) or json (RFC 6902).")
    ] = "merge",
    dry_run: DryRun = False,
) -> None:
    """Patch an object's manifest (the fields apply takes), then apply it."""
    client = state(ctx).client()
    target, org, slug = one_object(kind, name)
    try:
        result = client.patch(target, slug, patch_text, type=type_, org=org, dry_run=dry_run)
    except InvalidResource as e:
        fail(f"{target}/{slug}: {e}")
    suffix = " (dry run)" if dry_run else ""
    if not report(
        client, result, f"{target}/{slug}", f"patched{suffix}", f"patched (no change){suffix}"
    ):
        raise typer.Exit(1)


def label(
    ctx: typer.Context,
    *,
    kind: KindArg,
    args: Args = None,
    overwrite: Overwrite = False,
    selector: Selector = None,
    all_: All = False,
    dry_run: DryRun = False,
) -> None:
    """Set or remove labels of objects (KEY=VALUE, KEY-)."""
    _relabel(
        ctx,
        "labels",
        kind,
        args or [],
        overwrite=overwrite,
        selector=selector,
        all_=all_,
        dry_run=dry_run,
    )


def annotate(
    ctx: typer.Context,
    *,
    kind: KindArg,
    args: Args = None,
    overwrite: Overwrite = False,
    selector: Selector = None,
    all_: All = False,
    dry_run: DryRun = False,
) -> None:
    """Set or remove annotations of objects (KEY=VALUE, KEY-)."""
    _relabel(
        ctx,
        "annotations",
        kind,
        args or [],
        overwrite=overwrite,
        selector=selector,
        all_=all_,
        dry_run=dry_run,
    )


def _relabel(
    ctx: typer.Context,
    field: str,
    kind: str,
    args: list[str],
    *,
    overwrite: bool,
    selector: str | None,
    all_: bool,
    dry_run: bool,
) -> None:
    changes = changes_of([a for a in args if _is_change(a)])
    client = state(ctx).client()
    objects = _objects(client, kind, [a for a in args if not _is_change(a)], selector, all_)
    done = "labeled" if field == "labels" else "annotated"
    suffix = " (dry run)" if dry_run else ""
    failed = False
    for singular, org, slug in objects:
        try:
            result = client.relabel(
                singular, slug, changes, field=field, overwrite=overwrite, org=org, dry_run=dry_run
            )
        except InvalidResource as e:  # --overwrite missing: the other objects still go on
            typer.echo(f"error: {singular}/{slug}: {e}", err=True)
            failed = True
            continue
        failed |= not report(
            client, result, f"{singular}/{slug}", done + suffix, f"not {done}{suffix}"
        )
    if failed:
        raise typer.Exit(1)


def _is_change(arg: str) -> bool:
    """kubectl's rule: an argument with ``=``, or ending in ``-``, is a change, not a name."""
    return "=" in arg or arg.endswith("-")


def changes_of(args: list[str]) -> dict[str, str | None]:
    """``KEY=VALUE`` sets, ``KEY-`` removes (None); a key given twice is a usage error."""
    if not args:
        raise UsageError("give at least one change: KEY=VALUE sets, KEY- removes")
    changes: dict[str, str | None] = {}
    for arg in args:
        key, eq, value = arg.partition("=")
        key = key if eq else arg[:-1]
        if not key:
            raise UsageError(f'"{arg}": expected KEY=VALUE or KEY-')
        if key in changes:
            raise UsageError(f'"{key}" is changed twice')
        changes[key] = value if eq else None
    return changes


def _objects(
    client: "Client", kind: str, names: list[str], selector: str | None, all_: bool
) -> list[tuple[str, str | None, str]]:
    """(kind, org or None, slug) of each object named, or picked by ``-l`` or ``--all``."""
    from stigmer.cli import targets

    wanted = targets.parse(kind, names)
    named = [(t.kind.singular, org, n) for t in wanted for org, n in t.names]
    if bool(named) + all_ + (selector is not None) != 1:
        raise UsageError("name the objects, or pick them with --all or -l (one of)")
    if named:
        return named
    if len(wanted) > 1:
        raise UsageError("--all and -l change one kind at a time")
    listed = client.list(wanted[0].kind, selector=selector)
    if not listed:
        raise UsageError(f"no {wanted[0].kind.plural} found in org {client.org}")
    return [(wanted[0].kind.singular, o.metadata.org, o.metadata.slug) for o in listed]


def one_object(kind: str, name: str | None) -> tuple[str, str | None, str]:
    """The one object ``KIND NAME`` or ``TYPE/NAME`` names: (kind, org or None, slug)."""
    from stigmer.cli import targets

    wanted = targets.parse(kind, [name] if name else [])
    if len(wanted) != 1 or len(wanted[0].names) != 1:
        raise UsageError("name one object: KIND NAME or TYPE/NAME")
    org, slug = wanted[0].names[0]
    return wanted[0].kind.singular, org, slug
