"""Discovery: api-resources, version, events, explain --recursive and shell completion."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from typer.testing import CliRunner

from stigmer import __version__
from stigmer.api.kinds import KINDS
from stigmer.cli.app import app
from tests.cli.conftest import EXAMPLES, Run
from tests.processes import read_line, start, stigmer

TOKEN = "ghp_example_not_a_real_token"


def test_api_resources_lists_every_kind_of_the_registry(run: Run, data_dir: Path) -> None:
    result = run("api-resources")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAME", "SHORTNAMES", "APIVERSION", "KIND", "VERBS"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert set(rows) == {k.plural for k in KINDS}
    for k in KINDS:
        verbs = rows[k.plural][-1].split(",")
        assert rows[k.plural][-2] == k.name
        assert {"get", "list", "watch", "apply", "delete"} <= set(verbs)
        assert "grant" not in verbs  # an admin's verb, not a kind's
    assert run("api-resources", "-o", "name").stdout.split() == [k.plural for k in KINDS]
    assert not data_dir.exists()  # discovery needs no store


def test_version_names_the_client_and_the_store_format(applied: Run) -> None:
    text = applied("version").stdout
    assert f"Client Version: {__version__}" in text
    assert "Store Format: 2" in text
    info = json.loads(applied("version", "-o", "json").stdout)
    assert info["clientVersion"] == __version__
    assert info["store"]["exists"] is True and info["store"]["formatVersion"] == 2


def test_version_never_creates_a_store(run: Run, data_dir: Path) -> None:
    result = run("version")
    assert result.exit_code == 0 and "Store Format: (no store yet)" in result.stdout
    assert not data_dir.exists()


def _rows(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines()]


def test_events_come_from_the_change_feed(applied: Run) -> None:
    edited = (EXAMPLES / "support-agent.yaml").read_text().replace("gold", "silver")
    assert applied("apply", "-f", "-", input=edited).exit_code == 0
    rows = _rows(applied("events").stdout)
    assert rows[0] == ["TYPE", "REASON", "OBJECT", "AGE", "WHO"]
    created = [r[2] for r in rows[1:] if r[:2] == ["Normal", "Created"]]
    assert {"agent/code-reviewer", "skill/code-review", "environment/support-eu"} <= set(created)
    assert rows[-1][:3] == ["Normal", "Updated", "agent/support-agent"]
    assert all(r[-1] == "alice" for r in rows[1:])
    assert all("acme" not in r[2] for r in rows[1:])  # the org's events only
    one = _rows(applied("events", "agent", "support-agent").stdout)
    assert [r[1:3] for r in one[1:]] == [
        ["Created", "agent/support-agent"],
        ["Updated", "agent/support-agent"],
    ]
    kind = _rows(applied("events", "ai").stdout)
    assert {r[2].split("/")[0] for r in kind[1:]} == {"agentinstance"}
    every = _rows(applied("events", "-A", "--limit", "2").stdout)
    assert len(every) == 3 and every[-1][2] == "agent/local/support-agent"
    assert "agent/acme/data-analyst" in applied("events", "-A").stdout


def test_events_are_only_for_those_who_may_watch(applied: Run) -> None:
    denied = applied("events", user="bob")
    assert denied.exit_code == 1 and "bob" in denied.stderr and denied.stdout == ""
    assert applied("events", "-A", user="bob").stdout == ""  # no org bob may watch
    assert applied("iam", "grant", "bob", "viewer", "--org", "acme").exit_code == 0
    shown = applied("events", "-A", user="bob").stdout
    assert "agent/acme/data-analyst" in shown and "local/" not in shown
    assert TOKEN not in applied("events", "agent", "code-reviewer").stdout


def test_events_watch_prints_new_events_of_other_processes(data_dir: Path) -> None:
    applied = stigmer("apply", "-f", str(EXAMPLES / "support-agent.yaml"), data_dir=data_dir)
    assert applied.returncode == 0
    watcher = start("events", "agent", "support-agent", "-w", data_dir=data_dir)
    try:
        assert read_line(watcher).split()[:2] == ["TYPE", "REASON"]
        assert read_line(watcher).split()[1:3] == ["Created", "agent/support-agent"]
        stigmer("apply", "-f", str(EXAMPLES / "code-reviewer.yaml"), data_dir=data_dir)
        stigmer("delete", "agent", "support-agent", data_dir=data_dir)
        line = read_line(watcher)  # the other agent's events are not this object's
        assert line.split()[1:3] == ["Deleted", "agent/support-agent"]
    finally:
        watcher.send_signal(signal.SIGINT)
        watcher.wait(timeout=5)
        watcher.communicate()
    assert watcher.returncode == 0


def test_explain_recursive_lists_the_fields_of_fields(run: Run) -> None:
    flat = run("explain", "agent.spec").stdout
    tree = run("explain", "agent.spec", "--recursive").stdout
    assert "    stdio  <object StdioServer>" in tree
    assert "      command  <string> -required-" in tree
    assert "command  <string>" not in flat
    sub_agents = tree.split("  subAgents  ")[1]
    assert "instructions" in sub_agents  # a sub-agent's own fields, listed once
    assert run("explain", "agent", "--recursive").exit_code == 0


def _complete(data_dir: Path, line: str, *, org: str = "") -> list[str]:
    """What the shell offers for the last word of ``line`` (bash, as typer answers it)."""
    words = line.split()
    cword = len(words) if line.endswith(" ") else len(words) - 1
    env = {
        "_STIGMER_COMPLETE": "complete_bash",
        "COMP_WORDS": line,
        "COMP_CWORD": str(cword),
        "STIGMER_DATA_DIR": str(data_dir),
        "STIGMER_USER": "alice",
        "STIGMER_ORG": org,
    }
    result = CliRunner().invoke(app, [], env=env, prog_name="stigmer")
    assert result.exit_code == 0, result.output
    return result.stdout.split()


def test_completion_offers_kinds_names_outputs_roles_and_paths(
    applied: Run, data_dir: Path
) -> None:
    assert set(_complete(data_dir, "stigmer get ")) >= {"ag", "agents", "ai", "all"}
    assert _complete(data_dir, "stigmer get ag ") == ["code-reviewer", "support-agent"]
    assert _complete(data_dir, "stigmer describe agent sup") == ["support-agent"]
    assert _complete(data_dir, "stigmer get ag --org acme ") == ["data-analyst"]
    assert _complete(data_dir, "stigmer get agent/co") == ["agent/code-reviewer"]
    assert "jsonpath=" in _complete(data_dir, "stigmer get ag -o ")
    assert _complete(data_dir, "stigmer iam grant bob ed") == ["editor"]
    assert _complete(data_dir, "stigmer explain agent.spec.mcp") == ["agent.spec.mcpServers"]


def test_completion_reads_no_store_into_being(run: Run, data_dir: Path) -> None:
    assert _complete(data_dir, "stigmer get agents ") == []
    assert not data_dir.exists()
