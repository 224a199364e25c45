"""The README and CI agree with the code: the two commands, and every command documented."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer

from stigmer.cli.app import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def code_blocks(text: str) -> list[str]:
    return [b.strip() for b in re.findall(r"```(?:sh|bash|console)?\n(.*?)```", text, flags=re.S)]


def commands(group: Any, prefix: str = "stigmer") -> list[tuple[str, Any]]:
    """Every (command path, click command) of the app, groups included."""
    found = []
    for name, cmd in sorted(group.commands.items()):
        if cmd.hidden:
            continue
        path = f"{prefix} {name}"
        found.append((path, cmd))
        if hasattr(cmd, "commands"):
            found += commands(cmd, path)
    return found


def test_the_readme_starts_with_the_two_commands() -> None:
    before_first_heading = README.split("\n## ", 1)[0]
    blocks = code_blocks(before_first_heading)
    assert len(blocks) == 2
    main_job, tests = blocks
    assert "\n" not in main_job and "\n" not in tests
    assert "stigmer apply -f manifests/examples/" in main_job and "stigmer get agents" in main_job
    assert "pytest" in tests


def test_ci_runs_the_readme_test_command_exactly() -> None:
    tests = code_blocks(README.split("\n## ", 1)[0])[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.rstrip().splitlines()[-1] == tests


def test_every_command_has_help_and_is_in_the_command_reference() -> None:
    group = typer.main.get_command(app)
    found = commands(group)
    assert len(found) >= 20
    reference = README.split("## Command reference", 1)[1].split("\n## ", 1)[0]
    for path, cmd in found:
        assert (cmd.help or "").strip(), f"{path} has no help text"
        assert f"`{path}" in reference, f"{path} is missing from the README's command reference"
