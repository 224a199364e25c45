"""Real processes against one store: concurrent writers, and a SIGKILLed one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from stigmer.store import Store
from tests.factories import agent, as_instance

ROOT = Path(__file__).resolve().parents[2]

_EXACT = (
    "it asserts the exact revisions LMDB and SQLite give; etcd's are its cluster's, "
    "shared with other prefixes and leases (tests/store/test_etcd.py covers them)"
)


def spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.store._workers", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )


@pytest.mark.not_on_etcd(_EXACT)
def test_four_processes_writing_at_once_lose_nothing(store: Store, store_url: str) -> None:
    procs = [spawn("writer", store_url, f"p{n}", "60") for n in range(4)]
    outputs = [p.communicate(timeout=120)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    written = {id for out in outputs for id in out}
    assert len(written) == 240
    assert {a.metadata.id for a in store.list("agent")} == written
    assert store.count("agent_instance") == 240
    assert store.revision() == 480
    revisions = [e.revision for e in store.events_since(0)]
    assert revisions == list(range(1, 481))
    assert store.check() == []


def test_concurrent_compare_and_swap_updates_lose_no_update(store: Store, store_url: str) -> None:
    store.put(agent("agt-counter", labels={"n": "0"}))
    procs = [spawn("updater", store_url, "agt-counter", "25") for _ in range(4)]
    for p in procs:
        p.communicate(timeout=120)
        assert p.returncode == 0
    assert store.get("agent", "agt-counter").metadata.labels["n"] == "100"


def test_a_sigkilled_writer_leaves_a_consistent_store(store: Store, store_url: str) -> None:
    proc = spawn("writer", store_url, "k", "100000")
    assert proc.stdout is not None
    committed = [proc.stdout.readline().strip() for _ in range(50)]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    assert store.check() == []
    for id in committed:
        a = store.get("agent", id)
        owned = [as_instance(o).spec.agent_id for o in store.list_owned(id)]
        assert owned == [id]  # written together
        assert a.metadata.resource_version > 0
    # Whatever else made it in is whole too: every agent has its instance.
    for a in store.list("agent"):
        assert len(store.list_owned(a.metadata.id)) == 1
