"""What every store backend shares, so that the backends differ only in storage.

The error builders give both backends the same messages; ``check_identity``
and ``check_version`` are the rules every put follows; ``make_event`` builds
the change-feed record; ``inspect_object`` is the per-object half of
``check()``. ``Lookups`` and ``Shortcuts`` are mixins that define the
convenience methods of the protocol in terms of the primitive ones;
``Restoring`` turns the records of a copied store into the backend's raw
writes; ``Compacting`` decides which events a retention policy drops;
``Shortcuts.watch`` follows the feed by polling a snapshot (the local
backends' way of delivering it); and the file helpers keep a store's files
private.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from stigmer.api import kinds
from stigmer.api.kinds import Resource
from stigmer.api.v1.event_pb2 import Event, EventType
from stigmer.errors import (
    AlreadyExists,
    Conflict,
    Expired,
    KeyTooLong,
    NoStore,
    NotFound,
    StoreError,
    StoreVersionError,
)

# The protocol is imported for annotations; the records where they are read,
# so that opening a store to read it does not build them.
if TYPE_CHECKING:
    from stigmer.store.protocol import (
        EventList,
        Reader,
        Record,
        ResourceList,
        Retention,
        T,
        WriteTxn,
    )
    from stigmer.store.selectors import Selector

log = logging.getLogger("stigmer.store")
# The event types as plain ints: the enum wrapper's attribute lookup is slow in bulk.
_CREATED, _UPDATED = int(EventType.created), int(EventType.updated)
_DELETED = int(EventType.deleted)
# MAX_KEY_BYTES is LMDB's compiled-in key limit (MDB_MAXKEYSIZE). Every
# backend refuses longer keys, so a store that takes one can be copied to any.
MAX_KEY_BYTES = 511

# -- errors and rules -----------------------------------------------------------


def missing(kind: str, name: str, org: str | None = None) -> NotFound:
    """The NotFound for an id (or, with ``org``, a slug) that names nothing."""
    where = "" if org is None else f' in org "{org}"'
    return NotFound(f'{kinds.by_key(kind).singular} "{name}" not found{where}')


def slug_taken(kind: str, slug: str, org: str) -> AlreadyExists:
    """The AlreadyExists for a put whose (kind, org, slug) another object holds."""
    return AlreadyExists(f'{kinds.by_key(kind).singular} "{slug}" already exists in org "{org}"')


def schema_too_new(path: Path, found: int, supported: int) -> StoreVersionError:
    """The refusal to open a store that a newer Stigmer wrote."""
    return StoreVersionError(
        f"store at {path} has schema version {found}, but this Stigmer "
        f"understands up to {supported}; upgrade Stigmer to open it"
    )


def no_store(path: Path) -> NoStore:
    """The refusal of a read to open (and so create) a store that does not exist."""
    return NoStore(f"no store at {path} (check --data-dir; a first apply creates it)")


def check_identity(kind: str, obj: Resource) -> None:
    """Refuses identities that would make index keys ambiguous, or too long to store."""
    kinds.by_key(kind)  # KeyError for an unknown kind
    md = obj.metadata
    if not md.id or "\0" in md.id:
        raise StoreError(f"{kind} id {md.id!r} is empty or contains NUL")
    for what, value in (("org", md.org), ("slug", md.slug)):
        if not value or "/" in value or "\0" in value:
            raise StoreError(f'{kind}/{md.id}: {what} "{value}" is empty or contains "/" or NUL')
    check_key_size(f"{kind}/{md.org}/{md.slug}", "name and org")
    check_key_size(f"{kind}/{md.org}/{md.id}", "id and org")
    for ref in md.owner_references:
        check_key_size(f"{ref.id}\0{kind}/{md.id}", "owner reference")


def check_key_size(key: str, what: str) -> None:
    """Raises KeyTooLong when ``key`` is longer than MAX_KEY_BYTES in UTF-8."""
    size = len(key.encode())
    if size > MAX_KEY_BYTES:
        shown = key.replace("\0", " -> ")[:40]
        raise KeyTooLong(
            f'store key "{shown}..." ({what}) is {size} bytes, above the limit of '
            f"{MAX_KEY_BYTES}; use a shorter {what}"
        )


def check_version(kind: str, id: str, old: Resource | None, expected: int) -> None:
    """Raises Conflict unless the stored resource_version is ``expected`` (0: absent)."""
    check_revision(
        kind, id, old is not None, 0 if old is None else old.metadata.resource_version, expected
    )


def check_revision(kind: str, id: str, exists: bool, actual: int, expected: int) -> None:
    """Raises Conflict unless ``actual`` is ``expected``; ``exists`` words the message."""
    if actual != expected:
        what = f"is at resource_version {actual}" if exists else "does not exist"
        if expected == 0:
            what = "already exists"
        raise Conflict(
            f"{kinds.by_key(kind).singular} {id} {what}, expected {expected}; "
            "re-read it and try again"
        )


# -- records --------------------------------------------------------------------


def decode(kind: str, blob: bytes) -> Resource:
    """The object stored as ``blob`` under ``kind``."""
    return kinds.by_key(kind).message.FromString(blob)


def matching(objs: ResourceList, selector: Selector | None) -> ResourceList:
    """The objects whose labels match ``selector`` (all of them when it is None)."""
    if selector is None or not selector.requirements:
        return objs
    return [o for o in objs if selector.matches(o.metadata.labels)]


def make_event(
    type_: int, kind: str, obj: Resource, *, revision: int, actor: str, now_ns: int
) -> Event:
    """The change-feed record of one write; it names the object, never its spec."""
    md = obj.metadata
    ev = Event(
        revision=revision,
        type=type_,  # type: ignore[arg-type]
        kind=kind,
        id=md.id,
        org=md.org,
        slug=md.slug,
        generation=md.generation,
        actor=actor,
    )
    stamp = ev.time  # two assignments cost a third of FromNanoseconds, in bulk
    stamp.seconds, stamp.nanos = divmod(now_ns, 1_000_000_000)
    return ev


def inspect_object(
    where: str, kind: str, id: str, blob: bytes, *, revision: int, problems: list[str]
) -> Resource | None:
    """Decodes a stored object for check(), appending what is wrong with it.

    Returns None when it cannot be decoded, so its indexes cannot be checked.
    """
    try:
        obj = decode(kind, blob)
    except Exception as e:  # any decode failure is a finding, not a crash
        problems.append(f"{where}: cannot decode: {e}")
        return None
    md = obj.metadata
    if md.id != id:
        problems.append(f"{where}: holds id {md.id!r}")
    if md.resource_version > revision:
        problems.append(f"{where}: resource_version beyond revision")
    return obj


# -- write transactions -------------------------------------------------------------


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


class _Trimmable(Protocol):
    state: WriteState

    def revision(self) -> int: ...

    def _oldest_events(self, limit: int) -> list[Event]: ...

    def _drop_event(self, event: Event) -> None: ...

    def _set_compacted(self, revision: int) -> None: ...


class Compacting:
    """``trim_events`` for a write transaction, given the backend's raw event removal."""

    def trim_events(self: _Trimmable, retention: Retention, *, limit: int) -> int:
        """Drops at most ``limit`` of the oldest events that ``retention`` lets go."""
        # The count bound goes by revision: each write takes one revision and
        # one event, so the last N revisions hold the last N events.
        floor = 0 if retention.events is None else self.revision() - retention.events
        cutoff = 0 if retention.seconds is None else time.time_ns() - int(retention.seconds * 1e9)
        doomed = []
        for event in self._oldest_events(limit):
            if event.revision > floor and event.time.ToNanoseconds() >= cutoff:
                break  # the feed is in revision order: every later event is kept too
            doomed.append(event)
        for event in doomed:
            self._drop_event(event)
        if doomed:
            self._set_compacted(doomed[-1].revision)
            self.state.touched()
        return len(doomed)


# How the local backends' watch polls: soon after a write, backing off while quiet.
WATCH_POLL, WATCH_MAX_POLL, WATCH_BATCH = 0.005, 0.25, 1000
COMPACT_BATCH = 500  # events per compaction transaction: short, so writers barely wait


def _kept_since(reader: Reader, revision: int) -> None:
    """Raises Expired when events after ``revision`` may have been compacted away."""
    compacted = reader.compacted()
    if revision < compacted:
        raise Expired(revision, compacted)


def _next_batch(store: _Snapshots, revision: int) -> EventList:
    """The events after ``revision`` in one snapshot, or Expired if some are gone."""
    with store.read() as r:
        if r.revision() <= revision:  # the cheap check, and the usual answer
            return []
        _kept_since(r, revision)
        return r.events_since(revision, limit=WATCH_BATCH)


def _following(
    store: _Snapshots, revision: int, stop: threading.Event, heartbeat: float | None
) -> Iterator[EventList]:
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


class NothingToCommit(Exception):
    """Raised inside a backend's transaction block to abort it and return ``result``."""

    def __init__(self, result: object) -> None:
        self.result = result


# -- convenience methods ----------------------------------------------------------


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


class _Snapshots(Protocol):
    def read(self) -> AbstractContextManager[Reader]: ...


class _Transacts(_Finds, _Snapshots, Protocol):
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
        self: _Snapshots,
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
            _kept_since(r, start)
        return _following(self, start, stop or threading.Event(), heartbeat)

    def compact(self: _Transacts, retention: Retention | None = None) -> int:
        """Drops the events ``retention`` lets go, COMPACT_BATCH per transaction."""
        from stigmer.store.protocol import Retention

        policy = retention or Retention()
        total = 0
        while dropped := self.transact(lambda w: w.trim_events(policy, limit=COMPACT_BATCH)):
            total += dropped
        return total

    def records(self: _Snapshots) -> Generator[Record, None, None]:
        """Everything stored, from one read snapshot held until the iterator ends."""
        with self.read() as r:
            yield from r.records()


# -- files ------------------------------------------------------------------------


def make_private_dir(path: Path) -> None:
    """Creates ``path`` (and its parents) with mode 0700 for the last part."""
    path.mkdir(parents=True, mode=0o700, exist_ok=True)  # another process may win the race
    path.chmod(0o700)  # mkdir's mode is masked by the umask


def on_readonly_media(path: Path) -> bool:
    """Whether ``path`` (or, for a file not yet made, its directory) is on a read-only mount."""
    where = path if path.exists() else path.parent
    try:
        return bool(os.statvfs(where).f_flag & os.ST_RDONLY)
    except OSError:  # missing: the caller's own checks say so
        return False


def harden_files(files: Iterable[Path]) -> None:
    """Keeps a store's files 0600; the libraries' modes are masked by the umask."""
    for f in files:
        if f.exists() and f.stat().st_mode & 0o177:
            log.warning("store file %s had mode %o; setting it to 600", f, f.stat().st_mode & 0o777)
            f.chmod(0o600)
