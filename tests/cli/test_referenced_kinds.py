"""Environment, Skill and McpServer through the CLI, as a user runs it (issue 15, items 1 and 2).

The examples hold one object of each kind; their secrets (an Environment's
secret value, an McpServer's HTTP header) must never reach an output path
that a user without the admin role, or without --show-secrets, can read.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import EXAMPLES, Run

ENV_SECRET = "tkt_example_not_a_real_token"
HEADER_SECRET = "Bearer ghp_example_not_a_real_token"
SECRETS = (ENV_SECRET, HEADER_SECRET)
OBJECTS = ("environment/support-eu", "skill/code-review", "mcpserver/github")


def assert_masked(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
    assert "******" in text


def test_get_lists_each_kind_by_its_short_name_with_its_own_columns(applied: Run) -> None:
    env = applied("get", "env").stdout.splitlines()
    assert env[0].split() == ["NAME", "ORG", "VARIABLES", "SECRETS", "READY", "AGE"]
    assert env[1].split()[:5] == ["support-eu", "local", "2", "1", "True"]
    skill = applied("get", "skill").stdout.splitlines()
    assert skill[0].split() == ["NAME", "ORG", "TAG", "READY", "AGE"]
    assert skill[1].split()[:4] == ["code-review", "local", "v1.2.0", "True"]
    mcp = applied("get", "mcp", "-o", "wide").stdout.splitlines()
    assert mcp[0].split() == ["NAME", "ORG", "TYPE", "TOOLS", "READY", "AGE", "ID", "LABELS"]
    row = mcp[1].split()
    assert row[:5] == ["github", "local", "http", "get_pull_request,get_pull_request_diff", "True"]
    assert row[6].startswith("mcp-")
    names = applied("get", "env,skill,mcp", "-o", "name").stdout.split()
    assert names == list(OBJECTS)


def test_ids_carry_upstreams_prefixes(applied: Run) -> None:
    for target, prefix in zip(OBJECTS, ("env-", "skl-", "mcp-"), strict=True):
        data = json.loads(applied("get", target, "-o", "json").stdout)
        assert data["metadata"]["id"].startswith(prefix)


@pytest.mark.parametrize("output", ["yaml", "json", "wide"])
def test_secrets_are_masked_in_get(applied: Run, output: str) -> None:
    text = applied("get", "env,mcp", "-o", output).stdout
    for secret in SECRETS:
        assert secret not in text
    if output != "wide":
        assert text.count("******") == 2


def test_secrets_are_masked_in_describe_dump_and_diff(applied: Run, tmp_path: Path) -> None:
    env = applied("describe", "env", "support-eu").stdout
    assert "TICKETS_TOKEN=****** (secret)" in env and "TICKETS_URL=https://tickets" in env
    assert "Ready  True    Accepted" in env and "created" in env.split("Events:")[1]
    mcp = applied("describe", "mcp/github").stdout
    assert "Authorization=******" in mcp and "Url:" in mcp
    assert_masked(env + mcp)
    assert_masked(applied("store", "dump", "--kind", "env").stdout)
    changed = tmp_path / "env.yaml"
    text = (EXAMPLES / "support-environment.yaml").read_text()
    changed.write_text(text.replace(ENV_SECRET, "tkt_rotated").replace(".eu.", ".de."))
    diff = applied("diff", "-f", str(changed))
    assert diff.exit_code == 1 and "tickets.de.example.com" in diff.stdout
    assert ENV_SECRET not in diff.stdout and "tkt_rotated" not in diff.stdout


def test_an_admin_sees_secrets_only_when_asking(applied: Run) -> None:
    shown = applied("get", "env,mcp", "-o", "yaml", "--show-secrets").stdout
    for secret in SECRETS:
        assert secret in shown


def test_get_yaml_applies_back_keeping_the_stored_secrets(applied: Run, tmp_path: Path) -> None:
    for target in ("env/support-eu", "mcp/github"):
        saved = tmp_path / "saved.yaml"
        saved.write_text(applied("get", target, "-o", "yaml").stdout)
        again = applied("apply", "-f", str(saved))
        assert again.exit_code == 0 and again.stdout.endswith("unchanged\n"), again.stdout
    shown = applied("get", "env,mcp", "-o", "yaml", "--show-secrets").stdout
    for secret in SECRETS:
        assert secret in shown


def test_a_mask_for_a_new_secret_is_refused(fresh: Run, tmp_path: Path) -> None:
    bad = tmp_path / "env.yaml"
    bad.write_text(
        "apiVersion: agentic.stigmer.ai/v1\nkind: Environment\nmetadata: {name: prod}\n"
        "spec:\n  data:\n    KEY: {value: '******', isSecret: true}\n"
    )
    result = fresh("apply", "-f", str(bad))
    assert result.exit_code == 1
    assert "spec.data.KEY.value: masked value; give the real secret" in result.stderr
    assert "Traceback" not in result.stderr
    assert fresh("get", "env").stderr.startswith("No resources found")


def test_an_update_bumps_the_generation_and_keeps_ready(applied: Run, tmp_path: Path) -> None:
    changed = tmp_path / "skill.yaml"
    changed.write_text((EXAMPLES / "code-review-skill.yaml").read_text().replace("v1.2.0", "v1.3"))
    assert applied("apply", "-f", str(changed)).stdout == "skill/code-review configured\n"
    data = json.loads(applied("get", "skill", "code-review", "-o", "json").stdout)
    assert data["spec"]["tag"] == "v1.3" and data["metadata"]["generation"] == 2
    ready = data["status"]["conditions"][0]
    assert (ready["type"], ready["status"], ready["observedGeneration"]) == ("Ready", "True", 2)


def test_delete_each_kind(applied: Run) -> None:
    result = applied("delete", *OBJECTS)
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [f"{o} deleted" for o in OBJECTS]
    for kind in ("env", "skill", "mcp"):
        assert applied("get", kind).stderr.startswith("No resources found")
    assert applied("get", "agents", "-o", "name").stdout.count("agent/") == 2  # untouched


def test_a_viewer_reads_masked_and_cannot_write_or_reveal(applied: Run) -> None:
    assert applied("iam", "grant", "bob", "viewer", "--org", "local").exit_code == 0
    seen = applied("get", "env,mcp", "-o", "yaml", user="bob")
    assert seen.exit_code == 0
    assert_masked(seen.stdout)
    reveal = applied("get", "env", "support-eu", "--show-secrets", user="bob")
    assert reveal.exit_code != 0 and ENV_SECRET not in reveal.stdout + reveal.stderr
    refused = applied("delete", "skill/code-review", user="bob")
    assert refused.exit_code == 1 and "forbidden" in refused.stderr
    assert applied("get", "skill", "code-review", "-o", "name").stdout == "skill/code-review\n"


def test_schema_and_explain_know_the_kinds(run: Run) -> None:
    for name, title in (("env", "Environment"), ("skill", "Skill"), ("mcp", "McpServer")):
        schema = json.loads(run("schema", name).stdout)
        assert schema["title"] == title
    explained = run("explain", "skill.spec.tag").stdout
    assert "FIELD: spec.tag <string>" in explained
    server = run("explain", "mcp.spec").stdout
    assert "exactly one of: stdio, http, docker" in server


def test_sync_prunes_a_removed_environment(run: Run, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    for name in ("support-environment.yaml", "code-review-skill.yaml"):
        (tree / name).write_text((EXAMPLES / name).read_text())
    assert run("sync", str(tree)).exit_code == 0
    assert run("get", "env,skill", "-o", "name").stdout.split() == [
        "environment/support-eu",
        "skill/code-review",
    ]
    (tree / "support-environment.yaml").unlink()
    pruned = run("sync", str(tree), "--prune")
    assert pruned.exit_code == 0 and "environment/support-eu pruned" in pruned.stdout
    assert run("get", "env").stderr.startswith("No resources found")


def test_migrate_copy_carries_the_kinds(applied: Run, tmp_path: Path) -> None:
    target = f"sqlite:{tmp_path / 'copy.db'}"
    assert applied("migrate", "copy", "--to", target).exit_code == 0
    copied = applied("--store", target, "get", "env,skill,mcp", "-o", "name")
    assert copied.stdout.split() == list(OBJECTS)
    assert_masked(applied("--store", target, "get", "mcp", "github", "-o", "yaml").stdout)
