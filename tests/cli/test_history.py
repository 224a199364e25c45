"""History and rollback as a user runs them: ``stigmer history`` and ``stigmer rollback``.

The agent carries a secret (an isSecret env value and an MCP header); each
edit changes its instructions, and the third also its secret.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stigmer.client import Client
from stigmer.reconcilers.masking import MASK
from tests.cli.conftest import Run
from tests.iam.helpers import AGENT_YAML

SECRET = "sk-live-first-1111"
LATER_SECRET = "sk-live-later-9999"


def _write(tmp_path: Path, instructions: str, secret: str = SECRET) -> str:
    path = tmp_path / "bot.yaml"
    text = AGENT_YAML.format(name="bot", org="local", instructions=instructions, secret=secret)
    path.write_text(text)
    return str(path)


def _edits(run: Run, tmp_path: Path) -> None:
    """Creates bot, then edits it three times: generations 1 to 4."""
    for i, text in enumerate(["first", "second", "third", "fourth"]):
        secret = LATER_SECRET if i == 3 else SECRET
        result = run("apply", "-f", _write(tmp_path, f"Say {text}.", secret))
        assert result.exit_code == 0, result.output


def _stored(data_dir: Path) -> object:
    with Client(data_dir, actor="alice", create=False) as c:
        return c.store.get_by_slug("agent", "local", "bot")


def test_rollback_after_three_edits_restores_revision_1_with_secrets(
    run: Run, tmp_path: Path, data_dir: Path
) -> None:
    run("apply", "-f", _write(tmp_path, "Say first.", SECRET))
    first = _stored(data_dir)
    _edits(run, tmp_path)  # applies "first" again (unchanged), then three edits
    result = run("rollback", "agent", "bot", "--to-revision", "1")
    assert result.exit_code == 0, result.output
    assert "agent/bot rolled back" in result.stdout
    now = _stored(data_dir)
    assert now.spec == first.spec  # type: ignore[attr-defined]
    assert now.spec.env_spec.data["API_KEY"].value == SECRET  # type: ignore[attr-defined]
    assert now.metadata.generation == 5  # type: ignore[attr-defined]
    # History was added to, not rewritten: revision 4 is the spec the rollback replaced.
    table = run("history", "agent", "bot").stdout.splitlines()
    assert [line.split()[0] for line in table] == ["REVISION", "1", "2", "3", "4"]
    assert [line.split()[1] for line in table[1:]] == ["1", "2", "3", "4"]


def test_history_lists_revisions_oldest_first_with_who_and_change(run: Run, tmp_path: Path) -> None:
    _edits(run, tmp_path)
    result = run("history", "agent", "bot")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["REVISION", "GENERATION", "WHEN", "WHO", "CHANGE"]
    assert "created" in lines[1]
    assert "alice" in lines[1]
    assert "spec.instructions" in lines[2]
    assert "spec.envSpec" not in lines[2]
    assert len(lines) == 4  # three edits keep three earlier specs; a create keeps none


def test_history_of_an_unchanged_object_says_so(run: Run, tmp_path: Path) -> None:
    run("apply", "-f", _write(tmp_path, "Say first."))
    result = run("history", "agent", "bot")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "No revisions kept for agent/bot" in result.stderr


@pytest.mark.parametrize("output", ["yaml", "json"])
def test_one_revision_is_shown_with_secrets_masked(run: Run, tmp_path: Path, output: str) -> None:
    _edits(run, tmp_path)
    result = run("history", "agent", "bot", "--revision", "1", "-o", output)
    assert result.exit_code == 0, result.output
    assert "Say first." in result.stdout
    assert SECRET not in result.stdout
    assert MASK in result.stdout


def test_an_admin_may_see_a_revision_s_secrets(run: Run, tmp_path: Path) -> None:
    _edits(run, tmp_path)
    result = run("history", "agent", "bot", "--revision", "1", "-o", "yaml", "--show-secrets")
    assert result.exit_code == 0, result.output
    assert SECRET in result.stdout


def test_diff_shows_a_revision_against_live_masked(run: Run, tmp_path: Path) -> None:
    _edits(run, tmp_path)
    result = run("history", "agent", "bot", "--diff", "2")
    assert result.exit_code == 0, result.output
    assert "-  instructions: Say second." in result.stdout
    assert "+  instructions: Say fourth." in result.stdout
    assert SECRET not in result.stdout
    assert LATER_SECRET not in result.stdout


def test_rollback_without_a_revision_restores_the_previous_spec(
    run: Run, tmp_path: Path, data_dir: Path
) -> None:
    _edits(run, tmp_path)
    assert run("rollback", "agent", "bot").exit_code == 0
    now = _stored(data_dir)
    assert now.spec.instructions == "Say third."  # type: ignore[attr-defined]
    assert now.spec.env_spec.data["API_KEY"].value == SECRET  # type: ignore[attr-defined]


def test_history_limit_keeps_the_newest_revisions(run: Run, tmp_path: Path) -> None:
    for i in range(5):
        path = _write(tmp_path, f"Say version {i}.")
        assert run("--history-limit", "2", "apply", "-f", path).exit_code == 0
    lines = run("history", "agent", "bot").stdout.splitlines()
    assert [line.split()[0] for line in lines[1:]] == ["3", "4"]
    assert "(older revisions not kept)" in lines[1]


def test_rollback_to_a_revision_not_kept_fails_naming_what_is_kept(
    run: Run, tmp_path: Path, data_dir: Path
) -> None:
    _edits(run, tmp_path)
    before = _stored(data_dir)
    result = run("rollback", "agent", "bot", "--to-revision", "9")
    assert result.exit_code == 1
    assert result.stderr.strip() == 'error: revision 9 of agent "bot" is not kept (kept: 1, 2, 3)'
    assert _stored(data_dir) == before


def test_rollback_needs_write_access(run: Run, tmp_path: Path, data_dir: Path) -> None:
    _edits(run, tmp_path)
    assert run("iam", "grant", "vic", "viewer").exit_code == 0
    assert run("history", "agent", "bot", user="vic").exit_code == 0
    result = run("rollback", "agent", "bot", user="vic")
    assert result.exit_code == 1
    assert "vic" in result.stderr
    assert _stored(data_dir).spec.instructions == "Say fourth."  # type: ignore[attr-defined]


def test_rollback_is_announced_on_the_change_feed(run: Run, tmp_path: Path, data_dir: Path) -> None:
    _edits(run, tmp_path)
    with Client(data_dir, actor="alice", create=False) as c:
        revision = c.revision()
    assert run("rollback", "agent", "bot").exit_code == 0
    with Client(data_dir, actor="alice", create=False) as c:
        events = c.store.events_since(revision)
    assert [(e.kind, e.slug, e.actor) for e in events] == [("agent", "bot", "alice")]


def test_deleting_an_object_drops_its_history(run: Run, tmp_path: Path, data_dir: Path) -> None:
    _edits(run, tmp_path)
    agent = _stored(data_dir)
    assert run("delete", "agent", "bot").exit_code == 0
    with Client(data_dir, actor="alice", create=False) as c:
        assert not c.store.get_meta(f"history/agent/{agent.metadata.id}")  # type: ignore[attr-defined]


def _without_ages(table: str) -> str:
    return re.sub(r"\b\d+[smhd] ago\b", "AGE", table)


def test_history_travels_with_migrate_copy(run: Run, tmp_path: Path) -> None:
    _edits(run, tmp_path)
    backup = tmp_path / "backup.db"
    assert run("migrate", "copy", "--to", f"sqlite:{backup}").exit_code == 0
    here = run("history", "agent", "bot").stdout
    there = run("--store", f"sqlite:{backup}", "history", "agent", "bot")
    assert there.exit_code == 0, there.output
    # WHEN counts from now: two calls may fall either side of a second
    assert _without_ages(there.stdout) == _without_ages(here)
    back = run("--store", f"sqlite:{backup}", "rollback", "agent", "bot", "--to-revision", "1")
    assert back.exit_code == 0, back.output
