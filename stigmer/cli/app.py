"""The typer app: global options and the command table.

Commands import what they need inside their bodies, so that ``stigmer get``
never pays for jsonschema, watchfiles or anything only ``apply`` and
``sync`` use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from stigmer import __version__
from stigmer.cli import agents, applying, deleting, getting, iam, schemas, serving, storetools
from stigmer.cli.migrating import app as migrate_app
from stigmer.cli.state import Command, Group, State, setup_logging

app = typer.Typer(
    cls=Group,
    name="stigmer",
    help="Stigmer: a declarative control plane for AI agents, on your laptop.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"stigmer {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    *,
    data_dir: Annotated[
        str | None,
        typer.Option(
            "--data-dir",
            envvar="STIGMER_DATA_DIR",
            help="Data dir of the embedded store [~/.stigmer/data].",
        ),
    ] = None,
    store: Annotated[
        str | None,
        typer.Option(
            "--store", envvar="STIGMER_STORE", help="Store URL: lmdb:PATH (default) or sqlite:PATH."
        ),
    ] = None,
    org: Annotated[str, typer.Option("--org", envvar="STIGMER_ORG", help="Default org.")] = "local",
    user: Annotated[
        str | None,
        typer.Option("--user", envvar="STIGMER_USER", help="Act as this user [OS user]."),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("-v", "--verbose", help="Log details to stderr.")
    ] = False,
    version: Annotated[
        bool | None,
        typer.Option(
            "--version", "-V", callback=_version, is_eager=True, help="Print the version."
        ),
    ] = None,
) -> None:
    """Global options, shared by every command."""
    setup_logging(verbose)
    state = State(data_dir=data_dir, store_url=store, org=org, user=user, verbose=verbose)
    ctx.obj = state
    ctx.call_on_close(state.close)


def command(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Registers a command whose errors print as one line."""
    return app.command(name, cls=Command)


command("apply")(applying.apply)
command("get")(getting.get)
command("describe")(getting.describe)
command("delete")(deleting.delete)
command("diff")(applying.diff)
command("schema")(schemas.schema)
command("explain")(schemas.explain)
command("serve")(serving.serve)
app.add_typer(agents.app, name="agent")
app.add_typer(storetools.app, name="store")
app.add_typer(migrate_app, name="migrate")
app.add_typer(iam.app, name="iam")
app.add_typer(serving.sync_app, name="sync")


def run() -> None:
    """Runs the app as the ``stigmer`` program."""
    app(prog_name="stigmer")
