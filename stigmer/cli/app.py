"""The typer app: global options and the command table.

Commands import what they need inside their bodies, so that ``stigmer get``
never pays for jsonschema, watchfiles or anything only ``apply`` and
``sync`` use. Typer turns every registered command into a click command on
each run (about 1 ms each), so the program registers only the command it
was asked for; help, completion and tests get the whole table (``app``).

The command modules of this package do not use ``from __future__ import
annotations``: typer reads a command's annotations on every run, and string
annotations would be compiled and evaluated each time (about 90 of them for
``stigmer get``, 3% of its instructions).
"""

import importlib
import os
from typing import Annotated, Any

import typer

from stigmer import __version__
from stigmer.cli import backendoptions, remoteoptions
from stigmer.cli.examples import epilog
from stigmer.cli.state import Command, Group, OrgCommand, State, setup_logging

# Command name -> (module, function); group name -> (module, typer app).
COMMANDS = {
    "apply": ("stigmer.cli.applying", "apply"),
    "get": ("stigmer.cli.getting", "get"),
    "describe": ("stigmer.cli.getting", "describe"),
    "delete": ("stigmer.cli.deleting", "delete"),
    "diff": ("stigmer.cli.applying", "diff"),
    "schema": ("stigmer.cli.schemas", "schema"),
    "explain": ("stigmer.cli.schemas", "explain"),
    "serve": ("stigmer.cli.serving", "serve"),
    "wait": ("stigmer.cli.waiting", "wait"),
    "label": ("stigmer.cli.patching", "label"),
    "annotate": ("stigmer.cli.patching", "annotate"),
    "patch": ("stigmer.cli.patching", "patch"),
    "edit": ("stigmer.cli.editing", "edit"),
    "api-resources": ("stigmer.cli.discovery", "api_resources"),
    "events": ("stigmer.cli.discovery", "events"),
    "version": ("stigmer.cli.discovery", "version"),
    "history": ("stigmer.cli.history", "history"),
    "rollback": ("stigmer.cli.history", "rollback"),
}
GROUPS = {
    "agent": ("stigmer.cli.agents", "app"),
    "store": ("stigmer.cli.storetools", "app"),
    "migrate": ("stigmer.cli.migrating", "app"),
    "iam": ("stigmer.cli.iam", "app"),
    "sync": ("stigmer.cli.serving", "sync_app"),
}
# The commands that act in one org take --org after their name too.
ORG_SCOPED = {
    *("apply", "get", "describe", "delete", "diff"),
    *("wait", "label", "annotate", "patch", "edit", "events", "history", "rollback"),
}
# Global options that take a value, to find the command word after them.
_VALUED = {"--data-dir", "--store", "--org", "--user", "--history-limit"}
_VALUED |= remoteoptions.VALUED


def _version(value: bool) -> None:
    if value:
        typer.echo(f"stigmer {__version__}")
        raise typer.Exit()


def _typed(ctx: typer.Context, name: str) -> bool:
    """Whether the option was typed on the command line (not taken from the environment)."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name == "COMMANDLINE"


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
            "--store",
            envvar="STIGMER_STORE",
            help="Store URL: lmdb:PATH (default), sqlite:PATH or etcd://HOST:PORT/PREFIX.",
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
    history_limit: Annotated[
        int,
        typer.Option(
            "--history-limit", min=0, help="Earlier specs kept per object for history/rollback."
        ),
    ] = 10,
    server: remoteoptions.Server = None,
    token: remoteoptions.Token = None,
    token_file: remoteoptions.TokenFile = None,
    tls_ca: remoteoptions.TlsCa = None,
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
    state.history_limit = history_limit
    typed = _typed(ctx, "token_file") or _typed(ctx, "tls_ca")
    state.remote = remoteoptions.remote(server, token, token_file, tls_ca, typed=typed)
    state.org_given = _typed(ctx, "org")
    ctx.obj = state
    ctx.call_on_close(state.close)


class Root(Group):
    """The program's group: the global options of ``main``, and each store backend's.

    A backend declares its connection settings in the store registry (as etcd
    its TLS files and user); they join the global options before ``--server``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        at = next((i for i, p in enumerate(self.params) if p.name == "server"), len(self.params))
        self.params[at:at] = backendoptions.options()


def build(only: str | None = None) -> typer.Typer:
    """The app with every command, or with only the one named ``only``."""
    app = typer.Typer(
        cls=Root,
        name="stigmer",
        help="Stigmer: a declarative control plane for AI agents, on your laptop.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
        epilog=epilog(""),
    )
    app.callback()(main)
    for name, (module, attr) in COMMANDS.items():
        if only in (None, name):
            cls = OrgCommand if name in ORG_SCOPED else Command
            command = app.command(name, cls=cls, epilog=epilog(name))
            command(getattr(importlib.import_module(module), attr))
    for name, (module, attr) in GROUPS.items():
        if only in (None, name):
            app.add_typer(getattr(importlib.import_module(module), attr), name=name)
    return app


def command_word(args: list[str]) -> str | None:
    """The command the arguments name, skipping the global options before it."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in _VALUED or arg in backendoptions.flags():
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def __getattr__(name: str) -> Any:
    """``app``: the whole command table, built on first use."""
    if name == "app":
        globals()["app"] = whole = build()
        return whole
    raise AttributeError(name)


def program(args: list[str]) -> typer.Typer:
    """The app to run for ``args``: with only the command they name, else the whole table."""
    word = command_word(args)
    known = word in COMMANDS or word in GROUPS
    completing = any(k.endswith("_COMPLETE") for k in os.environ)
    return build(word) if known and not completing else build()
