"""The change feed's shared machinery: compaction by a retention policy, and the polling watch.

``Compacting`` is a write-transaction mixin that decides which events a
retention policy drops; ``following`` delivers the feed to ``Store.watch`` by
polling a read snapshot, the local backends' way of delivering it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Protocol

from stigmer.api.v1.event_pb2 import Event
from stigmer.errors import Expired
from stigmer.store.writing import WriteState

if TYPE_CHECKING:
    from stigmer.store.protocol import EventList, Reader, Retention

# How the local backends' watch polls: soon after a write, backing off while quiet.
WATCH_POLL, WATCH_MAX_POLL, WATCH_BATCH = 0.005, 0.25, 1000
COMPACT_BATCH = 500  # events per compaction transaction: short, so writers barely wait


class _Trimmable(Protocol):
    state: WriteState

    def revision(self) -> int: ...

    def _oldest_events(self, limit: int) -> list[Event]: ...

    def _drop_event(self, event: Event) -> None: ...

    def _set_compacted(self, revision: int) -> None: ...

    def _kept_by_count(self, retention: Retention) -> Callable[[int, Event], bool]: ...


class Compacting:
    """``trim_events`` for a write transaction, given the backend's raw event removal."""

    def trim_events(self: _Trimmable, retention: Retention, *, limit: int) -> int:
        """Drops at most ``limit`` of the oldest events that ``retention`` lets go."""
        kept_by_count = self._kept_by_count(retention)
        cutoff = 0 if retention.seconds is None else time.time_ns() - int(retention.seconds * 1e9)
        doomed = []
        for n, event in enumerate(self._oldest_events(limit)):
            if kept_by_count(n, event) and event.time.ToNanoseconds() >= cutoff:
                break  # the feed is in revision order: every later event is kept too
            doomed.append(event)
        for event in doomed:
            self._drop_event(event)
        if doomed:
            self._set_compacted(doomed[-1].revision)
            self.state.touched()
        return len(doomed)

    def _kept_by_count(self: _Trimmable, retention: Retention) -> Callable[[int, Event], bool]:
        """Whether the count bound keeps the n-th oldest event.

        It goes by revision: each write takes one revision and one event, so the
        last N revisions hold the last N events.
        """
        floor = 0 if retention.events is None else self.revision() - retention.events
        return lambda _n, event: event.revision > floor


class Snapshots(Protocol):
    def read(self) -> AbstractContextManager[Reader]: ...


def kept_since(reader: Reader, revision: int) -> None:
    """Raises Expired when events after ``revision`` may have been compacted away."""
    compacted = reader.compacted()
    if revision < compacted:
        raise Expired(revision, compacted)


def _next_batch(store: Snapshots, revision: int) -> EventList:
    """The events after ``revision`` in one snapshot, or Expired if some are gone."""
    with store.read() as r:
        if r.revision() <= revision:  # the cheap check, and the usual answer
            return []
        kept_since(r, revision)
        return r.events_since(revision, limit=WATCH_BATCH)


def following(
    store: Snapshots, revision: int, stop: threading.Event, heartbeat: float | None
) -> Iterator[EventList]:
    """Batches of events after ``revision`` until ``stop``; empty ones as heartbeats."""
    delay = quiet = 0.0
    while not stop.is_set():
        batch = _next_batch(store, revision)
        if batch:
            revision, delay, quiet = batch[-1].revision, 0.0, 0.0
            yield batch
            continue
        if heartbeat is not None and quiet >= heartbeat:
            quiet = 0.0
            yield batch
            continue
        delay = min(max(delay * 2, WATCH_POLL), WATCH_MAX_POLL)
        stop.wait(delay)
        quiet += delay
