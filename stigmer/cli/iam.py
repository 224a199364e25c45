"""stigmer iam ...: grant, revoke, list and check the roles users hold per org."""

from typing import Annotated

import typer

from stigmer.cli.completing import complete_role
from stigmer.cli.examples import epilog
from stigmer.cli.state import Command, Group, state
from stigmer.cli.tokens import app as token_app

app = typer.Typer(
    cls=Group,
    help="Roles: who may do what in which org (viewer, editor, admin).",
    no_args_is_help=True,
    add_completion=False,
    epilog=epilog("iam"),
)
app.add_typer(token_app, name="token")

User = Annotated[str, typer.Argument(help="The user the role is about.")]
Role = Annotated[str, typer.Argument(help="viewer, editor or admin.", autocompletion=complete_role)]
Org = Annotated[
    str | None,
    typer.Option("--org", help='The org, or "*" for every org (default: the global --org).'),
]


def _scope(org: str) -> str:
    return "every org" if org == "*" else f'org "{org}"'


@app.command("grant", cls=Command, epilog=epilog("iam grant"))
def grant(ctx: typer.Context, user: User, role: Role, org: Org = None) -> None:
    """Give USER ROLE in an org (admins of the org only)."""
    client = state(ctx).client()
    added = client.grant(user, role, org=org)
    where = org or client.org
    typer.echo(f'user "{user}" is {"now" if added else "already"} {role} in {_scope(where)}')


@app.command("revoke", cls=Command, epilog=epilog("iam revoke"))
def revoke(ctx: typer.Context, user: User, role: Role, org: Org = None) -> None:
    """Take ROLE in an org from USER (admins of the org only)."""
    client = state(ctx).client()
    client.revoke(user, role, org=org)
    typer.echo(f'user "{user}" is no longer {role} in {_scope(org or client.org)}')


@app.command("list", cls=Command, epilog=epilog("iam list"))
def list_(
    ctx: typer.Context,
    org: Org = None,
    user: Annotated[
        str | None,
        typer.Option("--user", help="Only this user's roles (who acts is the global --user)."),
    ] = None,
) -> None:
    """List the role bindings of the orgs you may view (or of one org, with --org)."""
    rows = state(ctx).client(write=False).bindings(org=org, user=user)
    if not rows:
        typer.echo("No role bindings found", err=True)
        return
    table = [("ORG", "ROLE", "USER", "VIA")] + [(b.org, b.role, b.user, b.via) for b in rows]
    widths = [max(len(r[i]) for r in table) for i in range(3)]
    for r in table:
        cells = [c.ljust(w) for c, w in zip(r[:3], widths, strict=True)]
        typer.echo("   ".join([*cells, r[3]]))


@app.command("check", cls=Command, epilog=epilog("iam check"))
def check(
    ctx: typer.Context,
    user: User,
    verb: Annotated[str, typer.Argument(help="get, list, apply, delete, grant, store...")],
    kind: Annotated[
        str, typer.Argument(help="agents, agentinstances, environments, skills or mcpservers.")
    ] = "agents",
    org: Org = None,
) -> None:
    """Say whether USER may VERB objects of KIND in an org, and why (exit 1 when denied)."""
    decision = state(ctx).client(write=False).check(user, verb, kind, org=org)
    typer.echo(f"{'allowed' if decision.allowed else 'denied'}: {decision.reason}")
    if not decision.allowed:
        raise typer.Exit(1)
