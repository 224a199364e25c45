"""stigmer apply -v: each pipeline step of each object, with its time, on stderr."""

from __future__ import annotations

import re

from tests.cli.conftest import EXAMPLES, Run

_STEP = re.compile(r"^\s+(\d+)\. (\w+)\s+(\d+\.\d{3}) ms(  \(failed\))?$")
MISSING_AGENT = (
    "apiVersion: agentic.stigmer.ai/v1\nkind: AgentInstance\n"
    "metadata:\n  name: orphan\nspec:\n  agentId: nobody\n"
)


def _blocks(stderr: str) -> dict[str, list[tuple[str, bool]]]:
    """Each object's header line, with its (step, failed) lines in order."""
    blocks: dict[str, list[tuple[str, bool]]] = {}
    header = ""
    for line in stderr.splitlines():
        step = _STEP.match(line)
        if step:
            assert int(step.group(1)) == len(blocks[header]) + 1
            blocks[header].append((step.group(2), bool(step.group(4))))
        elif re.fullmatch(r"\S+/\S+: \w+ in \d+\.\d{3} ms", line):
            header = line.split(" in ")[0]
            blocks[header] = []
    return blocks


def test_apply_v_prints_every_step_of_every_object(fresh: Run) -> None:
    quiet = fresh("apply", "-f", str(EXAMPLES / "acme-analyst.yaml"))
    assert quiet.exit_code == 0 and quiet.stderr == ""  # nothing without -v
    result = fresh("apply", "-v", "-f", str(EXAMPLES))
    assert result.exit_code == 0
    blocks = _blocks(result.stderr)
    assert set(blocks) == {
        "agent/data-analyst: unchanged",
        "agent/code-reviewer: created",
        "agent/support-agent: created",
        "agentinstance/support-agent-eu: created",
        "environment/support-eu: created",
        "skill/code-review: created",
        "mcpserver/github: created",
    }
    for steps in blocks.values():
        names = [name for name, _ in steps]
        assert names[0] == "ValidateFieldConstraints" and names[-1] == "SendResponse"
        assert {"Authorize", "Persist"} <= set(names)
        assert not any(failed for _, failed in steps)
    assert "CreateDefaultInstance" in [n for n, _ in blocks["agent/code-reviewer: created"]]
    assert "agent/code-reviewer created" in result.stdout  # stdout as without -v
    assert "SendResponse" not in result.stdout


def test_a_failed_object_ends_at_the_step_that_failed(fresh: Run) -> None:
    result = fresh("apply", "-v", "-f", "-", input=MISSING_AGENT)
    assert result.exit_code == 1
    steps = _blocks(result.stderr)["agentinstance/orphan: error"]
    assert steps[-1] == ("ResolveAgentRef", True)
    assert not any(failed for _, failed in steps[:-1])
    assert 'agent "nobody" not found' in result.stderr


def test_apply_v_keeps_stdout_for_scripts(fresh: Run) -> None:
    result = fresh("apply", "-v", "-o", "name", "-f", str(EXAMPLES / "support-agent.yaml"))
    assert result.stdout == "agent/support-agent\n"
    assert "agent/support-agent: created in" in result.stderr
