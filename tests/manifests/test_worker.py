"""The forked worker: same items as in-process, recovery when it dies, no process left behind."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator

import pytest

from stigmer.manifests import worker
from tests.processes import process_table


def _children() -> set[int]:
    """The pids of this process's children, live or not yet reaped."""
    return {pid for pid, _, parent, _ in process_table() if parent == os.getpid()}


def _squares(parent: int, *, die_after: int | None = None) -> Iterator[tuple[int, int]]:
    for n in range(50):
        if die_after is not None and n == die_after and os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)  # only the worker dies, and really
        yield n, n * n


def test_items_made_in_the_worker_arrive_in_order() -> None:
    parent = os.getpid()
    got = list(worker.produce_in_worker(lambda: _squares(parent), list, tuple))
    assert got == list(_squares(parent))


def test_the_work_is_done_in_another_process() -> None:
    got = list(worker.produce_in_worker(lambda: iter([os.getpid()]), int, int))
    assert got != [os.getpid()]


def test_a_killed_worker_is_replaced_by_the_caller_without_losing_or_repeating_items() -> None:
    parent = os.getpid()
    got = list(worker.produce_in_worker(lambda: _squares(parent, die_after=20), list, tuple))
    assert got == list(_squares(parent))
    assert not _children()


def test_an_error_in_the_worker_surfaces_here_as_itself() -> None:
    def broken() -> Iterator[int]:
        yield 1
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        list(worker.produce_in_worker(broken, int, int))
    assert not _children()


def test_a_caller_that_stops_early_leaves_no_worker_behind() -> None:
    before = _children()
    items = worker.produce_in_worker(lambda: iter(range(10**9)), int, int)
    assert next(items) == 0
    assert _children() - before  # the worker is running
    items.close()
    assert _children() == before


def test_no_worker_is_forked_beside_another_thread() -> None:
    assert worker.available()
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not worker.available()
    finally:
        stop.set()
        other.join()
