"""The Store protocol every backend implements, and its small value types.

Objects are addressed by their store key kind (``agent``, ``agent_instance``,
see ``stigmer.api.kinds``) and id. A backend keeps three indexes besides the
objects, so that lookups cost O(result): slug (``kind/org/slug`` -> id), org
(``kind/org/id``) and owner (``owner id`` -> owned ``kind/id``). Every write
appends an event to the change feed in the same transaction and takes a
revision of one global revision that only grows: every revision of a
transaction is above every revision of the transactions committed before it.
The writes of one transaction may share one revision (etcd's mod_revision),
assigned when it commits; events are ordered by (revision, index within the
transaction). Once committed, an object's ``metadata.resource_version`` is
the revision of its last write (docs/architecture.md, "The Store contract").

The feed is followed with ``watch`` and trimmed with ``compact`` under a
``Retention`` policy; a watch from a revision the policy already dropped
raises Expired, and the watcher lists again
(docs/architecture.md, "The Store contract"). Each object's events are
also indexed by object, so ``events_of`` costs what it returns.

``Reader.records`` and ``WriteTxn.restore`` copy a whole store between
backends (``stigmer migrate copy``): what one yields, the other writes back
as it was, with the same bytes and the same revisions.
"""

from __future__ import annotations

import builtins
import re
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypeVar

from stigmer.api.kinds import Resource
from stigmer.api.v1.event_pb2 import Event
from stigmer.errors import UsageError

if TYPE_CHECKING:
    from stigmer.store.leading import Leader
    from stigmer.store.registry import Limits
    from stigmer.store.selectors import Selector

T = TypeVar("T")

# Aliases, because "list" inside these classes names their method.
ResourceList = list[Resource]
EventList = list[Event]


# -- records: a store's contents, raw, for copying it whole ---------------------


@dataclass(frozen=True, slots=True)
class RevisionRecord:
    """The store's global revision, and the revision its feed was compacted up to."""

    revision: int
    compacted: int = 0


@dataclass(frozen=True, slots=True)
class ObjectRecord:
    """One object under its key, as stored: ``data`` is its protobuf, byte for byte."""

    kind: str
    id: str
    data: bytes


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One event of the change feed, as stored."""

    revision: int
    data: bytes


@dataclass(frozen=True, slots=True)
class MetaRecord:
    """One value of the metadata table (a ``set_meta`` key, not the backend's own)."""

    key: str
    value: str


@dataclass(frozen=True, slots=True)
class TupleRecord:
    """One relation tuple."""

    relation: str


Record = RevisionRecord | ObjectRecord | EventRecord | MetaRecord | TupleRecord

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, slots=True)
class Retention:
    """How much of the change feed ``compact`` keeps: the newest ``events``, or ``seconds``.

    An event goes once it is older than either bound that is set. The
    default keeps the last 100,000 revisions' events, a few tens of MB,
    whatever their age.
    """

    events: int | None = 100_000
    seconds: float | None = None

    @classmethod
    def parse(cls, text: str) -> Retention:
        """``50000`` keeps that many events; ``90s``, ``30m``, ``12h`` or ``7d`` an age."""
        match = re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", text)
        if match is None or int(match[1]) == 0:
            raise UsageError(
                f'retention "{text}" is neither a count of events (100000) '
                "nor an age (90s, 30m, 12h, 7d) above zero"
            )
        number, unit = int(match[1]), match[2]
        return cls(events=number) if not unit else cls(events=None, seconds=number * _UNITS[unit])


class Reader(Protocol):
    """Reads from one consistent snapshot (or the latest state, for a Store)."""

    def get(self, kind: str, id: str) -> Resource:
        """The object, or NotFound."""
        ...

    def find(self, kind: str, id: str) -> Resource | None:
        """The object, or None."""
        ...

    def get_by_slug(self, kind: str, org: str, slug: str) -> Resource:
        """The object with this (kind, org, slug), or NotFound."""
        ...

    def find_by_slug(self, kind: str, org: str, slug: str) -> Resource | None:
        """The object with this (kind, org, slug), or None."""
        ...

    def list(
        self, kind: str, *, org: str | None = None, selector: Selector | None = None
    ) -> ResourceList:
        """Objects of a kind, in id order; only one org's when ``org`` is given."""
        ...

    def list_owned(self, owner_id: str, kind: str | None = None) -> ResourceList:
        """Objects whose owner references name ``owner_id``."""
        ...

    def count(self, kind: str, *, org: str | None = None) -> int:
        """How many objects of a kind (in one org) there are, without decoding them."""
        ...

    def orgs(self, kind: str) -> builtins.list[str]:
        """The orgs that hold at least one object of a kind."""
        ...

    def revision(self) -> int:
        """The global revision: that of the last committed write, 0 when empty."""
        ...

    def get_meta(self, key: str) -> str | None:
        """A value of the store's metadata table."""
        ...

    def compacted(self) -> int:
        """The revision up to which ``compact`` dropped events; 0 when it dropped none."""
        ...

    def events_since(self, revision: int, limit: int | None = None) -> EventList:
        """Events with a revision greater than ``revision``, by (revision, index).

        ``limit`` never splits one revision's events: the last revision
        returned comes whole, so that the next call may start after it.
        """
        ...

    def events_of(self, kind: str, id: str, *, limit: int = 10) -> EventList:
        """The newest ``limit`` events of one object, oldest first, through its index."""
        ...

    def tuples(self, prefix: str = "") -> builtins.list[str]:
        """Stored relation tuples (``org:acme#editor@user:bob``) with a prefix."""
        ...

    def records(self) -> Generator[Record, None, None]:
        """Everything stored, raw, for copying the store whole.

        The revision comes first, then the objects, the events, the meta
        values and the tuples. On a Store the iterator holds one read
        snapshot until it is exhausted or closed: consume it at once.
        """
        ...


class WriteTxn(Reader, Protocol):
    """A write transaction: everything in it commits together or not at all."""

    def put(self, obj: Resource, *, expected_version: int | None = None) -> Resource:
        """Writes ``obj`` with its indexes and an event; sets its resource_version.

        Within the transaction, that resource_version is one a compare-and-swap
        later in the same transaction names; a backend that assigns revisions at
        commit time may set the committed one only then. Read the object again
        after the commit for the revision it has.

        ``expected_version`` makes the write a compare-and-swap: 0 means the
        object must not exist yet, N means its resource_version must be N.
        Raises Conflict when it does not hold, and AlreadyExists when another
        object holds the (kind, org, slug).
        """
        ...

    def delete(self, kind: str, id: str, *, expected_version: int | None = None) -> Resource | None:
        """Deletes an object, its index entries and appends an event.

        Returns the deleted object, or None when there was none (not an error).
        """
        ...

    def delete_all(self, kind: str) -> int:
        """Deletes every object of a kind; returns how many there were."""
        ...

    def set_meta(self, key: str, value: str) -> None:
        """Sets a value of the store's metadata table."""
        ...

    def add_tuple(self, tuple_: str) -> bool:
        """Records a relation tuple; False when it was already there."""
        ...

    def remove_tuple(self, tuple_: str) -> bool:
        """Removes a relation tuple; False when it was not there."""
        ...

    def restore(self, record: Record) -> None:
        """Writes a record of another store's ``records()`` back as it was.

        An object keeps its bytes, so its resource_version, and gets its
        index entries; an event keeps its revision and bytes; meta values
        and tuples are set. The global revision moves forward to the
        highest revision restored, never back. Nothing is appended to the
        change feed and no revision is taken: this copies a store whole
        into an empty one (backup and restore), it is not a write of
        today. Raises AlreadyExists when another object holds the
        restored object's (kind, org, slug).
        """
        ...

    def trim_events(self, retention: Retention, *, limit: int) -> int:
        """Drops at most ``limit`` of the oldest events ``retention`` lets go; how many.

        The compacted revision moves up to the newest one dropped.
        """
        ...

    @property
    def writes(self) -> int:
        """How many writes of any kind this transaction has made; it never goes back."""
        ...

    def prefetch(self, slugs: Iterable[tuple[str, str, str]]) -> None:
        """A hint: the objects these (kind, org, slug) name are about to be read.

        A backend whose reads are round trips to a server (etcd) reads them,
        and what it keeps beside them, at once; the others ignore it. What is
        read stays the same: only the number of round trips changes.
        """
        ...

    def nested(self, fn: Callable[[WriteTxn], T]) -> T:
        """Runs ``fn`` in a nested transaction and returns its result.

        If ``fn`` raises, everything it wrote is undone (revisions and events
        too) and the exception propagates; the outer transaction goes on.
        """
        ...

    @property
    def events(self) -> builtins.list[Event]:
        """The events of this transaction so far, one per object written.

        Writing one object several times in a transaction gives one event:
        its first type (created stays created), its last state.
        """
        ...


@dataclass(slots=True)
class Stats:
    """What ``stigmer store stats`` prints."""

    revision: int
    bytes_on_disk: int
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # kind -> org -> n


class Store(Reader, Protocol):
    """A store backend. Every method raises StoreClosed after close()."""

    url: str

    # -- what the backend declares (stigmer.store.registry) ---------------------

    limits: Limits  # its chunk size, its largest transaction, its feed's delivery

    def leader(self) -> Leader:
        """The leadership of this store (stigmer.store.leading), not yet acquired."""
        ...

    def transact(self, fn: Callable[[WriteTxn], T], *, actor: str = "") -> T:
        """Runs ``fn`` in one write transaction and commits it, returning fn's result.

        A transaction in which nothing was written is aborted instead of
        committed: no fsync, no new revision.

        ``fn`` may be run again if the backend had to grow (LMDB's map), so it
        must not have effects outside the transaction: what it finds goes
        into its result, and it leaves its inputs as a second run would read
        them (docs/architecture.md, "The Store contract"). An exception from
        ``fn`` aborts the transaction. ``actor`` is recorded in the events.
        """
        ...

    def put(
        self, obj: Resource, *, expected_version: int | None = None, actor: str = ""
    ) -> Resource:
        """Writes one object in a transaction of its own (see WriteTxn.put)."""
        ...

    def delete(self, kind: str, id: str, *, actor: str = "") -> Resource | None:
        """Deletes one object in a transaction of its own (see WriteTxn.delete)."""
        ...

    def delete_all(self, kind: str, *, actor: str = "") -> int:
        """Deletes every object of a kind in one transaction."""
        ...

    def read(self) -> AbstractContextManager[Reader]:
        """A consistent snapshot for several reads; keep it short."""
        ...

    def iter_events(self, revision: int = 0) -> Iterator[Event]:
        """Every stored event after ``revision``, in batches; cheap on memory."""
        ...

    def watch(
        self,
        from_revision: int | None = None,
        *,
        stop: threading.Event | None = None,
        heartbeat: float | None = None,
    ) -> Iterator[EventList]:
        """Batches of the events after ``from_revision`` (None: now), as they commit.

        Every process's writes arrive, oldest first, until ``stop`` is set.
        With ``heartbeat``, an empty batch comes after that many seconds of
        quiet, so the caller can do other work. Raises Expired, at the call
        or later, once events the watch has not delivered were compacted:
        the caller lists again and watches from the list's revision.
        """
        ...

    def compact(self, retention: Retention | None = None) -> int:
        """Drops the events ``retention`` (default: Retention()) lets go; how many.

        It runs in small write transactions, so readers and writers go on
        meanwhile, and a watcher it overtakes gets Expired.
        """
        ...

    def check(self) -> builtins.list[str]:
        """Problems found by a full consistency check; empty when all is well."""
        ...

    def repair(self) -> builtins.list[str]:
        """Rebuilds every index from the objects in one transaction; what it changed.

        Objects that cannot be decoded keep no index entry (``check`` goes on
        reporting them), and a revision behind the newest event or object is
        raised, so that no revision is used twice.
        """
        ...

    def stats(self) -> Stats:
        """Counts per kind and org, the revision and the size on disk."""
        ...

    def close(self) -> None:
        """Releases the store. Idempotent."""
        ...
