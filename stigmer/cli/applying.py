"""stigmer apply and stigmer diff: make the store match manifests, or show how it differs."""

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from stigmer.api.naming import DEFAULT_ORG
from stigmer.cli import printers
from stigmer.cli.state import fail, fail_no_manifests, state, tell
from stigmer.errors import Conflict, Forbidden, InvalidResource, StepFailed, user_message

if TYPE_CHECKING:
    from stigmer.client import Client

Files = Annotated[
    list[str],
    typer.Option("-f", "--filename", help="File, directory or - (stdin). Repeatable."),
]
Recursive = Annotated[bool, typer.Option("-R", "--recursive", help="Read directories recursively.")]
PROGRESS_THRESHOLD = 500


def error_line(result: Any) -> str:
    """FILE:LINE:COL: path: message, or FILE:LINE:COL: kind/name: message.

    The pipeline step that failed is for logs (-v), not for users: never named.
    """
    error = result.error
    cause = error.cause if isinstance(error, StepFailed) else error
    where = f"{result.source}: " if result.source else ""
    path = getattr(cause, "path", "")
    if path:  # located at the field by the runner
        message = cause.message if isinstance(cause, InvalidResource | Conflict) else str(cause)
        return f"{where}{path}: {message}"
    if isinstance(cause, Forbidden):  # already a whole sentence
        return f"{where}{cause}"
    return f"{where}{result.kind.singular}/{result.name}: {user_message(error)}"


def in_org(org: str) -> str:
    """' in org "acme"' for an object outside the default org, so output is unambiguous."""
    return f' in org "{org}"' if org and org != DEFAULT_ORG else ""


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
    verbose: Annotated[
        bool,
        typer.Option(
            "-v", "--verbose", help="Explain: each pipeline step of each object, with its time."
        ),
    ] = False,
) -> None:
    """Create or update resources from manifests, and reconcile them."""
    if output not in (None, "name", "yaml", "json"):
        raise typer.BadParameter("must be name, yaml or json", param_hint="-o")
    if prune and not selector:
        raise typer.BadParameter("--prune needs a label selector", param_hint="-l")
    st = state(ctx)
    client = st.client()
    update, stop = _progress()
    trace = verbose or st.verbose  # stigmer -v apply explains itself too
    try:
        report = client.apply_files(
            filename,
            recursive=recursive,
            stdin=sys.stdin,
            dry_run=dry_run,
            atomic=atomic,
            progress=update,
            trace=trace,
        )
    finally:
        stop()
    if not report.results and not report.problems:
        fail_no_manifests(filename)
    suffix = " (dry run)" if dry_run else ""
    if trace:
        from stigmer.cli.tracing import explain_steps

        typer.echo(explain_steps(report.results), err=True, nl=False)
    _print_report(report, output, suffix)
    _warn_synced(client, report.results)
    if prune and report.ok:
        keep = [(r.kind.key, r.org, r.name) for r in report.results]
        orgs = {r.org for r in report.results}  # only where the input is: never beyond it
        for r in client.prune(selector or "", keep, orgs=orgs, dry_run=dry_run):
            if r.ok:
                typer.echo(f"{r.kind.singular}/{r.name} pruned{in_org(r.org)}{suffix}")
    if atomic and not report.ok:
        fail("nothing applied: a document failed and --atomic is set")
    if not report.ok:
        raise typer.Exit(1)


def _warn_synced(client: "Client", results: list[Any]) -> None:
    """A warning for each object a synced directory manages: sync will set it back."""
    for r in results:
        directory = client.synced_directory(r.object) if r.ok and r.object else None
        if directory:
            typer.echo(
                f"warning: {r.kind.singular}/{r.name} is managed by stigmer sync of {directory}; "
                "sync sets it back to that directory's version",
                err=True,
            )


def _print_report(report: Any, output: str | None, suffix: str) -> None:
    """Problems and failures to stderr; one line (or the objects) per success to stdout."""
    for problem in report.problems:
        tell(str(problem))
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
        lines = [f"{r.kind.singular}/{r.name} {r.outcome}{in_org(r.org)}{suffix}\n" for r in done]
    if lines:
        typer.echo("".join(lines), nl=False)  # one write: 10,000 echo calls cost ~40 ms


def diff(ctx: typer.Context, *, filename: Files, recursive: Recursive = False) -> None:
    """Show how the live objects differ from the manifests (exit 1 when they do)."""
    st = state(ctx)
    client = st.client(write=False)
    parsed = client.read_manifests(filename, recursive=recursive, stdin=sys.stdin)
    if not parsed.manifests and not parsed.problems:
        fail_no_manifests(filename)
    for problem in parsed.problems:
        tell(str(problem))
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
