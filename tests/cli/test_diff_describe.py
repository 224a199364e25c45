"""stigmer diff and stigmer describe."""

from __future__ import annotations

from pathlib import Path

from stigmer.store.lmdbstore import LmdbStore
from tests.cli.conftest import EXAMPLES, Run
from tests.factories import agent


def test_diff_exit_codes_and_output(applied: Run, tmp_path: Path) -> None:
    same = applied("diff", "-f", str(EXAMPLES))
    assert (same.exit_code, same.stdout) == (0, "")
    changed = tmp_path / "support.yaml"
    changed.write_text(
        (EXAMPLES / "support-agent.yaml").read_text().replace("tier: gold", "tier: silver")
    )
    diff = applied("diff", "-f", str(changed))
    assert diff.exit_code == 1
    assert (
        "--- live/agent/support-agent" in diff.stdout
        and "+++ desired/agent/support-agent" in diff.stdout
    )
    assert "-    tier: gold\n" in diff.stdout and "+    tier: silver\n" in diff.stdout
    for noise in ("status", "generation", "resourceVersion", "docs-read-token"):
        assert noise not in diff.stdout
    broken = tmp_path / "broken.yaml"
    broken.write_text("kind: Agent\n")
    assert applied("diff", "-f", str(broken)).exit_code == 2


def test_diff_of_a_new_object_shows_all_of_it(fresh: Run) -> None:
    run = fresh
    result = run("diff", "-f", str(EXAMPLES / "acme-analyst.yaml"))
    assert result.exit_code == 1
    assert "+  name: Data Analyst" in result.stdout


def test_describe_an_agent(applied: Run) -> None:
    text = applied("describe", "agent", "code-reviewer").stdout
    for expected in (
        "Name:",
        "Code Reviewer",
        "Org:",
        "Labels:",
        "team=platform",
        "MCP Servers:",
        "github (docker)",
        "Sub-agents:",
        "security, style",
        "GITHUB_TOKEN=****** (secret)",
        "REVIEW_LANGUAGE=en",
        "Conditions:",
        "DefaultInstanceReady",
        "Instances:",
        "code-reviewer-default (default)",
        "Events:",
        "created",
    ):
        assert expected in text, expected
    assert "ghp_example_not_a_real_token" not in text


def test_describe_an_instance_names_its_agent(applied: Run) -> None:
    text = applied("describe", "ai", "support-agent-eu").stdout
    assert "Agent:\n  agent/support-agent (agt-" in text
    assert (
        applied("describe", "ai", "nope").stderr
        == 'error: agentinstance "nope" not found in org "local"\n'
    )


def test_describe_finds_an_objects_events_however_many_writes_came_after(
    applied: Run, data_dir: Path
) -> None:
    """Through the feed's object index, not a scan of the last few thousand revisions."""
    with LmdbStore(data_dir) as store:
        store.transact(lambda w: [w.put(agent(f"agt-{i}", slug=f"a{i}")) for i in range(6000)])
    text = applied("describe", "agent", "code-reviewer").stdout
    events = text.split("Events:\n", 1)[1].splitlines()
    assert events[0].split() == ["Revision", "Type", "Actor", "Time"]
    assert events[1].split()[1:3] == ["created", "alice"]
