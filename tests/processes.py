"""Running stigmer as a real program, and waiting on conditions instead of sleeping."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from tests.rerunning import program

ROOT = Path(__file__).resolve().parents[1]


def env_for(data_dir: Path, user: str = "alice") -> dict[str, str]:
    env = dict(os.environ)
    env.update(STIGMER_DATA_DIR=str(data_dir), STIGMER_USER=user)
    env.pop("STIGMER_STORE", None)
    return env


def stigmer(
    *args: str, data_dir: Path, user: str = "alice", timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Runs ``python -m stigmer ARGS`` to completion (see tests.rerunning.program)."""
    return subprocess.run(
        [*program(), *args],
        env=env_for(data_dir, user),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start(*args: str, data_dir: Path, user: str = "alice") -> subprocess.Popen[str]:
    """Starts a long-running ``python -m stigmer ARGS`` (serve, sync --watch)."""
    return subprocess.Popen(
        [*program(), *args],
        env=env_for(data_dir, user),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until(
    condition: Callable[[], object],
    *,
    timeout: float = 20.0,
    what: str = "",
    proc: subprocess.Popen[str] | None = None,
) -> None:
    """Polls ``condition`` until it is truthy; fails the test after ``timeout`` seconds.

    With ``proc``, the failure shows what that process printed, or how it ended.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    if not condition():
        detail = ""
        if proc is not None:
            ended = proc.poll()
            proc.kill()
            out, err = proc.communicate(timeout=10)
            detail = (
                f"\n{proc.args!r} {'exited ' + str(ended) if ended is not None else 'was running'}"
            )
            detail += f"\nstdout: {out}\nstderr: {err}"
        raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}{detail}")


def read_line(proc: subprocess.Popen[str], timeout: float = 20.0) -> str:
    """The next line of a process's stdout; fails after ``timeout`` instead of hanging."""
    import queue
    import threading

    stdout = proc.stdout
    assert stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        raise AssertionError(f"no output from {proc.args!r} within {timeout}s") from None


def process_table() -> list[tuple[int, str, int, int]]:
    """(pid, state, parent pid, session id) of every process, read from /proc (Linux)."""
    table = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()  # the name may hold spaces
            except OSError:
                continue  # it ended while we looked
            table.append((int(entry), fields[0], int(fields[1]), int(fields[3])))
    return table
