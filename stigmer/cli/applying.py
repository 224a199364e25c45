"""stigmer apply and stigmer diff: make the store match manifests, or show how it differs."""

import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer

from stigmer.cli import printers
from stigmer.cli.state import fail, state
from stigmer.errors import Forbidden, InvalidResource, StepFailed

Files = Annotated[
    list[str],
    typer.Option("-f", "--filename", help="File, directory or - (stdin). Repeatable."),
]
Recursive = Annotated[bool, typer.Option("-R", "--recursive", help="Read directories recursively.")]
PROGRESS_THRESHOLD = 500


def error_line(result: Any) -> str:
    """FILE:LINE:COL: path: message, or FILE:LINE:COL: kind/name: step: message."""
    error = result.error
    cause = error.cause if isinstance(error, StepFailed) else error
    where = f"{result.source}: " if result.source else ""
    if isinstance(cause, InvalidResource) and cause.path:
        return f"{where}{cause.path}: {cause.message}"
    if isinstance(cause, Forbidden):  # already a whole sentence: no step needed
        return f"{where}{cause}"
    return f"{where}{result.kind.singular}/{result.name}: {error}"


def _progress() -> tuple[Callable[[int, int], None] | None, Callable[[], None]]:
    """A rich progress bar on stderr for large applies on a terminal."""
    if not sys.stderr.isatty():
        return None, lambda: None
    bar: dict[str, Any] = {}

    def update(done: int, total: int) -> None:
        if total <= PROGRESS_THRESHOLD:
            return
        if not bar:
            from rich.console import Console
            from rich.progress import MofNCompleteColumn, Progress

            columns = (*Progress.get_default_columns(), MofNCompleteColumn())
            bar["p"] = Progress(*columns, console=Console(stderr=True), transient=True)
            bar["p"].start()
            bar["t"] = bar["p"].add_task("applying", total=total)
        bar["p"].update(bar["t"], completed=done, total=total)  # the total grows while reading

    return update, lambda: bar["p"].stop() if bar else None


def apply(
    ctx: typer.Context,
    *,
    filename: Files,
    recursive: Recursive = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Run every step, commit nothing.")
    ] = False,
    atomic: Annotated[bool, typer.Option("--atomic", help="Apply all documents or none.")] = False,
    prune: Annotated[
        bool,
        typer.Option(
            "--prune", help="Delete objects matching -l that the input no longer declares."
        ),
    ] = False,
    selector: Annotated[
        str | None, typer.Option("-l", "--selector", help="Label selector for --prune.")
    ] = None,
    output: Annotated[
        str | None, typer.Option("-o", "--output", help="name, yaml or json.")
    ] = None,
) -> None:
    """Create or update resources from manifests, and reconcile them."""
    if output not in (None, "name", "yaml", "json"):
        raise typer.BadParameter("must be name, yaml or json", param_hint="-o")
    if prune and not selector:
        raise typer.BadParameter("--prune needs a label selector", param_hint="-l")
    client = state(ctx).client()
    update, stop = _progress()
    try:
        report = client.apply_files(
            filename,
            recursive=recursive,
            stdin=sys.stdin,
            dry_run=dry_run,
            atomic=atomic,
            progress=update,
        )
    finally:
        stop()
    suffix = " (dry run)" if dry_run else ""
    _print_report(report, output, suffix)
    if prune and report.ok:
        keep = [(r.kind.key, r.org, r.name) for r in report.results]
        orgs = {r.org for r in report.results} | {client.org}
        for r in client.prune(selector or "", keep, orgs=orgs, dry_run=dry_run):
            if r.ok:
                typer.echo(f"{r.kind.singular}/{r.name} pruned{suffix}")
    if atomic and not report.ok:
        fail("nothing applied: a document failed and --atomic is set")
    if not report.ok:
        raise typer.Exit(1)


def _print_report(report: Any, output: str | None, suffix: str) -> None:
    """Problems and failures to stderr; one line (or the objects) per success to stdout."""
    for problem in report.problems:
        typer.echo(str(problem), err=True)
    for result in report.results:
        if not result.ok:
            typer.echo(error_line(result), err=True)
    done = [r for r in report.results if r.ok]
    if output in ("yaml", "json"):
        objs = [r.object for r in done if r.object is not None]
        render = printers.render_yaml if output == "yaml" else printers.render_json
        typer.echo(render(objs, single=len(objs) == 1), nl=False)
        return
    if output == "name":
        lines = [f"{r.kind.singular}/{r.name}\n" for r in done]
    else:
        lines = [f"{r.kind.singular}/{r.name} {r.outcome}{suffix}\n" for r in done]
    if lines:
        typer.echo("".join(lines), nl=False)  # one write: 10,000 echo calls cost ~40 ms


def diff(ctx: typer.Context, *, filename: Files, recursive: Recursive = False) -> None:
    """Show how the live objects differ from the manifests (exit 1 when they do)."""
    from stigmer.manifests import reading

    st = state(ctx)
    client = st.client(write=False)
    parsed = reading.read(filename, recursive=recursive, stdin=sys.stdin, default_org=client.org)
    for problem in parsed.problems:
        typer.echo(str(problem), err=True)
    diffs = client.diff(parsed.manifests)
    color = sys.stdout.isatty()
    failed = bool(parsed.problems)
    for d in diffs:
        if d.error is not None:
            typer.echo(f"error: {d.kind.singular}/{d.name}: {d.error}", err=True)
            failed = True
        elif d.changed:
            typer.echo(_colored(d.text) if color else d.text, nl=False)
    if failed:
        raise typer.Exit(2)
    raise typer.Exit(1 if any(d.changed for d in diffs) else 0)


def _colored(text: str) -> str:
    out = []
    for line in text.splitlines(keepends=True):
        if line.startswith("+") and not line.startswith("+++"):
            out.append(f"\x1b[32m{line}\x1b[0m")
        elif line.startswith("-") and not line.startswith("---"):
            out.append(f"\x1b[31m{line}\x1b[0m")
        else:
            out.append(line)
    return "".join(out)
