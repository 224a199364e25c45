"""stigmer delete."""

from __future__ import annotations

from tests.cli.conftest import EXAMPLES, Run


def test_delete_by_name_cascades_to_instances(applied: Run) -> None:
    result = applied("delete", "agent", "support-agent")
    assert (result.exit_code, result.stdout) == (0, "agent/support-agent deleted\n")
    assert applied("get", "ai", "-o", "name").stdout == "agentinstance/code-reviewer-default\n"


def test_delete_several_and_a_missing_one(applied: Run) -> None:
    result = applied("delete", "ag", "support-agent", "nope", "code-reviewer")
    assert result.exit_code == 1
    assert result.stdout == "agent/support-agent deleted\nagent/code-reviewer deleted\n"
    assert result.stderr == 'error: agent "nope" not found in org "local"\n'
    quiet = applied("delete", "agent", "nope", "--ignore-not-found")
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "", "")


def test_delete_what_files_declare(applied: Run) -> None:
    result = applied("delete", "-f", str(EXAMPLES / "support-agent.yaml"))
    assert result.stdout == "agent/support-agent deleted\n"
    assert "data-analyst" in applied("get", "agents", "-A").stdout


def test_delete_all_of_a_kind_in_the_org(applied: Run) -> None:
    result = applied("delete", "agents", "--all")
    assert sorted(result.stdout.splitlines()) == [
        "agent/code-reviewer deleted",
        "agent/support-agent deleted",
    ]
    assert applied("get", "agents", "-A", "-o", "name").stdout == "agent/acme/data-analyst\n"


def test_delete_needs_something_to_delete(applied: Run) -> None:
    assert applied("delete").exit_code == 2
    assert applied("delete", "agent").exit_code == 2
