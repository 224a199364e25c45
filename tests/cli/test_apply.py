"""stigmer apply."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import EXAMPLES, Run

EXPECTED = [  # (object, where it is when not in the default org)
    ("agent/data-analyst", ' in org "acme"'),
    ("skill/code-review", ""),
    ("agent/code-reviewer", ""),
    ("mcpserver/github", ""),
    ("agentinstance/support-agent-eu", ""),
    ("agent/support-agent", ""),
    ("environment/support-eu", ""),
]
BAD = """apiVersion: agentic.stigmer.ai/v1
kind: Agent
metadata:
  name: Good
spec:
  instructions: Long enough instructions.
---
apiVersion: agentic.stigmer.ai/v1
kind: Agent
metadata:
  name: Bad
spec:
  instruction: too short
"""
GOOD = BAD.split("---", maxsplit=1)[0]


def test_apply_prints_one_line_per_object(run: Run) -> None:
    result = run("apply", "-f", str(EXAMPLES))
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [f"{name} created{org}" for name, org in EXPECTED]
    again = run("apply", "-f", str(EXAMPLES))
    assert again.stdout.splitlines() == [f"{name} unchanged{org}" for name, org in EXPECTED]


def test_a_changed_manifest_is_configured(run: Run, tmp_path: Path) -> None:
    f = tmp_path / "a.yaml"
    f.write_text(GOOD)
    assert run("apply", "-f", str(f)).stdout == "agent/good created\n"
    f.write_text(f.read_text().replace("Long enough", "Longer still, enough"))
    assert run("apply", "-f", str(f)).stdout == "agent/good configured\n"


def test_dry_run_commits_nothing(run: Run) -> None:
    result = run("apply", "-f", str(EXAMPLES), "--dry-run")
    assert result.stdout.splitlines()[0] == 'agent/data-analyst created in org "acme" (dry run)'
    assert run("get", "agents", "-A").stderr == "No resources found\n"


def test_errors_name_file_line_and_field_and_the_rest_is_applied(run: Run, tmp_path: Path) -> None:
    f = tmp_path / "mixed.yaml"
    f.write_text(BAD)
    result = run("apply", "-f", str(f))
    assert result.exit_code == 1
    assert result.stdout == "agent/good created\n"
    assert (
        f'{f}:13:3: spec.instruction: unknown field (did you mean "instructions"?)' in result.stderr
    )
    assert f"{f}:12:1: spec.instructions: required field is missing" in result.stderr
    assert "Traceback" not in result.stderr


def test_atomic_applies_nothing_when_a_document_is_bad(run: Run, tmp_path: Path) -> None:
    f = tmp_path / "mixed.yaml"
    f.write_text(BAD)
    result = run("apply", "-f", str(f), "--atomic")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "nothing applied" in result.stderr
    assert run("get", "agents").stderr == "No resources found in org local\n"


def test_stdin_repeated_files_and_recursive_directories(run: Run, tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "deep.yaml").write_text(GOOD.replace("Good", "Deep"))
    (tmp_path / "top.yaml").write_text(GOOD.replace("Good", "Top"))
    flat = run("apply", "-f", str(tmp_path))
    assert flat.stdout == "agent/top created\n"
    deep = run("apply", "-R", "-f", str(tmp_path))
    assert deep.stdout == "agent/deep created\nagent/top unchanged\n"
    piped = run("apply", "-f", "-", "-f", str(EXAMPLES / "acme-analyst.yaml"), input=GOOD)
    assert piped.stdout == 'agent/good created\nagent/data-analyst created in org "acme"\n'


def test_output_name_yaml_and_json(run: Run) -> None:
    names = run("apply", "-f", str(EXAMPLES / "support-agent.yaml"), "-o", "name")
    assert names.stdout == "agent/support-agent\n"
    as_json = json.loads(
        run("apply", "-f", str(EXAMPLES / "support-agent.yaml"), "-o", "json").stdout
    )
    assert as_json["metadata"]["slug"] == "support-agent"
    assert as_json["spec"]["mcpServers"][1]["http"]["headers"]["Authorization"] == "******"
    as_yaml = run("apply", "-f", str(EXAMPLES), "-o", "yaml").stdout
    assert as_yaml.startswith("apiVersion: v1\nkind: List\nitems:\n")
    assert run("apply", "-f", str(EXAMPLES), "-o", "table").exit_code == 2


def test_prune_deletes_what_the_input_stopped_declaring(run: Run, tmp_path: Path) -> None:
    one = tmp_path / "one.yaml"
    two = tmp_path / "two.yaml"
    one.write_text(
        GOOD.replace("Good", "One").replace("metadata:\n", "metadata:\n  labels: {app: demo}\n")
    )
    two.write_text(one.read_text().replace("One", "Two"))
    run("apply", "-f", str(tmp_path), "--prune", "-l", "app=demo")
    two.unlink()
    result = run("apply", "-f", str(tmp_path), "--prune", "-l", "app=demo")
    assert result.stdout == "agent/one unchanged\nagent/two pruned\n"
    assert run("apply", "-f", str(tmp_path), "--prune").exit_code == 2  # a selector is required


def test_a_missing_file_is_an_error_not_a_traceback(run: Run) -> None:
    result = run("apply", "-f", "/nowhere/at/all.yaml")
    assert result.exit_code == 1
    assert result.stderr == "/nowhere/at/all.yaml: no such file or directory\n"
