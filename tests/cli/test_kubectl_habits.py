"""kubectl habits work: flags after the verb, TYPE/NAME, comma kinds, -o name | xargs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import EXAMPLES, Run


def test_org_after_the_subcommand(applied: Run) -> None:
    assert applied("get", "agents", "--org", "acme", "-o", "name").stdout == "agent/data-analyst\n"
    assert applied("--org", "acme", "get", "agents", "-o", "name").stdout == "agent/data-analyst\n"
    assert "Org:" in applied("describe", "agent", "data-analyst", "--org", "acme").stdout
    assert applied("agent", "get", "data-analyst", "--org", "acme").exit_code == 0
    assert "data-analyst" in applied("agent", "list", "--org", "acme").stdout
    # The command's --org wins over the global one, as the nearer flag does in kubectl.
    late = applied("--org", "globex", "get", "agents", "--org", "acme", "-o", "name")
    assert late.stdout == "agent/data-analyst\n"
    assert applied("store", "stats", "--org", "acme").exit_code == 0


def test_apply_diff_delete_and_sync_take_org_after_the_subcommand(run: Run, tmp_path: Path) -> None:
    code_reviewer = str(EXAMPLES / "code-reviewer.yaml")  # declares no org
    assert run("apply", "-f", code_reviewer, "--org", "globex").exit_code == 0
    assert run("get", "agents", "--org", "globex", "-o", "name").stdout == "agent/code-reviewer\n"
    assert run("diff", "-f", code_reviewer, "--org", "globex").exit_code == 0
    assert run("diff", "-f", code_reviewer).exit_code == 1  # not in the default org
    assert run("delete", "-f", code_reviewer, "--org", "globex").exit_code == 0
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "bot.yaml").write_text((EXAMPLES / "code-reviewer.yaml").read_text())
    assert run("sync", str(tree), "--org", "initech").exit_code == 0
    assert run("get", "ag", "--org", "initech", "-o", "name").stdout == "agent/code-reviewer\n"
    assert run("sync", "status", str(tree), "--org", "initech").exit_code == 0
    assert run("agent", "delete", "code-reviewer", "--org", "initech").exit_code == 0


def test_all_orgs_after_the_subcommand(applied: Run) -> None:
    assert "acme" in applied("agent", "list", "-A").stdout
    gone = applied("delete", "agents", "--all", "-A", "--yes")
    assert "agent/data-analyst deleted" in gone.stdout
    assert applied("get", "agents", "-A").stderr == "No resources found\n"


def test_type_slash_name_and_comma_kinds(applied: Run) -> None:
    one = applied("get", "agent/support-agent", "-o", "name")
    assert one.stdout == "agent/support-agent\n"
    both = applied("get", "agent/support-agent", "agentinstance/support-agent-eu", "-o", "name")
    assert both.stdout == "agent/support-agent\nagentinstance/support-agent-eu\n"
    tables = applied("get", "ag,ai").stdout
    assert tables.count("NAME") == 2 and "support-agent-eu" in tables
    assert "Slug:  " in applied("describe", "agent/support-agent").stdout
    assert applied("get", "ag,ai", "x").exit_code == 2  # names need TYPE/NAME across kinds


def test_get_o_name_pipes_into_delete(applied: Run) -> None:
    names = applied("get", "agents", "-l", "team=support", "-o", "name").stdout.split()
    assert names == ["agent/support-agent"]
    result = applied("delete", *names)
    assert (result.exit_code, result.stdout) == (0, "agent/support-agent deleted\n")
    # Across every org the names carry the org, and delete deletes in it.
    everywhere = applied("get", "agents", "-A", "-o", "name").stdout.split()
    assert everywhere == ["agent/acme/data-analyst", "agent/local/code-reviewer"]
    assert applied("delete", *everywhere).exit_code == 0
    assert applied("get", "agents", "-A").stderr == "No resources found\n"


def test_get_by_name_across_all_orgs_is_a_usage_error(applied: Run) -> None:
    result = applied("get", "agent", "support-agent", "-A")
    assert result.exit_code == 2
    assert result.stderr == "error: a resource cannot be retrieved by name across all orgs\n"


def test_an_unknown_kind_gets_a_did_you_mean(run: Run) -> None:
    result = run("get", "agnets")
    assert result.exit_code == 2
    assert result.stderr == 'error: unknown kind "agnets" (did you mean "agents"?)\n'
    assert 'did you mean "agentinstance"?' in run("delete", "agentinstanse/x").stderr


def test_not_found_names_the_org(applied: Run) -> None:
    assert applied("get", "agent", "nope", "--org", "acme").stderr == (
        'error: agent "nope" not found in org "acme"\n'
    )
    assert applied("delete", "agent/nope").stderr == (
        'error: agent "nope" not found in org "local"\n'
    )


def test_delete_all_with_nothing_to_delete_says_so(applied: Run) -> None:
    result = applied("delete", "agents", "--all", "--org", "globex")
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr == "No resources found in org globex\n"
    assert "data-analyst" in applied("get", "agents", "-A").stdout  # other orgs untouched


ORPHAN = (
    "apiVersion: agentic.stigmer.ai/v1\n"
    "kind: AgentInstance\n"
    "metadata:\n"
    "  name: orphan\n"
    "spec:\n"
    "  agentId: nope\n"
)


def test_an_instance_of_a_missing_agent_points_at_spec_agent_id(run: Run, tmp_path: Path) -> None:
    f = tmp_path / "orphan.yaml"
    f.write_text(ORPHAN)
    result = run("apply", "-f", str(f))
    assert result.exit_code == 1
    assert result.stderr == f'{f}:6:3: spec.agentId: agent "nope" not found in org "local"\n'


def test_no_step_names_reach_the_user(run: Run, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "orphan.yaml").write_text(ORPHAN)
    synced = run("sync", str(tree))
    assert synced.stderr == 'orphan.yaml:6:3: spec.agentId: agent "nope" not found in org "local"\n'
    status = run("sync", "status", str(tree)).stdout
    assert 'agent "nope" not found in org "local"' in status and "ResolveAgentRef" not in status


def test_diff_forbidden_names_the_object(applied: Run) -> None:
    result = applied("diff", "-f", str(EXAMPLES / "code-reviewer.yaml"), user="mallory")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: agent/code-reviewer: forbidden: ")


@pytest.mark.parametrize("verb", ["apply", "diff", "delete"])
def test_no_manifests_is_an_error(verb: str, fresh: Run, tmp_path: Path) -> None:
    run = fresh  # a store exists: the error is about the input, not the store
    nested = tmp_path / "nested"
    (nested / "sub").mkdir(parents=True)
    (nested / "sub" / "bot.yaml").write_text((EXAMPLES / "code-reviewer.yaml").read_text())
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    comments = tmp_path / "comments.yaml"
    comments.write_text("# nothing here yet\n---\n# nor here\n")
    for path in (nested, empty, comments):
        result = run(verb, "-f", str(path))
        assert result.exit_code == 1, path
        assert result.stderr.startswith(f"error: no manifests found in {path}"), result.stderr
    from_stdin = run(verb, "-f", "-", input="")
    assert (from_stdin.exit_code, from_stdin.stderr) == (1, "error: no manifests found in stdin\n")
    assert "(-R reads subdirectories)" in run(verb, "-f", str(nested)).stderr
