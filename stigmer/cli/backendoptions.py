"""The global options each store backend declares: its connection settings.

They are data in the store registry (each backend's ``settings``), reached
through stigmer.client; this module makes a click option of each, in a help
panel named after its backend. An option hands its value to the backend
through the environment variable the backend reads, so a command that opens
no store of that backend pays nothing for it.
"""

import os
from collections.abc import Callable
from functools import cache

import typer
from typer.core import TyperOption


@cache
def flags() -> frozenset[str]:
    """The options' names (each takes a value)."""
    from stigmer.client import store_settings

    return frozenset(s.flag for group in store_settings().values() for s in group)


def options() -> list[TyperOption]:
    """One option per setting, for the program's group."""
    from stigmer.client import store_settings

    return [
        TyperOption(
            param_decls=[s.flag],
            envvar=s.env,
            help=s.help,
            show_envvar=True,
            metavar="FILE" if s.path else None,
            expose_value=False,  # it is the backend's: the commands never see it
            callback=_exporting(s.env),
            rich_help_panel=f"{scheme} store",
        )
        for scheme, group in store_settings().items()
        for s in group
    ]


def _exporting(env: str) -> Callable[[typer.Context, object, str | None], None]:
    """The callback that hands a value given to the backend of this process."""

    def export(_ctx: typer.Context, _param: object, value: str | None) -> None:
        if value:
            os.environ[env] = value

    return export
