"""Size bounds: aliases cannot expand a small file into a huge object, nor can one object be huge.

The hostile files are generated here rather than committed: they are the
size that made the old parser store a 200 MB object.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import Run
from tests.manifests._common import agent_yaml


def alias_file(scalar_chars: int, uses: int) -> str:
    """An agent with one long annotation anchored once and aliased ``uses`` times."""
    return (
        agent_yaml("Bomb")
        + f"  big: &big {'x' * scalar_chars}\n"
        + "  skills: ["
        + ", ".join(["*big"] * uses)
        + "]\n"
    )


@pytest.mark.timeout(20)
@pytest.mark.parametrize(("scalar_chars", "uses"), [(100_000, 2000), (500_000, 2000)])
def test_aliases_of_a_long_scalar_are_refused_by_their_expanded_size(
    run: Run, tmp_path: Path, scalar_chars: int, uses: int
) -> None:
    f = tmp_path / "aliases.yaml"
    f.write_text(alias_file(scalar_chars, uses))
    result = run("apply", "-f", str(f))
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"{f}:")
    assert "(its own size plus 1 MiB); refusing a possible YAML bomb" in line
    assert "Traceback" not in result.stderr
    assert run("get", "agents").stderr == "No resources found in org local\n"


def test_a_few_aliases_of_a_long_scalar_are_still_expanded(run: Run, tmp_path: Path) -> None:
    f = tmp_path / "aliases.yaml"
    text = agent_yaml("Shared", annotations="{a: &note " + "n" * 1000 + "}")
    f.write_text(text + "  description: *note\n")
    result = run("apply", "-f", str(f))
    assert result.exit_code == 0, result.stderr
    shown = run("get", "agent", "shared", "-o", "yaml").stdout
    assert shown.count("n" * 1000) == 2


def test_one_object_over_1_mib_is_refused_and_the_others_apply(run: Run, tmp_path: Path) -> None:
    f = tmp_path / "huge.yaml"
    huge = agent_yaml("Huge").replace("politely.", "politely. " + "y" * 1_100_000)
    f.write_text(huge + "---\n" + agent_yaml("Fine"))
    result = run("apply", "-f", str(f))
    assert result.exit_code == 1
    assert result.stdout == "agent/fine created\n"
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"{f}:1:1: agent/huge: ")
    assert "more than the 1048576 bytes (1 MiB) one stored object may have" in line
    assert "huge" not in run("get", "agents").stdout
