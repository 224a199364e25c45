"""Leadership of a store: acquire, is-leader, resign, and a fence that grows per term."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from stigmer.errors import StoreLocked
from stigmer.store import Store
from tests.processes import ROOT, read_line

# A process that leads the store at argv[1], says so with its fence, and waits to be killed.
_HOLD = """
import sys, time
from stigmer.store import open_store
leader = open_store(sys.argv[1]).leader()
leader.acquire()
print(leader.fence, flush=True)
time.sleep(600)
"""


def test_one_leader_at_a_time_and_each_term_fences_above_the_last(store: Store) -> None:
    first, second = store.leader(), store.leader()
    assert not first.is_leader() and first.fence == 0
    first.acquire()
    assert first.is_leader() and first.fence >= 1
    with pytest.raises(StoreLocked, match=f"another stigmer serve \\(pid {os.getpid()}\\)"):
        second.acquire()
    assert not second.is_leader() and second.fence == 0
    term = first.fence
    first.resign()
    first.resign()  # idempotent
    assert not first.is_leader() and first.fence == 0
    second.acquire()
    assert second.is_leader() and second.fence > term
    second.resign()


@pytest.mark.not_on_etcd(
    "the kernel frees a file lock at once; etcd's lease outlives a SIGKILL by up to 15 s "
    "(test_etcd.py)"
)
def test_a_killed_leaders_term_ends_and_the_next_fences_above_it(store: Store) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, store.url],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        killed_term = int(read_line(holder))
        leader = store.leader()
        with pytest.raises(StoreLocked, match=f"pid {holder.pid}"):
            leader.acquire()
        holder.send_signal(signal.SIGKILL)
        holder.communicate(timeout=20)
        leader.acquire()
        assert leader.is_leader() and leader.fence > killed_term
        leader.resign()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.communicate()
