"""apply and sync do not fight: sync's annotations are sync's, whoever applies the file."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.cli.conftest import Run

BOT = """apiVersion: agentic.stigmer.ai/v1
kind: Agent
metadata:
  name: Bot
  annotations: {owner: team-a}
spec:
  instructions: You answer questions politely.
"""


def synced(run: Run, tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "bot.yaml").write_text(BOT)
    result = run("sync", str(repo))
    assert result.stdout == "bot.yaml: agent/bot created\n", result.stderr
    return repo


def shown_annotations(run: Run) -> dict[str, str]:
    shown = yaml.safe_load(run("get", "agent", "bot", "-o", "yaml").stdout)
    return dict(shown["metadata"]["annotations"])


def test_a_manual_apply_of_a_synced_file_keeps_sync_annotations_and_warns(
    run: Run, tmp_path: Path
) -> None:
    repo = synced(run, tmp_path)
    before = shown_annotations(run)
    assert "stigmer.ai/sync-source" in before
    result = run("apply", "-f", str(repo / "bot.yaml"))
    assert (result.exit_code, result.stdout) == (0, "agent/bot unchanged\n")
    assert result.stderr == (
        f"warning: agent/bot is managed by stigmer sync of {repo}; "
        "sync sets it back to that directory's version\n"
    )
    assert shown_annotations(run) == before
    assert run("diff", "-f", str(repo / "bot.yaml")).exit_code == 0  # diff ignores them
    assert run("sync", str(repo)).stdout == "bot.yaml: agent/bot unchanged\n"


def test_sync_prune_removes_an_adopted_object_even_after_a_manual_apply(
    run: Run, tmp_path: Path
) -> None:
    repo = synced(run, tmp_path)
    changed = tmp_path / "changed.yaml"
    changed.write_text(BOT.replace("politely", "briefly and politely"))
    assert run("apply", "-f", str(changed)).stdout == "agent/bot configured\n"
    (repo / "bot.yaml").unlink()
    result = run("sync", str(repo), "--prune")
    assert (result.exit_code, result.stdout) == (0, "agent/bot pruned\n")
    assert run("get", "agents").stderr == "No resources found in org local\n"
