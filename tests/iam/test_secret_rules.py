"""Masks by path, masks that stand for nothing, and guesses that tell nothing.

Issue 12 items 1 and 10, and issue 13 item 1's rule on masked input.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stigmer.api import naming
from stigmer.api.v1.agent_pb2 import Agent
from stigmer.reconcilers.masking import MASK
from tests.iam.helpers import OWN, OWNER, SECRET, agent_yaml, build_world, cli, iam_client

ORG = ["--org", OWN]


@pytest.fixture
def world(data_dir: Path) -> Path:
    build_world(data_dir)
    return data_dir


def stored(data: Path, slug: str = "bot") -> Agent:
    with iam_client(data, OWNER) as c:
        agent = c.get("agents", slug, org=OWN, show_secrets=True)
    assert isinstance(agent, Agent)
    return agent


def legacy_agent(data: Path) -> None:
    """Two servers named "api", stored before validation refused that."""
    agent = Agent(api_version="agentic.stigmer.ai/v1", kind="Agent")
    md = agent.metadata
    md.name, md.slug, md.org, md.id = "twin", "twin", OWN, naming.new_id("agt")
    agent.spec.instructions = "You answer questions politely."
    for header, value in (("A", "first-SECRET-1"), ("B", "second-SECRET-2")):
        server = agent.spec.mcp_servers.add(name="api")
        server.http.url = "https://api.example/mcp"
        server.http.headers[header] = value
    with iam_client(data, OWNER) as c:
        c.store.transact(lambda txn: txn.put(agent, expected_version=0))


def test_servers_of_one_name_are_each_masked_as_they_are(world: Path) -> None:
    legacy_agent(world)
    result = cli(world, "vic", *ORG, "get", "agent", "twin", "-o", "json")
    assert result.exit_code == 0, result.output
    assert "SECRET" not in result.output
    servers = json.loads(result.stdout)["spec"]["mcpServers"]
    assert [s["http"]["headers"] for s in servers] == [{"A": MASK}, {"B": MASK}]


def test_two_servers_of_one_name_are_refused(world: Path, tmp_path: Path) -> None:
    manifest = tmp_path / "twin.yaml"
    manifest.write_text(
        agent_yaml(tmp_path / "base.yaml", "twin").read_text()
        + "    - name: search\n      stdio:\n        command: run-server\n"
    )
    result = cli(world, OWNER, "apply", "-f", str(manifest))
    assert result.exit_code == 1
    assert result.stderr == (
        f"{manifest}:21:7: spec.mcpServers[1].name: "
        'duplicate MCP server name "search" (first at spec.mcpServers[0])\n'
    )
    assert cli(world, OWNER, *ORG, "get", "agent", "twin").exit_code == 1  # nothing stored


def test_a_mask_on_a_new_object_is_refused_and_never_stored(world: Path, tmp_path: Path) -> None:
    manifest = agent_yaml(tmp_path / "new.yaml", "fresh", secret=f'"{MASK}"')
    result = cli(world, OWNER, "apply", "-f", str(manifest))
    assert result.exit_code == 1
    assert "spec.envSpec.data.API_KEY.value: masked value; give the real secret" in result.stderr
    assert result.stderr.startswith(f"{manifest}:")
    assert cli(world, OWNER, *ORG, "get", "agent", "fresh").exit_code == 1


def test_a_mask_on_a_key_with_no_stored_secret_is_refused(world: Path, tmp_path: Path) -> None:
    text = agent_yaml(tmp_path / "bot.yaml").read_text()
    manifest = tmp_path / "renamed.yaml"
    text = text.replace("- name: search", "- name: other").replace(f"Bearer {SECRET}", SECRET)
    manifest.write_text(text.replace(SECRET, f'"{MASK}"'))
    result = cli(world, OWNER, "apply", "-f", str(manifest))
    assert result.exit_code == 1
    assert "spec.envSpec.data.API_KEY.value" not in result.stderr  # that mask has a secret
    assert (
        "spec.mcpServers[0].http.headers.Authorization: masked value; give the real secret"
        in result.stderr
    )
    assert stored(world).spec.mcp_servers[0].http.headers["Authorization"] == f"Bearer {SECRET}"


@pytest.mark.parametrize("user", ["vic", "eddie"])
def test_diff_gives_a_right_and_a_wrong_guess_the_same_answer(
    world: Path, tmp_path: Path, user: str
) -> None:
    right = agent_yaml(tmp_path / "right.yaml", secret=SECRET)
    wrong = agent_yaml(tmp_path / "wrong.yaml", secret="sk-live-GUESS-0000")
    answers = [cli(world, user, "diff", "-f", str(p)) for p in (right, wrong)]
    assert [a.exit_code for a in answers] == [0, 0]
    assert answers[0].output == answers[1].output


def test_a_dry_run_gives_a_right_and_a_wrong_guess_the_same_answer(
    world: Path, tmp_path: Path
) -> None:
    right = agent_yaml(tmp_path / "right.yaml", secret=SECRET)
    wrong = agent_yaml(tmp_path / "wrong.yaml", secret="sk-live-GUESS-0000")
    for output in ([], ["-o", "yaml"]):
        answers = [
            cli(world, "eddie", "apply", "--dry-run", "-f", str(p), *output) for p in (right, wrong)
        ]
        assert [a.exit_code for a in answers] == [0, 0]
        assert answers[0].output == answers[1].output
    assert stored(world).spec.env_spec.data["API_KEY"].value == SECRET
