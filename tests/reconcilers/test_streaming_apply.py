"""Applying a large input while a worker still parses it: same results as a whole read.

Also the real thing: ``stigmer apply`` on such a file as a process, and that
process killed with SIGKILL in the middle, leaving no worker and a sound store.
"""

from __future__ import annotations

import contextlib
import os
import pty
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from stigmer.client import Client
from stigmer.manifests import reading
from stigmer.store import open_store
from stigmer.store.lmdbstore import LmdbStore
from tests.manifests._common import agent_yaml
from tests.processes import env_for, process_table, stigmer, wait_until
from tests.reconcilers.helpers import assert_converged

ROOT = Path(__file__).resolve().parents[2]
COUNT = 2000


def instance_yaml(name: str, agent: str) -> str:
    return (
        "apiVersion: agentic.stigmer.ai/v1\nkind: AgentInstance\n"
        f"metadata: {{name: {name}}}\nspec: {{agentId: {agent}}}\n"
    )


def large_input(tmp_path: Path, count: int = COUNT) -> tuple[Path, list[str]]:
    """``count`` agents; an instance of the last agent comes first, and one names no agent."""
    docs = [instance_yaml("Early", f"agent-{count - 1}")]
    docs += [agent_yaml(f"Agent {i}") for i in range(count)]
    docs.append(instance_yaml("Orphan", "no-such-agent"))
    path = tmp_path / "large.yaml"
    path.write_text("---\n".join(docs))
    assert path.stat().st_size > reading.PARALLEL_MIN_CHARS
    return path, docs


def test_a_streamed_apply_runs_agents_first_and_reports_in_input_order(
    tmp_path: Path, client: Client
) -> None:
    path, _ = large_input(tmp_path)
    report = client.apply_files([path])
    names = [r.name for r in report.results]
    assert names == ["early", *(f"agent-{i}" for i in range(COUNT)), "orphan"]
    assert report.results[0].outcome == "created"  # its agent came later in the file
    orphan = report.results[-1]
    assert not orphan.ok and "no-such-agent" in str(orphan.error)
    last_line = path.read_text().count("\n", 0, path.read_text().rindex("kind: AgentInstance"))
    assert orphan.source == f"{path}:{last_line + 3}:8"  # at spec: {agentId: ...}
    assert client.store.count("agent") == COUNT
    assert_converged(client.store)


def test_progress_of_a_streamed_apply_counts_up_to_every_document(
    tmp_path: Path, client: Client
) -> None:
    path, docs = large_input(tmp_path)
    calls: list[tuple[int, int]] = []
    client.apply_files([path], progress=lambda done, total: calls.append((done, total)))
    assert [done for done, _ in calls] == list(range(1, len(docs) + 1))
    assert all(done <= total for done, total in calls)
    assert [total for _, total in calls] == sorted(total for _, total in calls)
    assert calls[-1] == (len(docs), len(docs))


def test_a_streamed_apply_equals_applying_the_whole_read(tmp_path: Path, client: Client) -> None:
    path, _ = large_input(tmp_path)
    streamed = client.apply_files([path])
    with Client(tmp_path / "other") as other:
        whole = other.apply(reading.read([path]).manifests)
    assert [(r.name, r.outcome, r.source) for r in streamed.results] == [
        (r.name, r.outcome, r.source) for r in whole
    ]


def test_a_streamed_chunk_that_fills_the_map_is_replayed_whole_after_growth(
    tmp_path: Path,
) -> None:
    path, _ = large_input(tmp_path)
    store = LmdbStore(tmp_path / "small", map_size=1 << 20)  # full within the first chunk
    with Client(store) as client:
        report = client.apply_files([path])
        assert [r.name for r in report.results][:3] == ["early", "agent-0", "agent-1"]
        assert [r.outcome for r in report.results[:-1]] == ["created"] * (COUNT + 1)
        assert store.count("agent") == COUNT
        assert store.count("agent_instance") == COUNT + 1
        assert_converged(store)
    store.close()


def test_stigmer_apply_of_a_large_file_reports_the_bad_document_and_applies_the_rest(
    tmp_path: Path,
) -> None:
    path, _ = large_input(tmp_path)
    data = tmp_path / "data"
    done = stigmer("apply", "-f", str(path), data_dir=data)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "no-such-agent" in done.stderr
    assert done.stderr.startswith(f"{path}:")
    assert done.stdout.splitlines()[0] == "agentinstance/early created"
    assert len(done.stdout.splitlines()) == COUNT + 1
    store = open_store(data)
    try:
        assert_converged(store)
    finally:
        store.close()


def test_stigmer_apply_shows_a_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    path, docs = large_input(tmp_path)
    controller, terminal = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "stigmer", "apply", "-f", str(path)],
            env=dict(env_for(tmp_path / "data"), TERM="xterm", COLUMNS="100"),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=terminal,
            timeout=120,
            check=False,
        )
        os.close(terminal)
        shown = b""
        with contextlib.suppress(OSError):  # EIO once everything written was read
            while chunk := os.read(controller, 65536):
                shown += chunk
    finally:
        os.close(controller)
    assert done.returncode == 1
    text = shown.decode(errors="replace")
    assert "applying" in text and "100%" in text
    assert re.search(rf"\d/{len(docs)}(?!\d)", text)  # done/total, counted against all
    assert "no-such-agent" in text  # the error line, after the bar


def _session_members(sid: int) -> list[int]:
    """The live processes of a session (zombies are done)."""
    return [pid for pid, state, _, session in process_table() if session == sid and state != "Z"]


def test_sigkill_in_the_middle_of_a_streamed_apply_leaves_no_worker_and_a_sound_store(
    tmp_path: Path,
) -> None:
    count = 3 * COUNT  # enough for the worker to be caught at work
    path, _ = large_input(tmp_path, count)
    data = tmp_path / "data"
    proc = subprocess.Popen(
        [sys.executable, "-m", "stigmer", "apply", "-f", str(path)],
        env=env_for(data),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own session: the worker is found by session id
    )
    wait_until(lambda: len(_session_members(proc.pid)) == 2, what="the worker", timeout=60)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    deadline = time.monotonic() + 10  # the worker ends at its next write to the closed pipe
    while _session_members(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _session_members(proc.pid) == []
    again = stigmer("apply", "-f", str(path), data_dir=data)
    assert again.returncode == 1 and "no-such-agent" in again.stderr
    store = open_store(data)
    try:
        assert store.count("agent") == count
        assert_converged(store)
    finally:
        store.close()
