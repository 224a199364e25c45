"""delete as kubectl users expect: -l, --dry-run, and --all -A only when confirmed."""

from __future__ import annotations

import os
import pty
import subprocess
from pathlib import Path

from tests.cli.conftest import Run
from tests.processes import ROOT, env_for
from tests.rerunning import program


def _names(run: Run, kind: str = "ag") -> list[str]:
    return run("get", kind, "-A", "-o", "name").stdout.split()


def test_delete_by_selector_takes_the_matching_objects_and_what_they_own(applied: Run) -> None:
    result = applied("delete", "agents", "-l", "team=support")
    assert (result.exit_code, result.stdout) == (0, "agent/support-agent deleted\n")
    assert _names(applied) == ["agent/acme/data-analyst", "agent/local/code-reviewer"]
    assert "support-agent-eu" not in applied("get", "ai", "-A", "-o", "name").stdout


def test_delete_by_selector_that_matches_nothing_says_so(applied: Run) -> None:
    result = applied("delete", "agents", "-l", "team=nobody")
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr == "No resources found in org local\n"
    assert len(_names(applied)) == 3


def test_selector_and_all_or_names_are_usage_errors(applied: Run) -> None:
    assert applied("delete", "agents", "--all", "-l", "team=support").exit_code == 2
    assert applied("delete", "agents", "support-agent", "-l", "team=support").exit_code == 2
    assert len(_names(applied)) == 3


def test_dry_run_says_what_would_go_and_keeps_everything(applied: Run) -> None:
    before = applied("get", "ag,ai", "-A", "-o", "yaml").stdout
    by_name = applied("delete", "agent", "support-agent", "--dry-run")
    assert (by_name.exit_code, by_name.stdout) == (0, "agent/support-agent deleted (dry run)\n")
    by_label = applied("delete", "agents", "-l", "team=platform", "--dry-run")
    assert by_label.stdout == "agent/code-reviewer deleted (dry run)\n"
    every = applied("delete", "agents", "--all", "-A", "--dry-run")  # nothing to confirm
    assert sorted(every.stdout.splitlines()) == [
        "agent/code-reviewer deleted (dry run)",
        "agent/data-analyst deleted (dry run)",
        "agent/support-agent deleted (dry run)",
    ]
    assert applied("get", "ag,ai", "-A", "-o", "yaml").stdout == before


def test_dry_run_is_still_authorized_and_reports_what_is_missing(applied: Run) -> None:
    assert applied("iam", "grant", "bob", "viewer").exit_code == 0
    denied = applied("delete", "agent", "support-agent", "--dry-run", user="bob")
    assert denied.exit_code == 1 and "bob" in denied.stderr
    missing = applied("delete", "agent", "nope", "--dry-run")
    assert missing.exit_code == 1 and 'agent "nope" not found' in missing.stderr
    assert len(_names(applied)) == 3


def test_all_orgs_without_a_terminal_needs_yes(applied: Run) -> None:
    refused = applied("delete", "agents", "--all", "-A")
    assert refused.exit_code == 2
    assert refused.stderr == (
        "error: --all -A deletes in every org: confirm with --yes (no terminal to ask)\n"
    )
    assert len(_names(applied)) == 3
    one_org = applied("delete", "agents", "--all")  # one org, as kubectl: no question
    assert one_org.exit_code == 0
    assert applied("delete", "agents", "--all", "-A", "-y").exit_code == 0
    assert _names(applied) == []


def _on_a_terminal(data_dir: Path, answer: str) -> tuple[int, str]:
    """``stigmer delete agents --all -A`` with a terminal on stdin that types ``answer``."""
    primary, secondary = pty.openpty()
    try:
        proc = subprocess.Popen(
            [*program(), "delete", "agents", "--all", "-A"],
            stdin=secondary,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env_for(data_dir),
            cwd=ROOT,
            text=True,
        )
        os.write(primary, answer.encode() + b"\n")
        out, _ = proc.communicate(timeout=60)
    finally:
        os.close(primary)
        os.close(secondary)
    return proc.returncode, out


def test_all_orgs_on_a_terminal_asks_first(applied: Run, data_dir: Path) -> None:
    code, out = _on_a_terminal(data_dir, "n")
    assert code == 1 and "Delete all 3 agents in 2 orgs? [y/N]" in out
    assert len(_names(applied)) == 3
    code, out = _on_a_terminal(data_dir, "y")
    assert code == 0 and "agent/data-analyst deleted" in out
    assert _names(applied) == []
