"""What every command shares: the global options, the client, and error handling."""

from __future__ import annotations

import logging
import sys
import traceback
from dataclasses import dataclass, field
from typing import Any, NoReturn

import typer
from typer.core import TyperCommand, TyperGroup

from stigmer.errors import StigmerError, UsageError


@dataclass
class State:
    """The global options, and the client built from them on first use."""

    data_dir: str | None = None
    store_url: str | None = None
    org: str = "local"
    user: str | None = None
    verbose: bool = False
    _client: Any = field(default=None, repr=False)

    def url(self) -> str:
        from stigmer.store import default_url

        if self.store_url:
            return self.store_url
        return f"lmdb:{self.data_dir}" if self.data_dir else default_url()

    def client(self, *, write: bool = True) -> Any:
        """The stigmer.Client for these options (opened once per command).

        It enforces IAM: every command acts as ``--user`` under its roles. A
        writing command creates a missing store, and the Client records its
        first writer as the owner, admin of every org, so a fresh store works
        with no setup. A reading one (``write=False``) creates and claims
        nothing: a missing store is an error.
        """
        if self._client is None:
            from stigmer.client import Client
            from stigmer.iam import CONTROLLER, Iam

            if self.user == CONTROLLER:
                raise UsageError(
                    f'user "{CONTROLLER}" is the built-in controller of stigmer serve; '
                    "--user and STIGMER_USER cannot name it"
                )
            self._client = Client(
                self.url(), actor=self.user, org=self.org, authorizer=Iam(), create=write
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


def fail(message: str, code: int = 1) -> NoReturn:
    """Prints ``error: message`` to stderr and exits with ``code``."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _report(ctx: Any, error: BaseException) -> NoReturn:
    verbose = isinstance(ctx.find_root().obj, State) and ctx.find_root().obj.verbose
    if isinstance(error, StigmerError):
        if verbose and error.__cause__ is not None:
            traceback.print_exception(error.__cause__, file=sys.stderr)
        message = str(error)
        fail(message, 2 if isinstance(error, UsageError) else 1)
    if isinstance(error, OSError):
        where = f": {error.filename}" if error.filename else ""
        fail(f"{error.strerror or error}{where}")
    if verbose:
        traceback.print_exception(error, file=sys.stderr)
    fail(f"internal error: {type(error).__name__}: {error} (run with -v for the traceback)")


class _Reporting:
    """Turns errors raised while invoking into one line on stderr, never a traceback.

    click's own exits and usage errors pass through untouched.
    """

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)  # type: ignore[misc]
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as e:
            if type(e).__module__.startswith(("click", "typer")):
                raise
            _report(ctx, e)


class Command(_Reporting, TyperCommand):
    """A command whose Stigmer errors become one line on stderr, never a traceback."""


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
