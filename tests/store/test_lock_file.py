"""Deleting LMDB's lock.mdb while a process writes loses no acknowledged write (real processes)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from stigmer.client import Client
from stigmer.store import open_store
from tests.processes import ROOT, env_for, start, stigmer, wait_until


def _agents(prefix: str, n: int) -> str:
    doc = (
        "apiVersion: agentic.stigmer.ai/v1\nkind: Agent\nmetadata:\n  name: {p}-{i}\n"
        "spec:\n  instructions: Be the helpful agent number {i}.\n"
    )
    return "---\n".join(doc.format(p=prefix, i=i) for i in range(n))


def _has_open(pid: int, path: Path) -> bool:
    fds = Path(f"/proc/{pid}/fd")
    try:
        return any(os.readlink(fd) == str(path) for fd in fds.iterdir())
    except OSError:  # the process ended, or an fd closed while we looked
        return False


def _created(output: str) -> set[str]:
    return {line.split()[0].split("/")[1] for line in output.splitlines() if " created" in line}


def test_an_apply_after_lock_mdb_is_deleted_loses_no_acknowledged_write(tmp_path: Path) -> None:
    data = tmp_path / "data"
    Client(data, actor="alice").close()  # the store and its owner exist: the race is the apply
    (tmp_path / "b.yaml").write_text(_agents("b", 2000))
    first = subprocess.Popen(
        [sys.executable, "-m", "stigmer", "apply", "-f", "-"],
        env=env_for(data),
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_until(lambda: _has_open(first.pid, data / "lock.mdb"), what="the first apply's open")
    (data / "lock.mdb").unlink()
    assert first.stdin is not None
    first.stdin.write(_agents("a", 2000))  # its 2,000 lines of output fit in the pipe
    first.stdin.close()
    second = stigmer("apply", "-f", str(tmp_path / "b.yaml"), data_dir=data, timeout=300)
    first.wait(timeout=300)
    assert first.stdout is not None and first.stderr is not None
    with first.stdout, first.stderr:
        out1, err1 = first.stdout.read(), first.stderr.read()
    store = open_store(data)
    try:
        stored = {o.metadata.slug for o in store.list("agent")}
    finally:
        store.close()
    acknowledged = _created(out1) | _created(second.stdout)
    assert acknowledged <= stored, sorted(acknowledged - stored)[:5]
    assert _created(second.stdout)  # the second apply wrote
    if first.returncode:  # the first one refused, with one clear reason
        assert "lock file" in err1 and "was deleted or replaced" in err1


@pytest.mark.parametrize("backend", ["lmdb", "sqlite"])
def test_deleting_controller_lock_does_not_let_a_second_serve_run(
    tmp_path: Path, backend: str
) -> None:
    data = tmp_path / "data"
    at = ("--store", f"sqlite:{tmp_path / 's.db'}") if backend == "sqlite" else ()
    assert stigmer(*at, "apply", "-f", "manifests/examples/", data_dir=data).returncode == 0
    lock = data / "controller.lock" if backend == "lmdb" else tmp_path / "s.db.controller.lock"
    serve = start(*at, "serve", data_dir=data)
    try:
        wait_until(
            lambda: lock.exists() and lock.read_text().split()[:1] == [str(serve.pid)], proc=serve
        )
        lock.unlink()
        second = stigmer(*at, "serve", data_dir=data)
        assert second.returncode == 1
        assert "another stigmer serve" in second.stderr, second.stderr
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.communicate(timeout=20)
