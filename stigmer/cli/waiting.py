"""stigmer wait: until objects meet a condition or are deleted, following the change feed."""

import re
from typing import TYPE_CHECKING, Annotated

import typer

from stigmer.cli.state import state
from stigmer.errors import UsageError

if TYPE_CHECKING:
    from stigmer.client import Waited

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "": 1.0}


def seconds(text: str) -> float | None:
    """A kubectl duration (``30s``, ``500ms``, ``2m``, ``1h``; a bare number is seconds).

    A negative one waits for ever, as kubectl's ``--timeout=-1s`` does (for a week).
    """
    match = re.fullmatch(r"(-?)(\d+(?:\.\d+)?)(ms|s|m|h|)", text.strip())
    if match is None:
        raise UsageError(f'--timeout "{text}": expected a duration such as 30s, 500ms, 2m or 1h')
    if match[1]:
        return None
    return float(match[2]) * _UNITS[match[3]]


def wait(
    ctx: typer.Context,
    *,
    kind: Annotated[
        str,
        typer.Argument(help="agent|agents|ag or agentinstance|agentinstances|ai, or TYPE/NAME."),
    ],
    names: Annotated[
        list[str] | None, typer.Argument(help="Names (slugs) or ids; ORG/NAME for another org.")
    ] = None,
    for_: Annotated[
        str,
        typer.Option(
            "--for", help="delete, condition=Ready or condition=Ready=False (kubectl's forms)."
        ),
    ] = "condition=Ready",
    timeout: Annotated[
        str,
        typer.Option(
            "--timeout", help="How long to wait: 30s, 2m, 0 (check once), -1s (no limit)."
        ),
    ] = "30s",
    selector: Annotated[
        str | None, typer.Option("-l", "--selector", help="Wait for the objects these labels pick.")
    ] = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Wait for every object of the kind in the org.")
    ] = False,
    all_orgs: Annotated[
        bool, typer.Option("-A", "--all-orgs", help="With --all or -l: in every org you may list.")
    ] = False,
) -> None:
    """Wait until objects meet a condition (Ready by default) or are deleted.

    Exit 0 once every object meets it, 1 on timeout (naming what was not met), 2 on usage.
    """
    from stigmer.cli import targets
    from stigmer.client import Until

    until = Until.parse(for_)
    limit = seconds(timeout)
    wanted = targets.parse(kind, names or [])
    if len(wanted) > 1:
        raise UsageError("wait for one kind at a time")
    named = wanted[0].names
    if bool(named) + all_ + (selector is not None) != 1:
        raise UsageError("name the objects to wait for, or pick them with --all or -l (one of)")
    client = state(ctx).client(write=False)
    word = "deleted" if until.condition is None else "condition met"

    def met(target: "Waited") -> None:
        typer.echo(f"{target.kind.singular}/{target.name} {word}")

    left = client.wait(
        wanted[0].kind,
        named,
        until=until,
        selector=selector,
        all_orgs=all_orgs,
        timeout=limit,
        met=met,
    )
    for target in left:
        what = "deletion" if until.condition is None else f"condition {until.condition}"
        typer.echo(
            f"error: timed out after {timeout} waiting for {what} on "
            f"{target.kind.singular}/{target.name}: {target.unmet}",
            err=True,
        )
    if left:
        raise typer.Exit(1)
