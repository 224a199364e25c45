"""stigmer wait: follows the change feed until objects are Ready or gone; exit 0, 1 or 2."""

from __future__ import annotations

import queue
import subprocess
import threading
from pathlib import Path
from typing import IO

from stigmer.api.v1.agent_pb2 import Agent
from stigmer.client import Until
from tests.cli.conftest import EXAMPLES, Run
from tests.processes import start, stigmer

LATER = """\
apiVersion: agentic.stigmer.ai/v1
kind: Agent
metadata:
  name: later
spec:
  instructions: Comes along after the wait has begun.
"""


def test_met_at_once_exits_0_and_says_so(applied: Run) -> None:
    one = applied("wait", "agent", "support-agent", "--for=condition=Ready")
    assert (one.exit_code, one.stdout) == (0, "agent/support-agent condition met\n")
    listed = applied("wait", "ai", "--all", "-A", "--timeout", "0")
    assert listed.exit_code == 0
    assert sorted(listed.stdout.splitlines()) == [
        "agentinstance/code-reviewer-default condition met",
        "agentinstance/data-analyst-default condition met",
        "agentinstance/support-agent-default condition met",
        "agentinstance/support-agent-eu condition met",
    ]
    gone = applied("wait", "agent/nope", "--for=delete", "--timeout", "0")
    assert (gone.exit_code, gone.stdout) == (0, "agent/nope deleted\n")


def test_timeout_exits_1_naming_what_was_not_met(applied: Run) -> None:
    missing = applied("wait", "agent", "support-agent", "nope", "--timeout", "0")
    assert missing.exit_code == 1
    assert missing.stdout == "agent/support-agent condition met\n"
    assert missing.stderr == (
        "error: timed out after 0 waiting for condition Ready on agent/nope: not found\n"
    )
    other = applied(
        "wait", "ag", "-l", "team=support", "--for=condition=Ready=False", "--timeout", "0.2s"
    )
    assert other.exit_code == 1
    assert "on agent/support-agent: Ready is True (DefaultInstanceReady" in other.stderr
    still = applied("wait", "agent/code-reviewer", "--for=delete", "--timeout", "0")
    assert still.stderr.endswith("deletion on agent/code-reviewer: it still exists\n")


def test_usage_errors_exit_2(applied: Run) -> None:
    for args in (
        ("wait", "agent", "x", "--for=ready"),
        ("wait", "agent", "x", "--for=condition=Ready=maybe"),
        ("wait", "agent", "x", "--timeout", "soon"),
        ("wait", "agent"),
        ("wait", "agent", "x", "--all"),
        ("wait", "agent", "--all", "-l", "team=support"),
        ("wait", "ag,ai", "--all"),
    ):
        result = applied(*args)
        assert (result.exit_code, result.stdout) == (2, ""), args
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, args


def test_a_selector_that_picks_nothing_fails(applied: Run) -> None:
    result = applied("wait", "ag", "-l", "team=nobody")
    assert (result.exit_code, result.stderr) == (1, "error: no matching resources found\n")


def test_the_org_is_checked_before_waiting(applied: Run) -> None:
    result = applied("wait", "agent", "data-analyst", "--org", "acme", user="mallory")
    assert result.exit_code == 1 and "mallory" in result.stderr


def test_a_condition_of_an_older_generation_does_not_count() -> None:
    agent = Agent()
    agent.metadata.generation = 3
    agent.status.conditions.add(type="Ready", status="True", observed_generation=2)
    assert (
        Until.parse("condition=Ready").unmet(agent) == "Ready is for generation 2, not the latest"
    )
    agent.status.conditions[0].observed_generation = 3
    assert Until.parse("condition=Ready=true").unmet(agent) == ""
    assert Until.parse("condition=Ready=False").unmet(agent) == "Ready is True"


def _lines(stream: IO[str] | None) -> queue.Queue[str]:
    """The lines of a process's stream as they come, read by a thread (no sleeping)."""
    found: queue.Queue[str] = queue.Queue()
    assert stream is not None

    def pump() -> None:
        for line in stream:
            found.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return found


def _until(lines: queue.Queue[str], text: str) -> str:
    while True:
        line = lines.get(timeout=60)
        if text in line:
            return line


def _waiting(args: list[str], data_dir: Path) -> tuple[subprocess.Popen[str], queue.Queue[str]]:
    """``stigmer -v wait ARGS`` in its own process, once it says what it is waiting for."""
    proc = start("-v", "wait", *args, "--timeout", "5m", data_dir=data_dir)
    errors = _lines(proc.stderr)
    _until(errors, "waiting for")  # logged after the feed's start revision was taken
    return proc, errors


def test_wait_follows_an_apply_from_another_process(
    fresh: Run, data_dir: Path, tmp_path: Path
) -> None:
    proc, _ = _waiting(["agent", "later"], data_dir)
    try:
        # The order of events: waiting (not found), then the apply commits, then met.
        assert proc.poll() is None
        manifest = tmp_path / "later.yaml"
        manifest.write_text(LATER)
        applied = stigmer("apply", "-f", str(manifest), data_dir=data_dir)
        assert applied.stdout == "agent/later created\n"
        out, _ = proc.communicate(timeout=60)
        assert (proc.returncode, out) == (0, "agent/later condition met\n")
    finally:
        proc.kill()
        proc.wait()


def test_wait_for_delete_follows_a_delete_from_another_process(
    applied: Run, data_dir: Path
) -> None:
    proc, _ = _waiting(["ag", "-l", "team=support", "--for=delete"], data_dir)
    try:
        assert proc.poll() is None
        assert stigmer("apply", "-f", str(EXAMPLES), data_dir=data_dir).returncode == 0
        deleted = stigmer("delete", "agent", "support-agent", data_dir=data_dir)
        assert deleted.stdout == "agent/support-agent deleted\n"
        out, _ = proc.communicate(timeout=60)
        assert (proc.returncode, out) == (0, "agent/support-agent deleted\n")
    finally:
        proc.kill()
        proc.wait()
