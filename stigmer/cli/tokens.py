"""stigmer iam token ...: the bearer tokens API callers present (admins of every org)."""

import time
from typing import Annotated

import typer

from stigmer.cli.examples import epilog
from stigmer.cli.state import Command, Group, state

app = typer.Typer(
    cls=Group,
    help="Bearer tokens for the API of stigmer serve: create, list, revoke.",
    no_args_is_help=True,
    add_completion=False,
    epilog=epilog("iam token"),
)


def _when(stamp: float | None, never: str) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp)) if stamp else never


@app.command("create", cls=Command, epilog=epilog("iam token create"))
def create(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="The user the token acts as.")],
    ttl: Annotated[
        str | None, typer.Option("--ttl", help="Expire after 30m, 12h, 90d...; default never.")
    ] = None,
) -> None:
    """Print a new token acting as USER: alone on stdout, once (only a hash is kept)."""
    typer.echo(state(ctx).client().create_token(user, ttl=ttl))


@app.command("list", cls=Command, epilog=epilog("iam token list"))
def list_(
    ctx: typer.Context,
    user: Annotated[str | None, typer.Option("--user", help="Only this user's tokens.")] = None,
) -> None:
    """List the tokens not revoked: their ids, never the tokens."""
    found = state(ctx).client(write=False).tokens(user=user)
    if not found:
        typer.echo("No tokens found", err=True)
        return
    rows = [["ID", "USER", "CREATED", "EXPIRES", "LAST-USED"]]
    rows += [
        [t.id, t.user, _when(t.created, ""), _when(t.expires, "never"), _when(t.last_used, "never")]
        for t in found
    ]
    from stigmer.cli.printers import table

    typer.echo(table(rows), nl=False)


@app.command("revoke", cls=Command, epilog=epilog("iam token revoke"))
def revoke(
    ctx: typer.Context,
    ids: Annotated[list[str], typer.Argument(metavar="ID...", help="Ids from iam token list.")],
) -> None:
    """Revoke tokens by id: every later call with them is UNAUTHENTICATED."""
    state(ctx).client().revoke_tokens(ids)
    for token_id in ids:
        typer.echo(f"token {token_id} revoked")
