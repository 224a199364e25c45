"""stigmer agent ...: imperative shortcuts for upstream users."""

import sys
from typing import Annotated

import typer

from stigmer.cli import printers
from stigmer.cli.examples import epilog
from stigmer.cli.state import Group, OrgCommand, state

app = typer.Typer(
    cls=Group,
    help="Imperative shortcuts for agents.",
    no_args_is_help=True,
    add_completion=False,
    epilog=epilog("agent"),
)


@app.command("create", cls=OrgCommand, epilog=epilog("agent create"))
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The agent's name; its slug derives from it.")],
    instructions: Annotated[
        str, typer.Option("--instructions", help="System prompt, at least 10 characters.")
    ],
    description: Annotated[str, typer.Option("--description", help="What the agent is for.")] = "",
) -> None:
    """Create an agent (an error if it exists)."""
    from stigmer.api.kinds import AGENT

    client = state(ctx).client()
    agent = AGENT.new()
    agent.metadata.name = name
    agent.spec.instructions = instructions  # type: ignore[union-attr]
    agent.spec.description = description  # type: ignore[union-attr]
    result = client.create(agent)
    typer.echo(f"agent/{result.name} created")


@app.command("list", cls=OrgCommand, epilog=epilog("agent list"))
def list_(
    ctx: typer.Context,
    all_orgs: Annotated[
        bool, typer.Option("-A", "--all-orgs", help="List across every org you may view.")
    ] = False,
) -> None:
    """List the agents of the org."""
    from stigmer.api.kinds import AGENT

    objs = state(ctx).client(write=False).list(AGENT, all_orgs=all_orgs)
    objs.sort(key=lambda o: (o.metadata.org, o.metadata.slug))
    if not objs:
        typer.echo("No resources found", err=True)
        return
    typer.echo(printers.render(AGENT, objs, "table"), nl=False)


@app.command("get", cls=OrgCommand, epilog=epilog("agent get"))
def get(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Name (slug) or id.")],
    output: Annotated[str, typer.Option("-o", "--output", help="yaml or json.")] = "yaml",
) -> None:
    """Show one agent (YAML by default)."""
    from stigmer.api.kinds import AGENT

    if output not in printers.FORMATS:
        raise typer.BadParameter(f"must be one of {', '.join(printers.FORMATS)}", param_hint="-o")
    obj = state(ctx).client(write=False).get(AGENT, name)
    typer.echo(printers.render(AGENT, [obj], output, single=True), nl=False)


@app.command("delete", cls=OrgCommand, epilog=epilog("agent delete"))
def delete(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="Name (slug) or id.")]
) -> None:
    """Delete an agent and its instances."""
    from stigmer.api.kinds import AGENT

    state(ctx).client().delete(AGENT, name)
    typer.echo(f"agent/{name} deleted")


@app.command("delete-all", cls=OrgCommand, epilog=epilog("agent delete-all"))
def delete_all(
    ctx: typer.Context,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete every agent of the org (asks first on a terminal)."""
    from stigmer.api.kinds import AGENT

    client = state(ctx).client()
    if not yes and sys.stdin.isatty():
        count = len(client.list(AGENT))
        typer.confirm(f"Delete all {count} agents in org {client.org!r}?", abort=True)
    for result in client.delete_all(AGENT):
        typer.echo(f"agent/{result.name} deleted")
