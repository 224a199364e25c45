"""stigmer schema and stigmer explain: the manifest contract, for people and editors."""

import json
from typing import Annotated

import typer

from stigmer.cli.completing import complete_explain, complete_kind


def schema(
    kind: Annotated[
        str,
        typer.Argument(
            help="agent, agentinstance, environment, skill or mcpserver (any CLI name).",
            autocompletion=complete_kind,
        ),
    ],
) -> None:
    """Print the JSON Schema of a kind's manifests."""
    from stigmer.client import resolve_kind
    from stigmer.manifests import validation

    typer.echo(json.dumps(validation.schema(resolve_kind(kind)), indent=2, ensure_ascii=False))


def explain(
    target: Annotated[
        str,
        typer.Argument(
            help="KIND or KIND.field.path, e.g. agent.spec.mcpServers.",
            autocompletion=complete_explain,
        ),
    ],
    recursive: Annotated[
        bool, typer.Option("--recursive", help="List the fields of the fields too, as a tree.")
    ] = False,
) -> None:
    """Describe a kind or one of its fields: type, constraints and documentation."""
    from stigmer.manifests.explaining import explain as explain_text

    typer.echo(explain_text(target, recursive=recursive), nl=False)
