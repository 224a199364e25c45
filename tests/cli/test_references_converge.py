"""Status converges across kinds: referrers follow their targets without a re-apply."""

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
  envSpec:
    data:
      REGION: {value: us-east-1}
      API_TOKEN: {description: the token the bot calls the API with}
---
apiVersion: agentic.stigmer.ai/v1
kind: AgentInstance
metadata: {name: bot-prod}
spec:
  agentId: bot
  environmentRefs: [{slug: base}, {slug: prod}]
"""


def env(slug: str, **values: str) -> str:
    data = "".join(
        f"    {k}: {{value: {v}{', isSecret: true' if k.endswith('TOKEN') else ''}}}\n"
        for k, v in values.items()
    )
    return (
        "apiVersion: agentic.stigmer.ai/v1\nkind: Environment\n"
        f"metadata: {{name: {slug}}}\nspec:\n  data:\n{data}"
    )


SKILL = """\
apiVersion: agentic.stigmer.ai/v1
kind: Skill
metadata: {name: writing}
spec: {skillMd: "# Writing\\nWrite short sentences."}
"""


def conditions(data_dir: Path, kind: str, name: str) -> dict[str, tuple[str, str, str]]:
    with Client(data_dir, actor="alice") as client:
        obj = client.get(kind, name)
    return {c.type: (c.status, c.reason, c.message) for c in obj.status.conditions}


def apply(run: Run, path: Path, text: str) -> str:
    path.write_text(text)
    result = run("apply", "-f", str(path))
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_an_instance_follows_its_environments_as_they_come_change_and_go(
    fresh: Run, data_dir: Path, tmp_path: Path
) -> None:
    apply(fresh, tmp_path / "a.yaml", AGENT)
    assert conditions(data_dir, "ai", "bot-prod")["ResolvedRefs"][:2] == (
        "False",
        "EnvironmentNotFound",
    )
    apply(fresh, tmp_path / "base.yaml", env("base", REGION="eu-west-1"))
    got = conditions(data_dir, "ai", "bot-prod")
    assert got["ResolvedRefs"][1] == "EnvironmentNotFound"
    assert "local/prod" in got["ResolvedRefs"][2] and "local/base" not in got["ResolvedRefs"][2]
    # Both exist now, without a re-apply of the instance; API_TOKEN is still missing.
    apply(fresh, tmp_path / "prod.yaml", env("prod", REGION="eu-central-1"))
    got = conditions(data_dir, "ai", "bot-prod")
    assert got["ResolvedRefs"][:2] == ("True", "RefsResolved")
    assert got["Ready"][:2] == ("False", "MissingEnvironmentValue")
    assert "API_TOKEN" in got["Ready"][2]
    # A change of the environment that provides it makes the instance Ready.
    apply(fresh, tmp_path / "prod.yaml", env("prod", REGION="eu-central-1", API_TOKEN="s3cr3t"))
    assert conditions(data_dir, "ai", "bot-prod")["Ready"][:2] == ("True", "AgentFound")
    # Deleting an environment in use succeeds, warns naming its users, and they follow.
    deleted = fresh("delete", "environment", "prod")
    assert deleted.exit_code == 0
    assert "environment/prod deleted" in deleted.stdout
    assert "Warning: environment prod is still referenced by agentinstance/bot-prod" in (
        deleted.stderr
    )
    got = conditions(data_dir, "ai", "bot-prod")
    assert got["ResolvedRefs"][:2] == ("False", "EnvironmentNotFound")
    assert got["Ready"][:2] == ("False", "EnvironmentNotFound")


def test_the_effective_environment_merges_in_order_later_wins_secrets_masked(
    fresh: Run, tmp_path: Path
) -> None:
    apply(fresh, tmp_path / "a.yaml", AGENT)
    apply(fresh, tmp_path / "b.yaml", env("base", REGION="eu-west-1", API_TOKEN="base-token"))
    apply(fresh, tmp_path / "p.yaml", env("prod", REGION="eu-central-1", LOG="debug"))
    text = fresh("describe", "agentinstance", "bot-prod").stdout
    rows = [line.split() for line in text[text.index("Environment:") :].splitlines()[2:5]]
    assert rows == [
        ["API_TOKEN", "******", "environment/base"],
        ["LOG", "debug", "environment/prod"],
        ["REGION", "eu-central-1", "environment/prod"],  # prod comes after base: it wins
    ]
    assert "base-token" not in text
    assert "base-token" in fresh("describe", "ai", "bot-prod", "--show-secrets").stdout
    assert "base-token" not in fresh("get", "environment", "base", "-o", "yaml").stdout


def test_an_agent_follows_its_skills(fresh: Run, data_dir: Path, tmp_path: Path) -> None:
    apply(fresh, tmp_path / "a.yaml", AGENT)
    assert conditions(data_dir, "agent", "bot")["Ready"][:2] == ("False", "SkillNotFound")
    apply(fresh, tmp_path / "s.yaml", SKILL)
    got = conditions(data_dir, "agent", "bot")
    assert got["ResolvedRefs"][:2] == ("True", "RefsResolved")
    assert got["Ready"][:2] == ("True", "DefaultInstanceReady")
    deleted = fresh("delete", "skill", "writing")
    assert "still referenced by agent/bot" in deleted.stderr
    assert conditions(data_dir, "agent", "bot")["ResolvedRefs"][:2] == ("False", "SkillNotFound")


def test_a_changed_envspec_reaches_the_agents_instances(
    fresh: Run, data_dir: Path, tmp_path: Path
) -> None:
    apply(fresh, tmp_path / "s.yaml", SKILL)
    apply(fresh, tmp_path / "b.yaml", env("base", API_TOKEN="t"))
    apply(fresh, tmp_path / "p.yaml", env("prod", REGION="eu"))
    apply(fresh, tmp_path / "a.yaml", AGENT)
    assert conditions(data_dir, "ai", "bot-prod")["Ready"][0] == "True"
    apply(fresh, tmp_path / "a.yaml", AGENT.replace("REGION: {value: us-east-1}", "ZONE: {}"))
    got = conditions(data_dir, "ai", "bot-prod")
    assert got["Ready"][:2] == ("False", "MissingEnvironmentValue")
    assert "ZONE" in got["Ready"][2]


def test_a_skill_reference_with_a_version_needs_that_tag(
    fresh: Run, data_dir: Path, tmp_path: Path
) -> None:
    apply(fresh, tmp_path / "s.yaml", SKILL.replace("spec: {", "spec: {tag: v1, "))
    pinned = AGENT.replace(
        "skillRefs: [{slug: writing}]", "skillRefs: [{slug: writing, version: v2}]"
    )
    apply(fresh, tmp_path / "a.yaml", pinned.split("---")[0])
    got = conditions(data_dir, "agent", "bot")["ResolvedRefs"]
    assert got[:2] == ("False", "SkillNotFound") and "writing@v2 not found" in got[2]
    apply(fresh, tmp_path / "s.yaml", SKILL.replace("spec: {", "spec: {tag: v2, "))
    assert conditions(data_dir, "agent", "bot")["ResolvedRefs"][0] == "True"


def test_the_library_gives_reference_states_and_the_masked_environment(
    fresh: Run, data_dir: Path, tmp_path: Path
) -> None:
    apply(fresh, tmp_path / "a.yaml", AGENT)
    apply(fresh, tmp_path / "b.yaml", env("base", API_TOKEN="base-token"))
    with Client(data_dir, actor="alice") as client:
        inst = client.get("agentinstance", "bot-prod")
        states = [(s.ref.slug, s.state) for s in client.references(inst)]
        assert states == [("base", "Resolved"), ("prod", "NotFound")]
        assert all(s.found is None for s in client.references(inst))  # states, not objects
        masked = {e.name: (e.value, e.source) for e in client.environment(inst)}
        assert masked["API_TOKEN"] == ("******", "environment/base")
        assert masked["REGION"] == ("us-east-1", "agent envSpec")
        shown = {e.name: e.value for e in client.environment(inst, show_secrets=True)}
        assert shown["API_TOKEN"] == "base-token"
