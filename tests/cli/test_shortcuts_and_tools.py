"""stigmer agent ..., stigmer store ..., schema and explain, and the global options."""

from __future__ import annotations

import json
from pathlib import Path

from stigmer import __version__
from tests.cli.conftest import Run


def test_agent_create_list_get_delete(run: Run) -> None:
    made = run("agent", "create", "Quick Bot", "--instructions", "Answer quickly and well.")
    assert (made.exit_code, made.stdout) == (0, "agent/quick-bot created\n")
    again = run("agent", "create", "Quick Bot", "--instructions", "Answer quickly and well.")
    assert again.exit_code == 1 and 'agent "quick-bot" already exists' in again.stderr
    short = run("agent", "create", "Bad", "--instructions", "short")
    assert (
        short.exit_code == 1 and "spec.instructions: must be at least 10 characters" in short.stderr
    )
    assert run("agent", "list").stdout.splitlines()[1].startswith("quick-bot")
    assert "instructions: Answer quickly and well." in run("agent", "get", "quick-bot").stdout
    assert run("agent", "delete", "quick-bot").stdout == "agent/quick-bot deleted\n"
    assert run("agent", "get", "quick-bot").exit_code == 1


def test_agent_delete_all(run: Run) -> None:
    for n in range(3):
        run("agent", "create", f"Bot {n}", "--instructions", "Do the numbered thing.")
    result = run("agent", "delete-all", "--yes")
    assert sorted(result.stdout.splitlines()) == [f"agent/bot-{n} deleted" for n in range(3)]
    assert run("agent", "list").stderr == "No resources found\n"


def test_store_check_dump_and_stats(applied: Run) -> None:
    check = applied("store", "check")
    assert check.exit_code == 0 and "is consistent" in check.stdout
    dump = applied("store", "dump")
    kinds = [line for line in dump.stdout.splitlines() if line.startswith("kind: ")]
    assert sorted(kinds) == sorted(
        ["kind: Agent"] * 3
        + ["kind: AgentInstance"] * 4
        + ["kind: Environment", "kind: McpServer", "kind: Skill"]
    )
    for secret in ("docs-read-token", "tkt_example_not_a_real_token", "ghp_example_not_a_real"):
        assert secret not in dump.stdout
    assert "******" in dump.stdout
    only = applied("store", "dump", "--kind", "ai")
    assert "\nkind: Agent\n" not in only.stdout and "\nkind: AgentInstance\n" in only.stdout
    stats = applied("store", "stats").stdout
    assert "agent: 3" in stats and "  acme: 1" in stats and "agentinstance: 4" in stats
    assert "revision:" in stats and "size:" in stats


def test_store_check_fails_on_a_broken_store(applied: Run, data_dir: Path) -> None:
    import lmdb

    env = lmdb.open(str(data_dir), max_dbs=10)
    with env.begin(write=True) as txn:
        txn.put(b"agent/local/ghost", b"agt-ghost", db=env.open_db(b"slugs", txn=txn))
    env.close()
    result = applied("store", "check")
    assert (
        result.exit_code == 1
        and "slugs/agent/local/ghost: points at no live object" in result.stdout
    )


def test_schema_and_explain(run: Run) -> None:
    schema = json.loads(run("schema", "agent").stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["kind"]["const"] == "Agent"
    explained = run("explain", "agent.spec.mcpServers")
    assert explained.exit_code == 0 and "MCP servers the agent can use" in explained.stdout
    assert run("explain", "agent.spec.nope").exit_code == 2


def test_version_and_usage_errors(run: Run) -> None:
    assert run("--version").stdout == f"stigmer {__version__}\n"
    assert run("frobnicate").exit_code == 2
    assert run("apply").exit_code == 2  # -f is required


def test_the_data_dir_option_beats_the_environment(run: Run, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere"
    run(
        "--data-dir",
        str(other),
        "agent",
        "create",
        "Elsewhere",
        "--instructions",
        "Live somewhere else.",
    )
    assert run("agent", "list").stderr.startswith("error: no store at ")
    assert "elsewhere" in run("--data-dir", str(other), "agent", "list").stdout


def test_verbose_logs_to_stderr(run: Run, tmp_path: Path) -> None:
    (tmp_path / "loose").mkdir(mode=0o755)
    (tmp_path / "loose").chmod(0o755)
    result = run("--data-dir", str(tmp_path / "loose"), "get", "agents")
    assert "readable by others" in result.stderr


def test_shell_completion_is_offered(run: Run) -> None:
    assert "--show-completion" in run("--help").stdout
