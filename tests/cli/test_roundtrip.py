"""Round trips: what ``get -o yaml|json`` prints, apply, diff and ``delete -f`` take back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import Run

AGENTS = ["agent/code-reviewer", "agent/support-agent"]


def test_get_yaml_piped_to_apply_and_diff_changes_nothing(applied: Run) -> None:
    shown = applied("get", "agent", "support-agent", "-o", "yaml").stdout
    assert "resourceVersion:" in shown and "status:" in shown
    result = applied("apply", "-f", "-", input=shown)
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == "agent/support-agent unchanged\n"
    assert applied("diff", "-f", "-", input=shown).exit_code == 0


@pytest.mark.parametrize("output", ["yaml", "json"])
def test_a_list_from_get_is_backup_and_restore(applied: Run, output: str) -> None:
    # A backup that restores into an empty store carries the real secrets: an admin's.
    backup = applied("get", "agents", "-o", output, "--show-secrets").stdout
    assert applied("apply", "-f", "-", input=backup).stdout.splitlines() == [
        f"{name} unchanged" for name in AGENTS
    ]
    assert applied("diff", "-f", "-", input=backup).exit_code == 0
    masked = applied("get", "agents", "-o", output).stdout
    deleted = applied("delete", "-f", "-", input=backup)
    assert (deleted.exit_code, deleted.stdout.splitlines()) == (0, [f"{n} deleted" for n in AGENTS])
    refused = applied("apply", "-f", "-", input=masked)  # the mask stands for nothing now
    assert refused.exit_code == 1
    assert "masked value; give the real secret" in refused.stderr
    restored = applied("apply", "-f", "-", input=backup)
    assert restored.exit_code == 0, restored.stderr
    assert restored.stdout.splitlines() == [f"{name} created" for name in AGENTS]
    assert "support-agent-default" in applied("get", "ai").stdout


def test_a_stale_resource_version_is_a_conflict(applied: Run, tmp_path: Path) -> None:
    saved = tmp_path / "agent.yaml"
    saved.write_text(applied("get", "agent", "support-agent", "-o", "yaml").stdout)
    line = next(
        i for i, text in enumerate(saved.read_text().splitlines(), 1) if "resourceVersion" in text
    )
    newer = saved.read_text().replace("tier: gold", "tier: platinum")
    assert applied("apply", "-f", "-", input=newer).stdout == "agent/support-agent configured\n"
    stale = saved.read_text().replace("tier: gold", "tier: silver")
    saved.write_text(stale)
    result = applied("apply", "-f", str(saved))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{saved}:{line}:3: metadata.resourceVersion: conflict: ")
    assert "has changed since the manifest was read" in result.stderr
    assert "tier: platinum" in applied("get", "agent", "support-agent", "-o", "yaml").stdout
    assert applied("diff", "-f", str(saved)).exit_code == 2


def test_the_id_of_a_deleted_object_is_a_conflict_once_it_is_recreated(applied: Run) -> None:
    old = applied("get", "agent", "code-reviewer", "-o", "yaml", "--show-secrets").stdout
    applied("delete", "agent", "code-reviewer")
    without_version = "\n".join(x for x in old.splitlines() if "resourceVersion" not in x)
    assert applied("apply", "-f", "-", input=without_version).stdout == (
        "agent/code-reviewer created\n"
    )
    result = applied("apply", "-f", "-", input=without_version)
    assert result.exit_code == 1
    assert "<stdin>:6:3: metadata.id: conflict: " in result.stderr
    assert "deleted and created again" in result.stderr


BAD_LIST = """apiVersion: v1
kind: List
items:
- apiVersion: agentic.stigmer.ai/v1
  kind: Agent
  metadata:
    name: Good
    generation: 4
  spec:
    instructions: You answer questions politely.
  status: {observedGeneration: 4}
- apiVersion: agentic.stigmer.ai/v1
  kind: AgentInstance
  metadata:
    name: Orphan
  spec:
    agentId: no-such-agent
- apiVersion: agentic.stigmer.ai/v1
  kind: Agent
  metadata:
    name: Bad
  spec:
    instructions: short
"""


def test_list_items_apply_as_documents_with_their_own_positions(run: Run) -> None:
    result = run("apply", "-f", "-", input=BAD_LIST)
    assert result.exit_code == 1
    assert result.stdout == "agent/good created\n"
    errors = result.stderr.splitlines()
    assert errors[0] == "<stdin>:23:5: items[2].spec.instructions: must be at least 10 characters"
    # the instance item, at its agentId field
    assert errors[1] == '<stdin>:17:5: spec.agentId: agent "no-such-agent" not found in org "local"'


def test_a_large_list_keeps_each_items_position(run: Run, tmp_path: Path) -> None:
    """Large enough to be parsed by a worker process, which sends items back by position."""
    metadata: list[dict[str, object]] = [{"name": f"bot{i}", "generation": 2} for i in range(600)]
    items = [
        {
            "apiVersion": "agentic.stigmer.ai/v1",
            "kind": "Agent",
            "metadata": metadata[i],
            "spec": {"instructions": "You answer questions politely. " * 20},
            "status": {"observedGeneration": 2},
        }
        for i in range(600)
    ]
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}, indent=1))
    assert run("apply", "-f", str(big)).exit_code == 0
    metadata[567]["id"] = "agt-01arz3ndektsv4rrffq69g5fav"
    big.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}, indent=1))
    line = next(i for i, x in enumerate(big.read_text().splitlines(), 1) if "agt-01arz3" in x)
    result = run("apply", "-f", str(big))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{big}:{line}:5: metadata.id: conflict: ")
