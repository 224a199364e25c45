"""The work queue: de-duplication, one worker per key, and backoff."""

from __future__ import annotations

import itertools
import threading
from collections import deque

from stigmer.controller.workqueue import BASE_DELAY, MAX_DELAY, WorkQueue


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_key_waits_in_the_queue_only_once() -> None:
    q: WorkQueue[str] = WorkQueue()
    for key in ["a", "b", "a", "a", "c", "b"]:
        q.add(key)
    assert [q.get(timeout=0), q.get(timeout=0), q.get(timeout=0)] == ["a", "b", "c"]
    assert q.get(timeout=0) is None


def test_a_key_added_while_in_flight_comes_back_after_done() -> None:
    q: WorkQueue[str] = WorkQueue()
    q.add("a")
    assert q.get(timeout=0) == "a"
    q.add("a")
    q.add("a")
    assert q.get(timeout=0) is None  # never two workers on one key
    q.done("a")
    assert q.get(timeout=0) == "a"
    q.done("a")
    assert q.get(timeout=0) is None


def test_retries_back_off_exponentially_from_5ms_to_5min() -> None:
    clock = Clock()
    q: WorkQueue[str] = WorkQueue(clock=clock)
    delays = [q.retry("k") for _ in range(20)]
    assert delays[:4] == [BASE_DELAY, BASE_DELAY * 2, BASE_DELAY * 4, BASE_DELAY * 8]
    assert delays[-1] == MAX_DELAY == 300.0
    assert all(a <= b for a, b in itertools.pairwise(delays))
    q.forget("k")
    assert q.retry("other") == BASE_DELAY and q.failures("k") == 0


def test_a_retried_key_is_handed_out_only_when_due() -> None:
    clock = Clock()
    q: WorkQueue[str] = WorkQueue(clock=clock)
    q.add_after("k", 1.0)
    assert q.get(timeout=0) is None
    clock.now = 0.5
    assert q.get(timeout=0) is None
    clock.now = 1.0
    assert q.get(timeout=0) == "k"
    assert q.waiting() == 0


def test_shutdown_wakes_a_waiting_worker() -> None:
    q: WorkQueue[str] = WorkQueue()
    got: list[str | None] = []
    worker = threading.Thread(target=lambda: got.append(q.get()))
    worker.start()
    q.shutdown()
    worker.join(timeout=5)
    assert not worker.is_alive() and got == [None]


def test_a_large_backlog_drains_in_order_each_key_once_from_a_constant_time_queue() -> None:
    q: WorkQueue[int] = WorkQueue()
    keys = list(range(50_000))  # a resync of a big store queues every object at once
    for key in keys + keys[::7]:
        q.add(key)
    assert len(q) == len(keys)
    drained: list[int] = []
    while (got := q.get(timeout=0)) is not None:
        drained.append(got)
        q.done(got)
    assert drained == keys
    # Complexity is checked by structure, never by timing: the waiting keys sit in a
    # deque, whose popleft is O(1), where a list's pop(0) moved every key behind it.
    assert isinstance(q._queue, deque)
