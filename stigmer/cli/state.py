"""What every command shares: the global options, the client, and error handling."""

from __future__ import annotations

import logging
import os
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

import typer
from typer.core import TyperCommand, TyperGroup, TyperOption

from stigmer.cli.escaping import escape
from stigmer.errors import ManifestError, StigmerError, UsageError, user_message

if TYPE_CHECKING:
    from stigmer.cli.remoteoptions import Remote
    from stigmer.client import Client

# What a command that needs the store itself says under --server.
LOCAL_ONLY = (
    "this command needs a local store (--data-dir or --store): it does not work with --server"
)


@dataclass
class State:
    """The global options, and the client built from them on first use."""

    data_dir: str | None = None
    store_url: str | None = None
    org: str = "local"
    org_given: bool = False  # --org was typed: manifests naming another org are refused
    user: str | None = None
    verbose: bool = False
    history_limit: int = 10  # --history-limit: earlier specs kept per object
    remote: Remote | None = None  # --server: every command goes through the API
    _client: Client | None = field(default=None, repr=False)

    def url(self) -> str:
        from stigmer.client import store_url

        return store_url(self.data_dir, self.store_url)

    def client(self, *, write: bool = True, create: bool = True) -> Client:
        """The stigmer.Client for these options (opened once per command).

        It enforces IAM: every command acts as ``--user`` under its roles. A
        writing command creates a missing store, and the Client records its
        first writer as the owner, admin of every org, so a fresh store works
        with no setup. A reading one (``write=False``) creates and claims
        nothing: a missing store is an error. So is it for a write that has
        nothing to do on a missing store (``create=False``: a delete).
        """
        if self._client is None and self.remote is not None:
            from stigmer.remote.client import RemoteClient

            self._client = RemoteClient(
                self.remote.server,
                token=self.remote.token,
                tls_ca=self.remote.tls_ca,
                org=self.org,
                strict_org=self.org_given,
                local_only=LOCAL_ONLY,
            )
        if self._client is None:
            from stigmer.client import Client

            self._client = Client.for_user(
                self.url(),
                user=self.user,
                org=self.org,
                strict_org=self.org_given,
                create=write and create,
                claim_owner=write,
                history_limit=self.history_limit,
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def state(ctx: typer.Context) -> State:
    """The State of the running command (made by the app's callback)."""
    obj = ctx.find_root().obj
    if not isinstance(obj, State):
        obj = State()
        ctx.find_root().obj = obj
    return obj


def fail(message: str, code: int = 1, *, more: tuple[str, ...] = ()) -> NoReturn:
    """Prints ``error: message`` to stderr, then each of ``more`` on a line; exits with ``code``.

    A message quotes what it was given (a name, a kind, a selector, a file): a
    newline or a terminal escape in it is printed escaped, so none forges a line.
    """
    typer.echo("\n".join(escape(line) for line in (f"error: {message}", *more)), err=True)
    raise typer.Exit(code)


def tell(line: str) -> None:
    """Prints ``line`` to stderr, escaped as ``fail`` does (a problem names its file)."""
    typer.echo(escape(line), err=True)


def fail_no_manifests(paths: list[str]) -> NoReturn:
    """apply, diff and delete -f: input without a document is a mistake, never a success.

    kubectl says "no objects passed to apply"; a directory whose YAML sits in
    subdirectories (without -R), an empty or comment-only file and empty stdin
    all end here.
    """
    named = ", ".join("stdin" if p == "-" else p for p in paths)
    hint = " (-R reads subdirectories)" if any(Path(p).is_dir() for p in paths) else ""
    fail(f"no manifests found in {named}{hint}")


class Rooted(Protocol):
    """What the error handling needs of a click context.

    typer vendors click without exporting its Context class (typer.Context is a
    subclass, too narrow for click's overridden methods), so this names it.
    """

    def find_root(self) -> Rooted: ...

    @property
    def obj(self) -> object: ...


def _report(ctx: Rooted, error: BaseException) -> NoReturn:
    obj = ctx.find_root().obj
    verbose = isinstance(obj, State) and obj.verbose
    if isinstance(error, StigmerError):
        if verbose and error.__cause__ is not None:
            traceback.print_exception(error.__cause__, file=sys.stderr)
        if isinstance(error, ManifestError) and error.problems:  # a line per problem
            first, *rest = (str(p) for p in error.problems)
            fail(first, more=tuple(rest))
        fail(user_message(error), 2 if isinstance(error, UsageError) else 1)
    if isinstance(error, OSError):
        where = f": {error.filename}" if error.filename else ""
        fail(f"{error.strerror or error}{where}")
    if verbose:
        traceback.print_exception(error, file=sys.stderr)
    fail(f"internal error: {type(error).__name__}: {error} (run with -v for the traceback)")


def _quiet_broken_pipe() -> NoReturn:
    """Ends the command quietly when its reader has gone (``stigmer get | head -1``).

    stdout is pointed at /dev/null first, so that flushing it at exit cannot
    fail again; 141 is what a shell reports for a process ended by SIGPIPE.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    raise typer.Exit(141)


def _usage_error(error: Exception) -> None:
    """click's usage errors (an unknown option, a bad value) as one ``error:`` line, exit 2.

    typer vendors click without exporting UsageError: it is known by its exit code.
    """
    message = getattr(error, "format_message", None)
    clicks = type(error).__module__.startswith(("click", "typer"))
    if clicks and message and getattr(error, "exit_code", None) == 2:
        fail(message(), 2)


class _Reporting:
    """Turns errors raised while parsing or invoking into one line on stderr.

    click's own exits pass through untouched; nothing prints a traceback.
    """

    def parse_args(self, ctx: Rooted, args: list[str]) -> list[str]:
        try:
            return list(super().parse_args(ctx, args))  # type: ignore[misc]
        except Exception as e:
            _usage_error(e)
            raise

    def invoke(self, ctx: Rooted) -> object:
        try:
            return super().invoke(ctx)  # type: ignore[misc]
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except BrokenPipeError:
            _quiet_broken_pipe()
        except Exception as e:
            _usage_error(e)
            if type(e).__module__.startswith(("click", "typer")):
                raise
            _report(ctx, e)


class Command(_Reporting, TyperCommand):
    """A command whose Stigmer errors become one line on stderr, never a traceback."""


def _set_org(ctx: typer.Context, _param: object, value: str | None) -> str | None:
    if value is not None:
        st = state(ctx)
        st.org, st.org_given = value, True  # typed on the command line: manifests must agree
    return value


class OrgCommand(Command):
    """A command that acts in an org: it takes ``--org`` after its name too.

    kubectl users put ``-n`` after the verb (``get agents --org acme``); this
    option sets the same State.org as the global ``stigmer --org acme get``,
    and wins over it. The client is made in the command's body, after parsing.
    """

    # Any: the arguments go to click's Command unchanged, whatever click's own types.
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.append(
            TyperOption(
                param_decls=["--org"],
                expose_value=False,
                callback=_set_org,
                help="The org to act in (default: the global --org, else local).",
            )
        )


class Group(_Reporting, TyperGroup):
    """A command group whose own errors are reported the same way."""


def setup_logging(verbose: bool) -> None:
    """Warnings always, and with -v everything, on stderr."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
