"""stigmer migrate ...: import an upstream database, and copy stores (backup, restore)."""

from typing import TYPE_CHECKING, Annotated

import typer

from stigmer.cli.examples import epilog
from stigmer.cli.state import LOCAL_ONLY, Command, Group, state
from stigmer.errors import UsageError

if TYPE_CHECKING:
    from stigmer.client import CopyReport, ImportEntry, ImportReport

app = typer.Typer(
    cls=Group,
    help="Import an upstream Stigmer database; copy, back up and restore stores.",
    no_args_is_help=True,
    add_completion=False,
    epilog=epilog("migrate"),
)


@app.command("from-sqlite", cls=Command, epilog=epilog("migrate from-sqlite"))
def from_sqlite(
    ctx: typer.Context,
    path: Annotated[
        str, typer.Argument(help="Upstream Stigmer's SQLite database; opened read-only.")
    ] = "~/.stigmer/stigmer.db",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would happen; write nothing.")
    ] = False,
) -> None:
    """Import every Agent and AgentInstance of an upstream Stigmer database, then reconcile.

    Safe to run again: rows that did not change upstream are left alone.
    Exits 1 when a row could not be imported.
    """
    report = state(ctx).client().import_upstream(path, dry_run=dry_run)
    _print_import(report)
    if not report.ok:
        typer.echo(
            f"error: {report.failed_rows()} could not be imported cleanly; see above", err=True
        )
        raise typer.Exit(1)


def _label(entry: "ImportEntry") -> str:
    """``agent/acme/bot``: kind, org and slug, the key of an object in its store."""
    if not entry.slug:
        return f"{entry.kind.singular} {entry.id}"
    return f"{entry.kind.singular}/{entry.org}/{entry.slug}"


def _print_import(report: "ImportReport") -> None:
    version = f" (upstream schema version {report.schema_version})" if report.schema_version else ""
    typer.echo(f"source: {report.source}{version}")
    suffix = " (dry run)" if report.dry_run else ""
    for entry in report.entries:
        by = " by the reconcile" if entry.outcome == "created" else ""
        reason = f": {entry.error}" if entry.error else ""
        typer.echo(f"{_label(entry)} {entry.outcome}{by}{suffix}{reason}")
        for note in entry.notes:
            typer.echo(f"  {note}")
    for note in report.notes:
        typer.echo(f"note: {note}")
    typer.echo(_summary(report) + suffix)


def _summary(report: "ImportReport") -> str:
    counts = ", ".join(f"{outcome} {n}" for outcome, n in report.counts())
    flags = []
    for flag in ("renamed", "orphaned"):
        n = sum(1 for e in report.entries if any(n.startswith(flag) for n in e.notes))
        flags.append(f"{flag} {n}")
    return f"{counts}; {', '.join(flags)}"


@app.command("copy", cls=Command, epilog=epilog("migrate copy"))
def copy(
    ctx: typer.Context,
    to: Annotated[
        str, typer.Option("--to", help="Destination store URL, e.g. lmdb:/backup/dir; empty.")
    ],
    from_: Annotated[
        str | None,
        typer.Option("--from", help="Source store URL (default: the current store)."),
    ] = None,
) -> None:
    """Copy a whole store to another, of either backend: objects, revisions, events, tuples.

    This is also the backup and restore tool. The destination must be empty,
    and it receives the whole store or, on any error, nothing.
    """
    from stigmer.client import Client

    st = state(ctx)
    if st.remote is not None and from_ is None:  # the current store is the server's
        raise UsageError(LOCAL_ONLY)
    # The source's own roles decide: copying reads every org of it.
    with Client.copy_source(from_ or st.url(), user=st.user, org=st.org) as source:
        report = source.copy_to(to)
    _print_copy(report)
    if not report.ok:
        raise typer.Exit(1)


def _print_copy(report: "CopyReport") -> None:
    objects = ", ".join(f"{n} {kind}" for kind, n in report.objects.items()) or "no objects"
    typer.echo(f"copied {report.source} to {report.destination}")
    typer.echo(
        f"revision {report.revision}: {objects}, {report.events} events, "
        f"{report.meta} meta values, {report.tuples} tuples"
    )
    for problem in report.problems:
        typer.echo(problem)
    if report.problems:
        typer.echo(f"{len(report.problems)} problems found in {report.destination}", err=True)
        return
    typer.echo(f"store {report.destination} is consistent")
