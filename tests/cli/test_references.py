"""References as a user sees them: ResolvedRefs, Ready, describe, bad reference kinds."""

from __future__ import annotations

from pathlib import Path

from stigmer.client import Client
from tests.cli.conftest import Run

AGENT = """\
apiVersion: agentic.stigmer.ai/v1
kind: Agent
metadata: {name: bot}
spec:
  instructions: You answer questions politely.
  skillRefs: [{slug: writing}]
  mcpServers: [{name: gh, mcpServerRef: {slug: github}}]
  subAgents:
    - {name: helper, instructions: You help the bot out., skillRefs: [{slug: math}]}
---
apiVersion: agentic.stigmer.ai/v1
kind: AgentInstance
metadata: {name: bot-prod}
spec:
  agentId: bot
  environmentRefs: [{slug: prod}, {slug: shared, kind: environment}]
"""


def _condition(obj: object, type_: str) -> tuple[str, str, str]:
    cond = next(c for c in obj.status.conditions if c.type == type_)  # type: ignore[attr-defined]
    return cond.status, cond.reason, cond.message


def test_a_missing_reference_is_stored_and_reported_not_refused(
    fresh: Run, data_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "a.yaml").write_text(AGENT)
    result = fresh("apply", "-f", str(tmp_path / "a.yaml"))
    assert result.exit_code == 0, result.stderr
    assert "agentinstance/bot-prod created" in result.stdout
    with Client(data_dir, actor="alice") as client:
        inst = client.get("agentinstance", "bot-prod")
        agent = client.get("agent", "bot")
    status, reason, message = _condition(inst, "ResolvedRefs")
    assert (status, reason) == ("False", "EnvironmentNotFound")
    assert "local/prod" in message and "local/shared" in message
    assert _condition(inst, "Ready")[:2] == ("False", "EnvironmentNotFound")
    status, reason, message = _condition(agent, "ResolvedRefs")
    assert (status, reason) == ("False", "SkillNotFound")
    assert "local/writing" in message and "local/math" in message  # its own and a sub-agent's
    assert "mcp_server local/github not found" in message
    assert _condition(agent, "Ready")[:2] == ("False", "SkillNotFound")


def test_get_shows_ready_false_and_describe_lists_each_reference(
    fresh: Run, tmp_path: Path
) -> None:
    (tmp_path / "a.yaml").write_text(AGENT)
    assert fresh("apply", "-f", str(tmp_path / "a.yaml")).exit_code == 0
    table = fresh("get", "agentinstance", "bot-prod").stdout
    assert "READY" in table.splitlines()[0] and "False" in table.splitlines()[1]
    text = fresh("describe", "agentinstance", "bot-prod").stdout
    assert "References:" in text
    assert "spec.environmentRefs[0]  environment  local/prod    NotFound" in text
    assert "spec.environmentRefs[1]  environment  local/shared  NotFound" in text
    agent_text = fresh("describe", "agent", "bot").stdout
    rows = [line.split() for line in agent_text.splitlines()]
    assert ["spec.subAgents[0].skillRefs[0]", "skill", "local/math", "NotFound"] in rows
    assert ["spec.mcpServers[0].mcpServerRef", "mcp_server", "local/github", "NotFound"] in rows


def test_an_object_without_references_gets_no_resolved_refs_condition(
    fresh: Run, data_dir: Path, tmp_path: Path
) -> None:
    plain = "apiVersion: agentic.stigmer.ai/v1\nkind: Agent\nmetadata: {name: plain}\n"
    (tmp_path / "p.yaml").write_text(plain + "spec: {instructions: You answer questions.}\n")
    assert fresh("apply", "-f", str(tmp_path / "p.yaml")).exit_code == 0
    with Client(data_dir, actor="alice") as client:
        agent = client.get("agent", "plain")
        inst = client.get("agentinstance", "plain-default")
    assert [c.type for c in agent.status.conditions] == ["Ready"]
    assert [c.type for c in inst.status.conditions] == ["Ready"]


CROSS_ORG = """\
apiVersion: agentic.stigmer.ai/v1
kind: Agent
metadata: {name: bot, org: team-a}
spec: {instructions: You answer questions politely.}
---
apiVersion: agentic.stigmer.ai/v1
kind: AgentInstance
metadata: {name: bot-prod, org: team-a}
spec:
  agentId: bot
  environmentRefs: [{org: team-b, slug: prod}]
"""


def test_a_cross_org_reference_needs_a_role_in_the_target_org(
    fresh: Run, data_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "x.yaml").write_text(CROSS_ORG)
    assert fresh("iam", "grant", "bob", "editor", "--org", "team-a").exit_code == 0
    result = fresh("apply", "-f", str(tmp_path / "x.yaml"), user="bob")
    assert result.exit_code == 0, result.stderr
    with Client(data_dir, actor="alice") as client:
        inst = client.get("agentinstance", "bot-prod", org="team-a")
    status, reason, message = _condition(inst, "ResolvedRefs")
    assert (status, reason) == ("False", "RefNotPermitted")
    assert "environment team-b/prod not permitted" in message
    assert _condition(inst, "Ready")[:2] == ("False", "RefNotPermitted")
    # Once bob may view team-b, the reference is only missing.
    assert fresh("iam", "grant", "bob", "viewer", "--org", "team-b").exit_code == 0
    with Client(data_dir, actor="alice") as client:
        (done,) = client.reconcile("agentinstance", "bot-prod", org="team-a")
        assert done.ok, done.error
        inst = client.get("agentinstance", "bot-prod", org="team-a")
    assert _condition(inst, "ResolvedRefs")[:2] == ("False", "EnvironmentNotFound")


NEEDS_ENV = """\
apiVersion: agentic.stigmer.ai/v1
kind: Agent
metadata: {name: reviewer}
spec:
  instructions: You review pull requests carefully.
  envSpec:
    data:
      GITHUB_TOKEN: {value: ghp_secret_value, isSecret: true}
      REGION: {value: eu-west-1}
      SLACK_WEBHOOK: {description: where to post}
"""


def test_a_required_key_nothing_provides_makes_ready_false(
    fresh: Run, data_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "n.yaml").write_text(NEEDS_ENV)
    assert fresh("apply", "-f", str(tmp_path / "n.yaml")).exit_code == 0
    with Client(data_dir, actor="alice") as client:
        inst = client.get("agentinstance", "reviewer-default")
    status, reason, message = _condition(inst, "Ready")
    assert (status, reason) == ("False", "MissingEnvironmentValue")
    assert "SLACK_WEBHOOK" in message and "REGION" not in message
    assert not [c for c in inst.status.conditions if c.type == "ResolvedRefs"]
    text = fresh("describe", "agentinstance", "reviewer-default").stdout
    env = text[text.index("Environment:") :].splitlines()
    assert "ghp_secret_value" not in text
    assert env[2].split() == ["GITHUB_TOKEN", "******", "agent", "envSpec"]
    assert env[3].split() == ["REGION", "eu-west-1", "agent", "envSpec"]
    assert env[4].split() == ["SLACK_WEBHOOK", "<missing>", "agent", "envSpec"]
    shown = fresh("describe", "agentinstance", "reviewer-default", "--show-secrets").stdout
    assert "ghp_secret_value" in shown
