"""The write-transaction machinery every backend shares, so the backends differ only in storage.

``WriteState`` keeps the revisions, events and undo log of one transaction;
``Nesting``, ``Removing`` and ``Restoring`` are mixins that define the
protocol's nested transactions, deletes and restores in terms of the
backend's raw writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Protocol

from stigmer.api.kinds import Resource
from stigmer.api.v1.event_pb2 import Event, EventType
from stigmer.errors import StoreError
from stigmer.store.objects import decode
from stigmer.store.rules import check_identity, check_version

# The protocol is imported for annotations; the records where they are read,
# so that opening a store to read it does not build them.
if TYPE_CHECKING:
    from stigmer.store.protocol import Record, T, WriteTxn

# The event types as plain ints: the enum wrapper's attribute lookup is slow in bulk.
_CREATED, _UPDATED = int(EventType.created), int(EventType.updated)
_DELETED = int(EventType.deleted)


class WriteState:
    """The bookkeeping every backend's write transaction shares.

    - One global revision: each object written takes the next one.
    - Writes to one object within a transaction coalesce into one revision
      and one event (created stays created): the intermediate states were
      never visible to anyone, so the feed shows one change per object.
    - Nested transactions: everything recorded inside one is undone when it
      fails, through an undo log (O(1) per write, whatever the batch size).
    - ``dirty`` says whether anything was written, so a transaction that
      changed nothing is not committed (no fsync, no new revision).
    - ``writes`` counts every write, and never goes back (not even when a
      nested transaction is undone), so a caller can tell whether a piece of
      work wrote anything.
    """

    def __init__(self, revision: int, actor: str, now_ns: int) -> None:
        self.revision = self.start = revision
        self.actor, self.now_ns = actor, now_ns
        self.events: list[Event] = []
        self.dirty = False
        self.writes = 0
        self._index: dict[int, int] = {}  # revision -> position in events
        # (kind, id) -> (revision, event type, index place) of this transaction's writes
        self._written: dict[tuple[str, str], tuple[int, int, object]] = {}
        self._undo: list[Callable[[], object]] = []

    def _remember(self, key: tuple[str, str], value: tuple[int, int, object]) -> None:
        old = self._written.get(key)
        self._written[key] = value
        self._undo.append(
            (lambda: self._written.pop(key))
            if old is None
            else (lambda: self._written.update({key: old}))
        )

    def earlier(self, kind: str, id: str) -> tuple[int, int, object] | None:
        """(revision, event type, place) if this transaction already wrote the object."""
        prev = self._written.get((kind, id))
        return prev if prev is not None and prev[1] != _DELETED else None

    def next_for_put(
        self, kind: str, id: str, existed: bool, place: object = None
    ) -> tuple[int, int]:
        """(revision, event type) for a put: a new revision, or this transaction's one.

        ``place`` is what the object's index entries depend on, remembered so a
        later put of the object in this transaction can tell they still hold.
        """
        self.dirty, self.writes = True, self.writes + 1
        prev = self.earlier(kind, id)
        revision, type_ = (
            prev[:2] if prev is not None else (self.revision + 1, _UPDATED if existed else _CREATED)
        )
        self.revision = max(self.revision, revision)
        if prev is None or prev[2] != place:
            self._remember((kind, id), (revision, type_, place))
        return revision, type_

    def event_at(self, revision: int) -> Event:
        """The event this transaction recorded at ``revision``."""
        return self.events[self._index[revision]]

    def next_for_delete(self, kind: str, id: str) -> int:
        """The revision of a delete."""
        self.dirty, self.writes = True, self.writes + 1
        self.revision += 1
        self._remember((kind, id), (self.revision, _DELETED, None))
        return self.revision

    def record(self, event: Event) -> None:
        """Adds an event, or replaces this transaction's earlier event of the same revision."""
        at = self._index.get(event.revision)
        if at is None:
            self._index[event.revision] = len(self.events)
            self.events.append(event)
            self._undo.append(lambda: (self.events.pop(), self._index.pop(event.revision)))
        else:
            old = self.events[at]
            self.events[at] = event
            self._undo.append(lambda: self.events.__setitem__(at, old))

    def touched(self) -> None:
        """Notes a write that takes no revision (meta, tuples, a rewrite)."""
        self.dirty, self.writes = True, self.writes + 1

    def advance(self, revision: int) -> None:
        """Moves the revision forward to ``revision`` (for restore); never back."""
        self.dirty, self.writes = True, self.writes + 1
        self.revision = max(self.revision, revision)

    def mark(self) -> tuple[int, int, bool]:
        return (len(self._undo), self.revision, self.dirty)

    def rollback(self, mark: tuple[int, int, bool]) -> None:
        """Forgets everything recorded since ``mark``."""
        size, self.revision, self.dirty = mark
        while len(self._undo) > size:
            self._undo.pop()()


class Nesting:
    """``nested`` and ``writes`` for a write transaction, given the backend's savepoint hooks."""

    state: WriteState

    def _begin_nested(self) -> None:
        raise NotImplementedError

    def _end_nested(self, *, commit: bool) -> None:
        raise NotImplementedError

    @property
    def writes(self) -> int:
        return self.state.writes

    def nested(self, fn: Callable[[WriteTxn], T]) -> T:
        """Runs ``fn`` in a nested transaction: on an exception its writes are undone."""
        mark = self.state.mark()
        self._begin_nested()
        try:
            result = fn(self)  # type: ignore[arg-type]
        except BaseException:
            self._end_nested(commit=False)
            self.state.rollback(mark)
            raise
        self._end_nested(commit=True)
        return result


class Prefetching:
    """``prefetch`` for a backend whose reads are local: there is nothing to fetch ahead."""

    def prefetch(self, slugs: Iterable[tuple[str, str, str]]) -> None:
        """A hint that the objects these (kind, org, slug) name will be read; ignored."""


class _Finds(Protocol):
    def find(self, kind: str, id: str) -> Resource | None: ...

    def find_by_slug(self, kind: str, org: str, slug: str) -> Resource | None: ...


class _Removable(_Finds, Protocol):
    state: WriteState

    def _drop_indexes(self, kind: str, old: Resource, keep: Resource | None = None) -> None: ...

    def _remove_object(self, kind: str, id: str) -> None: ...

    def _append_event(self, type_: int, kind: str, obj: Resource, revision: int) -> None: ...


class Removing:
    """``delete`` and ``delete_all`` for a write transaction, given the backend's raw removal."""

    def delete(
        self: _Removable, kind: str, id: str, *, expected_version: int | None = None
    ) -> Resource | None:
        """Deletes an object, its index entries and appends an event (None if it is absent)."""
        old = self.find(kind, id)
        if expected_version is not None:
            check_version(kind, id, old, expected_version)
        if old is None:
            return None
        self._drop_indexes(kind, old)
        self._remove_object(kind, id)
        self._append_event(_DELETED, kind, old, self.state.next_for_delete(kind, id))
        return old


class _Restorable(Protocol):
    state: WriteState

    def _restore_object(self, kind: str, obj: Resource, blob: bytes) -> None: ...

    def _restore_event(self, revision: int, blob: bytes) -> None: ...

    def _set_compacted(self, revision: int) -> None: ...

    def set_meta(self, key: str, value: str) -> None: ...

    def add_tuple(self, tuple_: str) -> bool: ...


class Restoring:
    """``restore`` for a write transaction, given the backend's raw writes.

    The backend writes an object's bytes with its index entries, and an
    event's bytes at its revision; this decides what a record means.
    """

    def restore(self: _Restorable, record: Record) -> None:
        """Writes a record of another store's ``records()`` back as it was."""
        from stigmer.store.protocol import (
            EventRecord,
            MetaRecord,
            ObjectRecord,
            RevisionRecord,
            TupleRecord,
        )

        match record:
            case RevisionRecord(revision=revision, compacted=compacted):
                self.state.advance(revision)
                if compacted:  # a watch from before it must expire on the copy too
                    self._set_compacted(compacted)
            case ObjectRecord(kind=kind, id=id, data=blob):
                try:
                    obj = decode(kind, blob)
                except Exception as e:  # any decode failure: the source store is damaged
                    raise StoreError(f"{kind}/{id}: cannot decode: {e}") from e
                check_identity(kind, obj)
                if obj.metadata.id != id:
                    raise StoreError(f"{kind}/{id}: the record holds id {obj.metadata.id!r}")
                self._restore_object(kind, obj, blob)
                self.state.advance(obj.metadata.resource_version)
            case EventRecord(revision=revision, data=blob):
                self._restore_event(revision, blob)
                self.state.advance(revision)
            case MetaRecord(key=key, value=value):
                self.set_meta(key, value)
            case TupleRecord(relation=relation):
                self.add_tuple(relation)


class NothingToCommit(Exception):
    """Raised inside a backend's transaction block to abort it and return ``result``."""

    def __init__(self, result: object) -> None:
        self.result = result
