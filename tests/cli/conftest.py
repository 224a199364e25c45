"""Running the CLI in-process, as a user would type it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from stigmer.cli.app import app
from stigmer.client import Client

EXAMPLES = Path(__file__).resolve().parents[2] / "manifests" / "examples"
Run = Callable[..., Result]


@pytest.fixture
def run(data_dir: Path) -> Run:
    """``run("get", "agents")`` runs ``stigmer get agents`` on a fresh data dir as alice."""

    def invoke(
        *args: str, input: str | None = None, user: str = "alice", env: dict[str, str] | None = None
    ) -> Result:
        full_env = {"STIGMER_DATA_DIR": str(data_dir), "STIGMER_USER": user, "STIGMER_ORG": ""}
        full_env.update(env or {})
        return CliRunner().invoke(
            app, list(args), input=input, env=full_env, catch_exceptions=False
        )

    return invoke


@pytest.fixture
def fresh(run: Run, data_dir: Path) -> Run:
    """``run`` on an empty store that alice owns (reading creates no store)."""
    Client(data_dir, actor="alice").close()
    return run


@pytest.fixture
def applied(run: Run) -> Run:
    """``run`` on a store where the examples have been applied."""
    result = run("apply", "-f", str(EXAMPLES))
    assert result.exit_code == 0, result.stderr
    return run
