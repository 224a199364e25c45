"""A de-duplicating, rate-limited work queue, in the manner of client-go's.

A key waits in the queue at most once. While a worker holds a key, adding it
again only marks it dirty; it is handed out again after ``done``. So at most
one worker handles a key at a time, and no change is lost. Failures are
retried with per-key exponential backoff (5 ms doubling to 5 min).
"""

from __future__ import annotations

import heapq
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)

BASE_DELAY = 0.005
MAX_DELAY = 300.0


class WorkQueue(Generic[K]):
    """Keys to reconcile, each at most once in the queue and once in flight."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._cond = threading.Condition()
        self._queue: deque[K] = deque()  # popleft is O(1); a list's pop(0) moves every key
        self._queued: set[K] = set()
        self._processing: set[K] = set()
        self._dirty: set[K] = set()
        self._later: list[tuple[float, int, K]] = []  # (due, seq, key) heap
        self._seq = 0
        self._failures: dict[K, int] = {}
        self._shutdown = False

    def add(self, key: K) -> None:
        """Queues ``key`` unless it is already waiting."""
        with self._cond:
            self._add_locked(key)

    def _add_locked(self, key: K) -> None:
        if self._shutdown:
            return
        if key in self._processing:
            self._dirty.add(key)
        elif key not in self._queued:
            self._queued.add(key)
            self._queue.append(key)
            self._cond.notify()

    def add_after(self, key: K, delay: float) -> None:
        """Queues ``key`` once ``delay`` seconds have passed."""
        with self._cond:
            self._seq += 1
            heapq.heappush(self._later, (self._clock() + delay, self._seq, key))
            self._cond.notify()

    def retry(self, key: K) -> float:
        """Queues ``key`` after its next backoff delay; returns the delay."""
        with self._cond:
            n = self._failures.get(key, 0)
            self._failures[key] = n + 1
        delay: float = min(BASE_DELAY * 2.0**n, MAX_DELAY)
        self.add_after(key, delay)
        return delay

    def forget(self, key: K) -> None:
        """Resets ``key``'s backoff after a success (or a terminal failure)."""
        with self._cond:
            self._failures.pop(key, None)

    def failures(self, key: K) -> int:
        with self._cond:
            return self._failures.get(key, 0)

    def get(self, timeout: float | None = None) -> K | None:
        """The next key to work on, or None after ``timeout`` or shutdown."""
        deadline = None if timeout is None else self._clock() + timeout
        with self._cond:
            while True:
                self._promote_due()
                if self._queue:
                    key = self._queue.popleft()
                    self._queued.discard(key)
                    self._processing.add(key)
                    return key
                if self._shutdown:
                    return None
                wait = self._wait_time(deadline)
                if wait is not None and wait <= 0:
                    return None
                self._cond.wait(wait)

    def _promote_due(self) -> None:
        now = self._clock()
        while self._later and self._later[0][0] <= now:
            _, _, key = heapq.heappop(self._later)
            self._add_locked(key)

    def _wait_time(self, deadline: float | None) -> float | None:
        now = self._clock()
        waits = [
            d - now for d in (deadline, self._later[0][0] if self._later else None) if d is not None
        ]
        return min(waits) if waits else None

    def done(self, key: K) -> None:
        """Marks ``key`` finished; queues it again if it was added meanwhile."""
        with self._cond:
            self._processing.discard(key)
            if key in self._dirty:
                self._dirty.discard(key)
                self._add_locked(key)

    def shutdown(self) -> None:
        """Wakes every waiting worker; get() returns None from now on."""
        with self._cond:
            self._shutdown = True
            self._cond.notify_all()

    def __len__(self) -> int:
        with self._cond:
            return len(self._queue)

    def waiting(self) -> int:
        """Keys queued now or scheduled for later: the queue depth."""
        with self._cond:
            return len(self._queue) + len(self._later)
