"""stigmer serve and stigmer sync: the controller and the GitOps loop."""

import logging
import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from stigmer.cli.examples import epilog
from stigmer.cli.state import Group, OrgCommand, fail, state, tell

if TYPE_CHECKING:
    from stigmer.client import Client, Syncer
    from stigmer.server.running import ApiServer

Prune = Annotated[
    bool, typer.Option("--prune", help="Delete objects this directory no longer declares.")
]
SelfHeal = Annotated[
    bool,
    typer.Option(
        "--self-heal/--no-self-heal",
        help="With a watch: set back an out-of-band change as soon as it commits.",
    ),
]
FollowSymlinks = Annotated[
    bool,
    typer.Option(
        "--follow-symlinks", help="Also read files that link outside the directory (skipped)."
    ),
]


def _print_report(report: Any) -> None:
    """One line per object, per file; problems and notices on stderr."""
    for notice in report.skipped:
        typer.echo(notice, err=True)
    for rel, fr in sorted(report.files.items()):
        for problem in fr.problems:
            tell(str(problem))
        for r in fr.results:
            if r.ok:
                typer.echo(f"{rel}: {r.kind.singular}/{r.name} {r.outcome}")
            else:
                from stigmer.cli.applying import error_line

                typer.echo(error_line(r), err=True)
    for r in report.pruned:
        if r.ok:
            typer.echo(f"{r.kind.singular}/{r.name} pruned")


def _syncer(
    ctx: typer.Context, directory: str, prune: bool, *, watch: bool = False, follow: bool = False
) -> "Syncer":
    from pathlib import Path

    if watch and not Path(directory).is_dir():  # the watcher would say only "No path was found"
        fail(f"sync: {directory} is missing or not a directory; nothing to watch")
    return state(ctx).client().syncer(directory, prune=prune, follow_symlinks=follow)


def _stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT (Ctrl-C)."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def _until(stop: threading.Event) -> None:
    """Blocks the main thread until ``stop``, waking to run signal handlers.

    Python runs a handler only in the main thread, and only once that thread
    wakes: a signal the kernel hands to another thread (serve has dozens: the
    API's workers, grpc's) leaves a main thread blocked in a plain wait() asleep
    with the handler pending, and SIGTERM would never stop serve.
    """
    while not stop.wait(0.25):
        pass


class SyncGroup(Group):
    """``stigmer sync DIR`` runs the hidden ``run`` command; ``sync status DIR`` its own."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["run", *args]
        return list(super().parse_args(ctx, args))

    def format_help(self, ctx: Any, formatter: Any) -> None:
        """The help of ``stigmer sync DIR`` itself: what users type, not the hidden ``run``."""
        run = self.commands["run"]
        own = run.make_context(ctx.info_name, [], parent=ctx.parent, resilient_parsing=True)
        run.format_help(own, formatter)


sync_app = typer.Typer(
    cls=SyncGroup,
    help="Keep a directory of manifests and the store in step (GitOps).",
    add_completion=False,
    no_args_is_help=True,
)


@sync_app.command("run", cls=OrgCommand, hidden=True, epilog=epilog("sync"))
def sync(
    ctx: typer.Context,
    directory: Annotated[
        str, typer.Argument(metavar="DIR", help="The directory of manifests (recursive).")
    ],
    *,
    watch: Annotated[
        bool, typer.Option("--watch", "-w", help="Keep going: follow changes.")
    ] = False,
    prune: Prune = False,
    resync: Annotated[
        float, typer.Option("--resync", help="With --watch: seconds between full re-syncs.")
    ] = 300.0,
    follow_symlinks: FollowSymlinks = False,
    self_heal: SelfHeal = True,
) -> None:
    """Apply a directory tree once (or keep following it with --watch).

    stigmer sync status DIR shows what the last sync did with each file.
    """
    syncer = _syncer(ctx, directory, prune, watch=watch, follow=follow_symlinks)
    if not watch:
        report = syncer.sync()
        _print_report(report)
        if not report.ok:
            raise typer.Exit(1)
        return
    stop = _stop_on_signals()
    syncer.follow(stop, report=_print_report, resync_seconds=resync, self_heal=self_heal)


@sync_app.command("status", cls=OrgCommand, epilog=epilog("sync status"))
def sync_status(
    ctx: typer.Context,
    directory: Annotated[str, typer.Argument(metavar="DIR", help="The synced directory.")],
) -> None:
    """Show each file of a synced directory: its objects, revision and last error."""
    syncer = _syncer(ctx, directory, False)
    files = syncer.load_state().get("files", {})
    if not files:
        fail(f"{directory} has not been synced to this store")
    rows = [["FILE", "OBJECTS", "REVISION", "ERROR"]]
    for rel in sorted(files):
        entry = files[rel]
        objects = ",".join(entry.get("objects", [])) or "<none>"
        rows.append(
            [rel, objects, str(entry.get("revision", 0)), entry.get("error", "") or "<none>"]
        )
    from stigmer.cli.printers import table

    typer.echo(table(rows), nl=False)


def _check_serve_options(workers: int, health_port: int | None) -> None:
    """Usage errors (exit 2) before anything starts; port 0 picks a free port."""
    from stigmer.errors import UsageError

    if workers < 1:
        raise UsageError(f"--workers must be at least 1, not {workers}")
    if health_port is not None and not 0 <= health_port <= 65535:
        raise UsageError(f"--health-port must be a port from 0 to 65535, not {health_port}")


def serve(
    ctx: typer.Context,
    *,
    watch: Annotated[
        str | None, typer.Option("--watch", help="Also sync this directory, like sync --watch.")
    ] = None,
    prune: Prune = False,
    health_port: Annotated[
        int | None, typer.Option("--health-port", help="Serve /healthz and /metrics on 127.0.0.1.")
    ] = None,
    workers: Annotated[int, typer.Option("--workers", help="Reconcile workers.")] = 2,
    resync: Annotated[
        float, typer.Option("--resync", help="Seconds between full resyncs.")
    ] = 600.0,
    follow_symlinks: FollowSymlinks = False,
    retention: Annotated[
        str,
        typer.Option(
            "--retention", help="Change-feed events to keep: a count (100000) or an age (7d)."
        ),
    ] = "100000",
    self_heal: SelfHeal = True,
    listen: Annotated[
        str,
        typer.Option(
            "--listen",
            envvar="STIGMER_LISTEN",
            help="Serve the gRPC API on HOST:PORT; none serves no API.",
        ),
    ] = "127.0.0.1:7234",
    anonymous_user: Annotated[
        str | None,
        typer.Option("--anonymous-user", help="API calls without a token act as this user."),
    ] = None,
    tls_cert: Annotated[
        Path | None, typer.Option("--tls-cert", help="The API's TLS certificate (PEM).")
    ] = None,
    tls_key: Annotated[
        Path | None, typer.Option("--tls-key", help="The API's TLS private key (PEM).")
    ] = None,
) -> None:
    """Run the controller (and the gRPC API): keep every resource converged until SIGTERM."""
    _check_serve_options(workers, health_port)
    if not state(ctx).verbose:  # work done and the periodic summaries, even without -v
        logging.getLogger("stigmer").setLevel(logging.INFO)
    client = state(ctx).client()
    api = _api_server(client, listen, anonymous_user, tls_cert, tls_key)
    stop = _stop_on_signals()
    syncer = None
    if watch is not None:  # made first: its counter goes to /metrics
        syncer = _syncer(ctx, watch, prune, watch=True, follow=follow_symlinks)
    counters = {} if syncer is None else {"stigmer_self_heal_total": lambda: syncer.healed}
    running: list[ApiServer] = []  # the API once started, to stop once

    def start_api() -> None:  # every replica serves the API, leading or waiting its turn
        if api is not None:
            api.start()
            running.append(api)

    def stop_api() -> None:
        while running:
            running.pop().stop()

    try:
        with client.controller(
            stop,
            workers=workers,
            resync_seconds=resync,
            health_port=health_port,
            retention=retention,
            counters=counters,
            metrics=api.metrics.render if api is not None else None,
            serving=start_api,
        ):
            try:
                if syncer is not None:
                    syncer.follow(stop, report=_print_report, self_heal=self_heal)
                _until(stop)
            finally:
                stop_api()  # first: calls in flight finish before the controller stops
    finally:
        stop_api()  # the controller failed: the API stops too


def _api_server(
    client: "Client",
    listen: str,
    anonymous_user: str | None,
    tls_cert: Path | None,
    tls_key: Path | None,
) -> "ApiServer | None":
    """The API server serve will start, or None for --listen none (grpc is never imported)."""
    if listen.strip().lower() == "none":
        return None
    from stigmer.server.running import ApiServer, Options, check_options

    options = Options(listen, anonymous_user, tls_cert, tls_key)
    check_options(options)
    return ApiServer(client, options)
