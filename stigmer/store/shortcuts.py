"""The Store's convenience methods, defined in terms of its primitive ones.

``Lookups`` and ``Shortcuts`` are mixins a backend inherits, so every backend
gets ``get``, ``put``, ``delete``, ``iter_events``, ``watch``, ``compact`` and
``records`` alike.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING, Protocol

from stigmer.api.kinds import Resource
from stigmer.api.v1.event_pb2 import Event
from stigmer.store.feed import COMPACT_BATCH, Snapshots, following, kept_since
from stigmer.store.rules import missing
from stigmer.store.writing import _Finds

if TYPE_CHECKING:
    from stigmer.store.protocol import EventList, Record, Retention, T, WriteTxn


class Lookups:
    """``get`` and ``get_by_slug``: ``find`` and ``find_by_slug`` that raise NotFound."""

    def get(self: _Finds, kind: str, id: str) -> Resource:
        obj = self.find(kind, id)
        if obj is None:
            raise missing(kind, id)
        return obj

    def get_by_slug(self: _Finds, kind: str, org: str, slug: str) -> Resource:
        obj = self.find_by_slug(kind, org, slug)
        if obj is None:
            raise missing(kind, slug, org)
        return obj


class _Transacts(_Finds, Snapshots, Protocol):
    def transact(self, fn: Callable[[WriteTxn], T], *, actor: str = "") -> T: ...

    def events_since(self, revision: int, limit: int | None = None) -> EventList: ...


class Shortcuts(Lookups):
    """The Store methods that are one transaction or a loop over the feed."""

    def put(
        self: _Transacts, obj: Resource, *, expected_version: int | None = None, actor: str = ""
    ) -> Resource:
        """Writes one object in its own transaction (see WriteTxn.put)."""
        return self.transact(lambda w: w.put(obj, expected_version=expected_version), actor=actor)

    def delete(self: _Transacts, kind: str, id: str, *, actor: str = "") -> Resource | None:
        """Deletes one object in its own transaction (see WriteTxn.delete)."""
        return self.transact(lambda w: w.delete(kind, id), actor=actor)

    def delete_all(self: _Transacts, kind: str, *, actor: str = "") -> int:
        """Deletes every object of a kind in one transaction."""
        return self.transact(lambda w: w.delete_all(kind), actor=actor)

    def iter_events(self: _Transacts, revision: int = 0) -> Iterator[Event]:
        """Every stored event after ``revision``, a thousand at a time."""
        while batch := self.events_since(revision, limit=1000):
            yield from batch
            revision = batch[-1].revision

    def watch(
        self: Snapshots,
        from_revision: int | None = None,
        *,
        stop: threading.Event | None = None,
        heartbeat: float | None = None,
    ) -> Iterator[EventList]:
        """Batches of events as they commit, by polling a snapshot (see Store.watch)."""
        # Not a generator itself: "now" and Expired are decided at the call,
        # not at the first next(), so a list made after the call misses nothing.
        with self.read() as r:
            start = r.revision() if from_revision is None else from_revision
            kept_since(r, start)
        return following(self, start, stop or threading.Event(), heartbeat)

    def compact(self: _Transacts, retention: Retention | None = None) -> int:
        """Drops the events ``retention`` lets go, COMPACT_BATCH per transaction."""
        from stigmer.store.protocol import Retention

        policy = retention or Retention()
        total = 0
        while dropped := self.transact(lambda w: w.trim_events(policy, limit=COMPACT_BATCH)):
            total += dropped
        return total

    def records(self: Snapshots) -> Generator[Record, None, None]:
        """Everything stored, from one read snapshot held until the iterator ends."""
        with self.read() as r:
            yield from r.records()
