"""The etcd backend: ``etcd://HOST:PORT[,HOST:PORT...][/PREFIX]``, for a team's shared store.

Layout, every key under the prefix (``/stigmer`` by default), parts joined by NUL
(ids may hold "/", never NUL)::

    PREFIX/registry NUL kind NUL id            -> the object's protobuf
    PREFIX/slug NUL kind NUL org NUL slug      -> id
    PREFIX/org NUL kind NUL org NUL id         -> ""
    PREFIX/owner NUL owner-id NUL kind NUL id  -> ""
    PREFIX/events NUL kind NUL id NUL token.N  -> an Event (N: its place in its transaction)
    PREFIX/meta NUL key                        -> value ("x:" + a set_meta key, or "compacted")
    PREFIX/tuples NUL tuple                    -> ""
    PREFIX/revision                            -> "" (written by every commit)
    PREFIX/leader                              -> the leading replica, under its lease

Revisions are etcd's (docs/architecture.md, "The Store contract"): an object's
resource_version is its key's mod_revision and an event's revision its key's
create_revision, set when they are read; every write of one transaction
shares the revision etcd gives the transaction. ``revision()`` is the
mod_revision of ``PREFIX/revision``, so it is 0 for an empty store and moves
only with this store's writes, not with other prefixes' or with leases.

A write transaction reads at the revision it started from and buffers its
writes; the commit is one etcd transaction that compares the mod_revision of
every key it read (0: absent), including every key a listing returned (so a
delete since is seen), and that no range it listed gained a key, then writes
everything; above etcd's compare limit, the revision key stands for them all.
A lost race fails the compares and the callback runs again, as the Store
contract allows. A leader's store also compares the leader key's
create_revision, so a replica that lost leadership cannot write.

Reads are round trips, so a batch hands each chunk's slugs to ``prefetch``
(two multi-gets), and a create's own keys are taken as absent without
asking, compared as such at the commit
(docs/architecture.md, "The etcd backend").

A write set above etcd's limits (128 operations, 1.5 MiB a request by
default) fails naming the limit, except a copy's restores (``migrate copy``),
which split between records: each object with its index entries stays whole.
Restores cannot set etcd's revisions, so a copy into etcd re-bases them.
"""

from __future__ import annotations

import builtins
import os
import random
import time
import uuid
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from stigmer.api import kinds
from stigmer.api.kinds import Resource
from stigmer.api.v1.event_pb2 import Event
from stigmer.errors import Conflict, StoreClosed, StoreError, UsageError
from stigmer.store import etcdclient as ec
from stigmer.store import registry
from stigmer.store.checking import Indexes, compare, decode_objects
from stigmer.store.feed import WATCH_BATCH, Compacting, kept_since
from stigmer.store.objects import decode, make_event, matching
from stigmer.store.rules import (
    MAX_KEY_BYTES,
    check_identity,
    check_key_size,
    check_version,
    slug_taken,
)
from stigmer.store.shortcuts import Lookups, Shortcuts
from stigmer.store.writing import Nesting, Removing, Restoring, WriteState

if TYPE_CHECKING:
    import threading

    from stigmer.store.leading import Leader
    from stigmer.store.protocol import (
        EventList,
        Reader,
        Record,
        ResourceList,
        Retention,
        Stats,
        T,
        WriteTxn,
    )
    from stigmer.store.selectors import Selector

DEFAULT_PREFIX = "/stigmer"
_RETRIES = 20  # how often a transaction that lost a race runs again before Conflict
_READS_PER_TXN = 128  # etcd's default --max-txn-ops: the reads one multi-get sends
_SEP = b"\0"
_ENV = {"ca": "STIGMER_ETCD_CA", "cert": "STIGMER_ETCD_CERT", "key": "STIGMER_ETCD_KEY"}


class Keys:
    """The key layout under one prefix (see the module's docstring)."""

    def __init__(self, prefix: str) -> None:
        self.root = prefix.rstrip("/").encode()
        self.revision = self.root + b"/revision"
        self.leader = self.root + b"/leader"

    def part(self, name: str, *parts: str) -> bytes:
        """``PREFIX/name NUL part NUL part ...``; with a trailing NUL, a range's prefix."""
        return self.root + b"/" + name.encode() + b"".join(_SEP + p.encode() for p in parts)

    def under(self, name: str, *parts: str) -> bytes:
        return self.part(name, *parts) + _SEP

    def fields(self, key: bytes, name: str) -> list[str]:
        """The parts of a key made by ``part(name, ...)``."""
        return key[len(self.part(name)) + 1 :].decode().split("\0")

    def triple(self, key: bytes, name: str) -> tuple[str, str, str]:
        """The three parts of an index key (kind, org, slug; kind, org, id; owner, kind, id)."""
        a, b, c = self.fields(key, name)
        return a, b, c


def parse_url(rest: str) -> tuple[list[str], str, dict[str, str]]:
    """``//HOST:PORT[,HOST:PORT][/PREFIX][?ca=&cert=&key=&user=&password=]``."""
    text, _, query = rest.partition("?")
    if not text.startswith("//"):
        raise UsageError(
            f'etcd store "etcd:{rest}": expected etcd://HOST:PORT[,HOST:PORT][/PREFIX]'
        )
    hosts, slash, prefix = text[2:].partition("/")
    endpoints = [h for h in hosts.split(",") if h]
    if not endpoints or any(":" not in h for h in endpoints):
        raise UsageError(f'etcd store "etcd:{rest}": every endpoint needs HOST:PORT')
    options = {k: v[-1] for k, v in parse_qs(query).items()}
    return endpoints, ("/" + prefix if slash and prefix else DEFAULT_PREFIX), options


def _tls(options: dict[str, str]) -> ec.Tls:
    """TLS and auth from the URL's query, else from the environment (the CLI's options)."""

    def pick(name: str, env: str) -> str:
        return options.get(name) or os.environ.get(env, "")

    return ec.Tls(
        ca=pick("ca", _ENV["ca"]),
        cert=pick("cert", _ENV["cert"]),
        key=pick("key", _ENV["key"]),
        user=pick("user", "STIGMER_ETCD_USER"),
        password=pick("password", "STIGMER_ETCD_PASSWORD"),
    )


class _EtcdReader(Lookups):
    """Reads at one revision (``at``; 0: the latest), through ``_value`` and ``_scan``."""

    def __init__(self, client: ec.EtcdClient, keys: Keys, at: int) -> None:
        self.client, self.keys, self.at = client, keys, at

    # -- the raw reads a write transaction overlays with its own writes -------------

    def _value(self, key: bytes) -> tuple[bytes, int] | None:
        """(value, mod_revision) of one key, or None."""
        kvs = self.client.range(key, revision=self.at).kvs
        return (kvs[0].value, kvs[0].mod_revision) if kvs else None

    def _scan(self, prefix: bytes, *, keys_only: bool = False) -> list[tuple[bytes, bytes, int]]:
        """(key, value, mod_revision) of every key under ``prefix``, in key order."""
        response = self.client.range(
            prefix, ec.prefix_end(prefix), revision=self.at, keys_only=keys_only
        )
        return [(kv.key, kv.value, kv.mod_revision) for kv in response.kvs]

    def _values(self, keys: builtins.list[bytes]) -> builtins.list[tuple[bytes, int] | None]:
        """``_value`` of each key, in as few round trips as etcd's limit on a transaction allows."""
        found = {
            kv.key: (kv.value, kv.mod_revision)
            for _, kvs in self._reads([(key, b"") for key in keys])
            for kv in kvs
        }
        return [found.get(key) for key in keys]

    def _reads(
        self, wanted: builtins.list[tuple[bytes, bytes]]
    ) -> Iterator[tuple[tuple[bytes, bytes], Any]]:
        """Each (key, range end) read at ``at``, with the kvs found, ``_READS_PER_TXN`` a trip."""
        for start in range(0, len(wanted), _READS_PER_TXN):
            part = wanted[start : start + _READS_PER_TXN]
            ops = [ec.get(key, end, revision=self.at) for key, end in part]
            replies = self.client.txn([], ops, []).responses
            yield from zip(part, (r.response_range.kvs for r in replies), strict=True)

    def _object(self, kind: str, blob: bytes, mod: int) -> Resource:
        obj = decode(kind, blob)
        if mod:  # stored: its version is its key's mod_revision; else this transaction's own
            obj.metadata.resource_version = mod
        return obj

    # -- the Reader protocol ----------------------------------------------------

    def find(self, kind: str, id: str) -> Resource | None:
        found = self._value(self.keys.part("registry", kind, id))
        return None if found is None else self._object(kind, *found)

    def find_by_slug(self, kind: str, org: str, slug: str) -> Resource | None:
        holder = self._value(self.keys.part("slug", kind, org, slug))
        return None if holder is None else self.find(kind, holder[0].decode())

    def list(
        self, kind: str, *, org: str | None = None, selector: Selector | None = None
    ) -> ResourceList:
        if org is None:
            rows = [(v, m) for _, v, m in self._scan(self.keys.under("registry", kind))]
        else:  # the org's index entries, then their objects: O(result), not O(kind)
            index = self._scan(self.keys.under("org", kind, org), keys_only=True)
            ids = [self.keys.fields(key, "org")[2] for key, _, _ in index]
            held = self._values([self.keys.part("registry", kind, id) for id in ids])
            rows = [row for row in held if row is not None]
        return matching([self._object(kind, v, m) for v, m in rows], selector)

    def list_owned(self, owner_id: str, kind: str | None = None) -> ResourceList:
        prefix = (
            self.keys.under("owner", owner_id)
            if kind is None
            else self.keys.under("owner", owner_id, kind)
        )
        found = []
        for key, _, _ in self._scan(prefix, keys_only=True):
            owned_kind, id = key[len(self.keys.under("owner", owner_id)) :].decode().split("\0", 1)
            obj = self.find(owned_kind, id)
            if obj is not None:
                found.append(obj)
        return found

    def count(self, kind: str, *, org: str | None = None) -> int:
        prefix = (
            self.keys.under("registry", kind) if org is None else self.keys.under("org", kind, org)
        )
        return len(self._scan(prefix, keys_only=True))

    def orgs(self, kind: str) -> builtins.list[str]:
        return sorted(
            {
                self.keys.fields(k, "org")[1]
                for k, _, _ in self._scan(self.keys.under("org", kind), keys_only=True)
            }
        )

    def revision(self) -> int:
        found = self._value(self.keys.revision)
        return 0 if found is None else found[1]

    def get_meta(self, key: str) -> str | None:
        found = self._value(self.keys.part("meta", "x:" + key))
        return None if found is None else found[0].decode()

    def tuples(self, prefix: str = "") -> builtins.list[str]:
        return [
            self.keys.fields(k, "tuples")[0]
            for k, _, _ in self._scan(self.keys.part("tuples", prefix), keys_only=True)
        ]

    def compacted(self) -> int:
        found = self._value(self.keys.part("meta", "compacted"))
        return 0 if found is None else int(found[0])

    def _events(self, prefix: bytes, **options: Any) -> builtins.list[tuple[Event, bytes]]:
        """Events under ``prefix`` with their keys, in (revision, place) order."""
        kvs = self.client.range(prefix, ec.prefix_end(prefix), revision=self.at, **options).kvs
        return _events(kvs)

    def events_since(self, revision: int, limit: int | None = None) -> EventList:
        if limit == 0:
            return []
        prefix = self.keys.under("events")
        response = self.client.range(
            prefix,
            ec.prefix_end(prefix),
            revision=self.at,
            sort="create",
            min_create=revision + 1,
            limit=limit or 0,
        )
        kvs = builtins.list(response.kvs)
        if limit and response.more and kvs:  # the last revision comes whole
            last = kvs[-1].create_revision
            kvs = [kv for kv in kvs if kv.create_revision != last]
            kvs += self.client.range(
                prefix, ec.prefix_end(prefix), revision=self.at, min_create=last, max_create=last
            ).kvs
        return [event for event, _ in _events(kvs)]

    def events_of(self, kind: str, id: str, *, limit: int = 10) -> EventList:
        if limit <= 0:
            return []
        found = self._events(self.keys.under("events", kind, id))
        return [event for event, _ in found[-limit:]]

    def records(self) -> Generator[Record, None, None]:
        from stigmer.store.protocol import (
            EventRecord,
            MetaRecord,
            ObjectRecord,
            RevisionRecord,
            TupleRecord,
        )

        # etcd's events share their transaction's revision, and an embedded
        # backend keys each event by its revision: so the copy numbers the
        # events 1, 2, 3... in feed order (objects whose writes were compacted
        # away take 1), and each object takes the number of its last write's event.
        events = [event for event, _ in self._events(self.keys.under("events"))]
        start = 2 if events else 1
        exact, newest = {}, {}
        for n, event in enumerate(events, start):
            exact[(event.revision, event.kind, event.id)] = newest[(event.kind, event.id)] = n
        objects = []
        for key, blob, mod in self._scan(self.keys.under("registry")):
            kind, id = self.keys.fields(key, "registry")
            obj = decode(kind, blob)
            obj.metadata.resource_version = exact.get((mod, kind, id)) or newest.get((kind, id), 1)
            objects.append(ObjectRecord(kind, id, obj.SerializeToString()))
        last = start + len(events) - 1 if events else (1 if objects else 0)
        yield RevisionRecord(last, 1 if self.compacted() and last else 0)
        yield from objects
        for n, event in enumerate(events, start):
            event.revision = n
            yield EventRecord(n, event.SerializeToString())
        for key, value, _ in self._scan(self.keys.part("meta", "x:")):
            yield MetaRecord(self.keys.fields(key, "meta")[0][2:], value.decode())
        yield from (TupleRecord(t) for t in self.tuples())

    def stored_indexes(self) -> Indexes:
        k = self.keys
        return Indexes(
            slugs={
                k.triple(key, "slug"): value.decode()
                for key, value, _ in self._scan(k.under("slug"))
            },
            by_org={
                k.triple(key, "org") for key, _, _ in self._scan(k.under("org"), keys_only=True)
            },
            by_owner={
                k.triple(key, "owner") for key, _, _ in self._scan(k.under("owner"), keys_only=True)
            },
        )

    def stored_objects(self) -> builtins.list[tuple[str, str, bytes]]:
        """(kind, id, bytes) of every object, for check() and repair()."""
        out = []
        for key, blob, _ in self._scan(self.keys.under("registry")):
            kind, id = self.keys.fields(key, "registry")
            out.append((kind, id, blob))
        return out


def _events(kvs: Any) -> builtins.list[tuple[Event, bytes]]:
    """Stored events, their revision set from their key's, sorted by (revision, place)."""
    found = []
    for kv in kvs:
        event = Event.FromString(kv.value)
        event.revision = kv.create_revision
        place = int(kv.key.rsplit(b".", 1)[1])
        found.append((kv.create_revision, place, event, kv.key))
    found.sort(key=lambda f: (f[0], f[1]))
    return [(event, key) for _, _, event, key in found]


class _EtcdWriteTxn(_EtcdReader, Nesting, Removing, Restoring, Compacting):
    """Reads at the start revision, buffers writes; ``commit_ops`` is what etcd gets."""

    def __init__(self, client: ec.EtcdClient, keys: Keys, at: int, actor: str) -> None:
        super().__init__(client, keys, at)
        self.state = WriteState(at, actor, time.time_ns())
        self.buffer: dict[bytes, bytes | None] = {}  # key -> value, None: deleted
        self.reads: dict[bytes, int] = {}  # key -> the mod_revision read (0: absent)
        self.seen: dict[bytes, tuple[bytes, int] | None] = {}  # what etcd held at ``at``
        self.ranges: set[bytes] = set()  # prefixes listed
        # Prefixes read whole at ``at`` (``prefetch``): a key under one that is not
        # in ``seen`` is absent, with no round trip.
        self.covered: builtins.list[bytes] = []
        # Prefixes assumed empty (``_assume_new``) -> whether a read relied on that;
        # the commit then compares that the range is still empty.
        self.assumed: dict[bytes, bool] = {}
        self.optimistic = True  # may assume a create's keys absent (off once a commit failed)
        # restored events, in order: (the record's number, key prefix, bytes)
        self.restored: builtins.list[tuple[int, bytes, bytes]] = []
        self.restores = 0  # how many records were restored
        self.unit: dict[bytes, int] = {}  # key -> the record it was restored by
        self.plain = False  # a write that is not a restore: the transaction cannot split
        self.base = 0  # the store's revision key's mod_revision when the transaction began
        self._saved: builtins.list[Any] = []
        self._event_keys: dict[tuple[int, str, str], bytes] = {}

    @property
    def events(self) -> builtins.list[Event]:
        return self.state.events

    # -- reads through the buffer -------------------------------------------------

    def _value(self, key: bytes) -> tuple[bytes, int] | None:
        if key in self.buffer:
            value = self.buffer[key]
            return None if value is None else (value, 0)
        if self._assumed(key):
            return None
        if key in self.seen:  # reads are at one revision: the second costs no round trip
            found = self.seen[key]
        elif self._covered(key):
            found = self.seen[key] = None
        else:
            found = self.seen[key] = super()._value(key)
        self.reads.setdefault(key, 0 if found is None else found[1])  # compared at the commit
        return found

    def _values(self, keys: builtins.list[bytes]) -> builtins.list[tuple[bytes, int] | None]:
        self._fetch([(k, b"") for k in keys if k not in self.seen and k not in self.buffer])
        return [self._value(key) for key in keys]

    def _covered(self, key: bytes) -> bool:
        return any(key.startswith(prefix) for prefix in self.covered)

    def _assumed(self, key: bytes) -> bool:
        """Whether ``key`` lies under a prefix assumed empty; marks that prefix relied on."""
        for prefix in self.assumed:
            if key.startswith(prefix):
                self.assumed[prefix] = True
                return True
        return False

    def _scan(self, prefix: bytes, *, keys_only: bool = False) -> list[tuple[bytes, bytes, int]]:
        if self._assumed(prefix):
            found: builtins.list[tuple[bytes, bytes, int]] = []
        elif self._covered(prefix):
            self.ranges.add(prefix)
            found = [(k, *kv) for k, kv in self.seen.items() if kv and k.startswith(prefix)]
        else:
            self.ranges.add(prefix)
            found = super()._scan(prefix, keys_only=keys_only)
        for key, _, mod in found:  # a key deleted before the commit fails its compare
            self.reads.setdefault(key, mod)
        rows = {k: (v, m) for k, v, m in found}
        for key, value in self.buffer.items():
            if key.startswith(prefix):
                if value is None:
                    rows.pop(key, None)
                else:
                    rows[key] = (value, 0)
        return [(k, v, m) for k, (v, m) in sorted(rows.items())]

    def revision(self) -> int:
        return self.state.revision

    # -- reading ahead --------------------------------------------------------------

    def prefetch(self, slugs: Iterable[tuple[str, str, str]]) -> None:
        """Reads the slug keys, then the objects they name and the tuples about them.

        Two round trips for a whole chunk instead of a few per object. Only the
        keys the pipeline then consults are compared at the commit.
        """
        wanted = [self.keys.part("slug", *s) for s in slugs]
        self._fetch([(key, b"") for key in dict.fromkeys(wanted) if key not in self.seen])
        then: builtins.list[tuple[bytes, bytes]] = []
        for key in wanted:
            holder = self.seen.get(key)
            if holder is not None:
                kind = self.keys.fields(key, "slug")[0]
                then += self._about(kind, holder[0].decode())
        self._fetch([(key, end) for key, end in then if key not in self.seen])

    def _about(self, kind: str, id: str) -> builtins.list[tuple[bytes, bytes]]:
        """The object's key, and the range of the tuples about it (stigmer.iam.object_key)."""
        tuples = self.keys.part("tuples", f"{kind}:{id}#")
        return [(self.keys.part("registry", kind, id), b""), (tuples, ec.prefix_end(tuples))]

    def _fetch(self, wanted: builtins.list[tuple[bytes, bytes]]) -> None:
        """Reads keys and ranges at ``at`` into ``seen``, as few transactions as etcd takes."""
        for (key, end), kvs in self._reads(wanted):
            for kv in kvs:
                self.seen[kv.key] = (kv.value, kv.mod_revision)
            if end:
                self.covered.append(key)
            elif not kvs:
                self.seen[key] = None

    def _assume_new(self, kind: str, id: str) -> None:
        """A create (expected_version 0): its key and the keys about its id count as absent.

        Its id is new (a fresh ULID, or the manifest's), so no round trip asks.
        The commit compares that the key and each range relied on are still
        empty; if one was not, the commit fails and the transaction runs again
        without this assumption, reading etcd.
        """
        self.seen[self.keys.part("registry", kind, id)] = None
        for prefix in (self.keys.part("tuples", f"{kind}:{id}#"), self.keys.under("owner", id)):
            self.assumed.setdefault(prefix, False)

    # -- writes -------------------------------------------------------------------

    def _set(self, key: bytes, value: bytes | None) -> None:
        self.buffer[key] = value
        if self._restoring is not None:
            self.unit[key] = self._restoring

    _restoring: int | None = None  # the number of the record being restored

    def restore(self, record: Record) -> None:
        self.restores += 1
        self._restoring = self.restores
        try:
            Restoring.restore(self, record)
        finally:
            self._restoring = None

    def put(self, obj: Resource, *, expected_version: int | None = None) -> Resource:
        self.plain = True
        kind = kinds.of(obj).key
        check_identity(kind, obj)
        md = obj.metadata
        key = self.keys.part("registry", kind, md.id)
        if (
            self.optimistic
            and expected_version == 0
            and key not in self.seen
            and key not in self.buffer
        ):
            self._assume_new(kind, md.id)
        old = self.find(kind, md.id)
        if expected_version is not None:
            check_version(kind, md.id, old, expected_version)
        self._claim_slug(kind, obj)
        if old is not None:
            self._drop_indexes(kind, old, keep=obj)
        revision, type_ = self.state.next_for_put(kind, md.id, old is not None)
        md.resource_version = revision  # this transaction's; the commit's once stored
        self._write(kind, obj, obj.SerializeToString())
        self._append_event(type_, kind, obj, revision)
        return obj

    def _claim_slug(self, kind: str, obj: Resource) -> None:
        md = obj.metadata
        holder = self._value(self.keys.part("slug", kind, md.org, md.slug))
        if holder is not None and holder[0].decode() != md.id:
            raise slug_taken(kind, md.slug, md.org)

    def _write(self, kind: str, obj: Resource, blob: bytes) -> None:
        md, k = obj.metadata, self.keys
        self._set(k.part("registry", kind, md.id), blob)
        self._set(k.part("slug", kind, md.org, md.slug), md.id.encode())
        self._set(k.part("org", kind, md.org, md.id), b"")
        for ref in md.owner_references:
            self._set(k.part("owner", ref.id, kind, md.id), b"")

    def _append_event(self, type_: int, kind: str, obj: Resource, revision: int) -> None:
        st = self.state
        st.record(make_event(type_, kind, obj, revision=revision, actor=st.actor, now_ns=st.now_ns))

    def _drop_indexes(self, kind: str, old: Resource, keep: Resource | None = None) -> None:
        md, k = old.metadata, self.keys
        if keep is None or (keep.metadata.org, keep.metadata.slug) != (md.org, md.slug):
            self._set(k.part("slug", kind, md.org, md.slug), None)
        if keep is None or keep.metadata.org != md.org:
            self._set(k.part("org", kind, md.org, md.id), None)
        kept = {ref.id for ref in keep.metadata.owner_references} if keep else set()
        for owner in {ref.id for ref in md.owner_references} - kept:
            self._set(k.part("owner", owner, kind, md.id), None)

    def _remove_object(self, kind: str, id: str) -> None:
        self.plain = True
        self._set(self.keys.part("registry", kind, id), None)

    def delete_all(self, kind: str) -> int:
        ids = [
            self.keys.fields(k, "registry")[1]
            for k, _, _ in self._scan(self.keys.under("registry", kind), keys_only=True)
        ]
        for id in ids:
            self.delete(kind, id)
        return len(ids)

    def set_meta(self, key: str, value: str) -> None:
        check_key_size("x:" + key, "meta key")
        self.state.touched()
        self._set(self.keys.part("meta", "x:" + key), value.encode())

    def add_tuple(self, tuple_: str) -> bool:
        check_key_size(tuple_, "relation")
        key = self.keys.part("tuples", tuple_)
        if self._value(key) is not None:
            return False
        self.state.touched()
        self._set(key, b"")
        return True

    def remove_tuple(self, tuple_: str) -> bool:
        if len(tuple_.encode()) > MAX_KEY_BYTES:
            return False
        key = self.keys.part("tuples", tuple_)
        if self._value(key) is None:
            return False
        self.state.touched()
        self._set(key, None)
        return True

    # -- restores, compaction and nesting -------------------------------------------

    def _restore_object(self, kind: str, obj: Resource, blob: bytes) -> None:
        self._claim_slug(kind, obj)
        old = self.find(kind, obj.metadata.id)
        if old is not None:
            self._drop_indexes(kind, old, keep=obj)
        self._write(kind, obj, blob)

    def _restore_event(self, revision: int, blob: bytes) -> None:
        event = Event.FromString(blob)
        self.restored.append((self.restores, self.keys.part("events", event.kind, event.id), blob))

    def _oldest_events(self, limit: int) -> builtins.list[Event]:
        prefix = self.keys.under("events")
        response = self.client.range(
            prefix, ec.prefix_end(prefix), revision=self.at, sort="create", limit=limit
        )
        found = _events(response.kvs)
        for event, key in found:
            self._event_keys[(event.revision, event.kind, event.id)] = key
        return [event for event, _ in found]

    def _kept_by_count(self, retention: Retention) -> Callable[[int, Event], bool]:
        """The count goes by events, not by revision numbers as the local
        backends' may: etcd's revisions also count other prefixes and leases."""
        if retention.events is None:
            return lambda _n, _event: True
        prefix = self.keys.under("events")
        total = self.client.range(
            prefix, ec.prefix_end(prefix), revision=self.at, count_only=True
        ).count
        excess = total - retention.events
        return lambda n, _event: n >= excess

    def _drop_event(self, event: Event) -> None:
        self._set(self._event_keys[(event.revision, event.kind, event.id)], None)

    def _set_compacted(self, revision: int) -> None:
        self._set(self.keys.part("meta", "compacted"), str(revision).encode())

    def _begin_nested(self) -> None:
        self._saved.append((dict(self.buffer), len(self.restored), self.plain))

    def _end_nested(self, *, commit: bool) -> None:
        buffer, restored, plain = self._saved.pop()
        if not commit:
            self.buffer, self.plain = buffer, plain
            del self.restored[restored:]

    # -- the commit -------------------------------------------------------------

    def compares(self, fence: tuple[bytes, int] | None, limit: int) -> builtins.list[Any]:
        """What must still hold at the commit: every key read, range listed and absence assumed.

        A range's compare sees keys written since ``at``, not keys deleted, so
        every key a listing returned is also compared. When that is more than
        etcd takes in one transaction, the store's revision key stands for all
        of it: no commit of this store since ``at`` (coarser, never wrong).
        """
        out = [ec.mod_is(key, mod) for key, mod in self.reads.items()]
        out += [ec.range_unchanged_since(prefix, self.at) for prefix in sorted(self.ranges)]
        out += [ec.range_empty(prefix) for prefix, relied in self.assumed.items() if relied]
        if len(out) >= limit:
            out = [ec.mod_is(self.keys.revision, self.base)]
        if fence is not None:
            out.append(ec.created_at(*fence))
        return out

    def commit_ops(self) -> builtins.list[tuple[int, Any, int]]:
        """(unit, op, bytes) of every write: units keep a record's writes together."""
        token = uuid.uuid4().hex[:12]
        ops = []
        for key, value in self.buffer.items():
            op = ec.delete(key) if value is None else ec.put(key, value)
            ops.append((self.unit.get(key, -1), op, len(key) + len(value or b"")))
        for i, event in enumerate(self.state.events):
            key = (
                self.keys.part("events", event.kind, event.id)
                + f"{_SEP.decode()}{token}.{i}".encode()
            )
            blob = event.SerializeToString()
            ops.append((-1, ec.put(key, blob), len(key) + len(blob)))
        base = len(self.state.events)
        for i, (unit, prefix, blob) in enumerate(self.restored):
            key = prefix + f"{_SEP.decode()}{token}.{base + i}".encode()
            ops.append((unit, ec.put(key, blob), len(key) + len(blob)))
        return ops


class EtcdStore(Shortcuts):
    """The etcd-backed Store. Safe to share between threads and across fork()."""

    def __init__(self, rest: str, *, create: bool = True) -> None:
        endpoints, prefix, options = parse_url(rest)
        self.url = f"etcd://{','.join(endpoints)}{prefix}"
        self.limits = registry.BACKENDS["etcd"].limits
        self.keys = Keys(prefix)
        self.client = ec.EtcdClient(endpoints, _tls(options))
        self.fence: tuple[bytes, int] | None = None  # (leader key, its create_revision)
        self._closed = False

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosed(f"store {self.url} is closed")

    def _reader(self, at: int = 0) -> _EtcdReader:
        self._check_open()
        return _EtcdReader(self.client, self.keys, at)

    # -- reads --------------------------------------------------------------------

    @contextmanager
    def _snapshot(self) -> Iterator[_EtcdReader]:
        self._check_open()
        at = self.client.range(self.keys.revision, count_only=True).header.revision
        yield _EtcdReader(self.client, self.keys, at)

    def read(self) -> AbstractContextManager[Reader]:
        return self._snapshot()

    def find(self, kind: str, id: str) -> Resource | None:
        return self._reader().find(kind, id)

    def find_by_slug(self, kind: str, org: str, slug: str) -> Resource | None:
        # The slug now, then the object at the slug's revision: two round trips, one snapshot.
        self._check_open()
        response = self.client.range(self.keys.part("slug", kind, org, slug))
        if not response.kvs:
            return None
        at = response.header.revision
        return _EtcdReader(self.client, self.keys, at).find(kind, response.kvs[0].value.decode())

    def list(
        self, kind: str, *, org: str | None = None, selector: Selector | None = None
    ) -> ResourceList:
        if org is None:  # one range: one revision
            return self._reader().list(kind, selector=selector)
        with self._snapshot() as r:  # the org's index and its objects, of one revision
            return r.list(kind, org=org, selector=selector)

    def list_owned(self, owner_id: str, kind: str | None = None) -> ResourceList:
        with self._snapshot() as r:
            return r.list_owned(owner_id, kind)

    def count(self, kind: str, *, org: str | None = None) -> int:
        return self._reader().count(kind, org=org)

    def orgs(self, kind: str) -> builtins.list[str]:
        return self._reader().orgs(kind)

    def revision(self) -> int:
        return self._reader().revision()

    def get_meta(self, key: str) -> str | None:
        return self._reader().get_meta(key)

    def tuples(self, prefix: str = "") -> builtins.list[str]:
        return self._reader().tuples(prefix)

    def compacted(self) -> int:
        return self._reader().compacted()

    def events_since(self, revision: int, limit: int | None = None) -> EventList:
        with self._snapshot() as r:
            return r.events_since(revision, limit)

    def events_of(self, kind: str, id: str, *, limit: int = 10) -> EventList:
        return self._reader().events_of(kind, id, limit=limit)

    # -- writes -------------------------------------------------------------------

    def transact(self, fn: Callable[[WriteTxn], T], *, actor: str = "") -> T:
        for attempt in range(_RETRIES):
            self._check_open()
            response = self.client.range(self.keys.revision)
            w = _EtcdWriteTxn(self.client, self.keys, response.header.revision, actor)
            w.base = response.kvs[0].mod_revision if response.kvs else 0
            w.optimistic = attempt == 0
            result = fn(w)
            if not w.state.dirty:
                return result
            if self._commit(w):
                return result
            time.sleep(random.uniform(0, 0.01 * (attempt + 1)))  # let the winner finish
        raise Conflict(
            f"store {self.url}: the transaction lost {_RETRIES} races in a row to other writers; "
            "try again"
        )

    def _commit(self, w: _EtcdWriteTxn) -> bool:
        """Sends ``w``'s writes; False when a compare failed (a lost race: run it again)."""
        compares = w.compares(self.fence, self.limits.max_operations or 1 << 30)
        ops = w.commit_ops()
        parts = self._parts(w, compares, ops)
        if len(parts) > 1:  # a copy's restores: guarded by the store's revision key instead
            compares = [ec.mod_is(self.keys.revision, w.base)]
            if self.fence is not None:
                compares.append(ec.created_at(*self.fence))
        for n, part in enumerate(parts):
            ok = self.client.txn(
                compares if n == 0 else [], [*part, ec.put(self.keys.revision, b"")], []
            ).succeeded
            if not ok:
                self._check_fence()
                return False
        return True

    def _parts(
        self,
        w: _EtcdWriteTxn,
        compares: builtins.list[Any],
        ops: builtins.list[tuple[int, Any, int]],
    ) -> builtins.list[builtins.list[Any]]:
        """The write set in one piece, or (restores only) split between records; else too large."""
        limit, max_bytes = self.limits.max_operations or 1 << 30, self.limits.max_bytes or 1 << 62
        room = limit - 1  # the revision key
        size = sum(b for _, _, b in ops)
        if len(ops) <= room and size <= max_bytes - 4096 and len(compares) <= limit:
            return [[op for _, op, _ in ops]]
        if w.plain:
            raise StoreError(
                f"store {self.url}: this transaction writes {len(ops) + 1} keys "
                f"({size} bytes) and compares {len(compares)}; etcd takes at most {limit} "
                f"operations and {max_bytes} bytes in one transaction (--max-txn-ops, "
                "--max-request-bytes): apply fewer documents at once, or without --atomic"
            )
        parts: builtins.list[builtins.list[Any]] = [[]]
        units: builtins.list[int] = []
        part_bytes = 0
        for unit, op, nbytes in sorted(ops, key=lambda o: o[0]):
            starts = not units or units[-1] != unit
            if (
                starts
                and parts[-1]
                and (len(parts[-1]) >= room - 8 or part_bytes + nbytes > max_bytes // 2)
            ):
                parts.append([])
                part_bytes = 0
            parts[-1].append(op)
            part_bytes += nbytes
            units.append(unit)
        return parts

    def _check_fence(self) -> None:
        if self.fence is None:
            return
        kvs = self.client.range(self.fence[0]).kvs
        if not kvs or kvs[0].create_revision != self.fence[1]:
            raise StoreError(
                f"store {self.url}: this replica no longer leads (its lease expired); "
                "its controller's writes are refused"
            )

    # -- the feed -----------------------------------------------------------------

    def watch(
        self,
        from_revision: int | None = None,
        *,
        stop: threading.Event | None = None,
        heartbeat: float | None = None,
    ) -> Iterator[EventList]:
        import threading

        with self._snapshot() as r:
            start = r.revision() if from_revision is None else from_revision
            kept_since(r, start)
        return self._follow(start, stop or threading.Event(), heartbeat)

    def _follow(
        self, start: int, stop: threading.Event, heartbeat: float | None
    ) -> Iterator[EventList]:
        """The backlog after ``start`` from the keys, then etcd's watch from the snapshot on.

        The events are keys that stay until ``compact`` trims them, so the
        backlog comes from them, not from etcd's history, which another
        prefix's compaction may have dropped; the watch then starts at a
        revision of now. When etcd compacted even that (a watch that stayed
        disconnected), the watch reads its backlog again.
        """
        revision = start
        while not stop.is_set():
            with self._snapshot() as r:
                kept_since(r, revision)  # this store's trims: the watcher lists again
                head, backlog = r.at, r.events_since(revision, limit=WATCH_BATCH)
            if backlog:
                revision = backlog[-1].revision
                yield backlog
                continue
            try:
                for batch in self._stream(head + 1, stop, heartbeat):
                    revision = batch[-1].revision if batch else revision
                    yield batch
                return
            except ec.Compacted:
                continue

    def _stream(
        self, start: int, stop: threading.Event, heartbeat: float | None
    ) -> Iterator[EventList]:
        """etcd's watch of the events from ``start``: batches, and empty ones while quiet."""
        watch = self.client.watch(self.keys.under("events"), start, stop)
        quiet, tick = 0.0, min(heartbeat or 0.25, 0.25)
        for response in watch.responses(tick):
            if response is None:
                quiet += tick
                if heartbeat is not None and quiet >= heartbeat:
                    quiet = 0.0
                    yield []
                continue
            quiet = 0.0
            batch = [e for e, _ in _events([ev.kv for ev in response.events if ev.type == 0])]
            if batch:
                yield batch

    def compact(self, retention: Retention | None = None) -> int:
        dropped = Shortcuts.compact(self, retention)
        if dropped:  # etcd's own history goes too, so a watch from before expires there
            self.client.compact(self.compacted())
        return dropped

    # -- maintenance --------------------------------------------------------------

    def check(self) -> builtins.list[str]:
        with self._snapshot() as r:
            problems: builtins.list[str] = []
            wanted = decode_objects(r.stored_objects(), revision=1 << 62, problems=problems)
            return problems + compare(wanted, r.stored_indexes()).problems("registry")

    def repair(self) -> builtins.list[str]:
        def fn(w: _EtcdWriteTxn) -> builtins.list[str]:
            problems: builtins.list[str] = []
            wanted = decode_objects(w.stored_objects(), revision=1 << 62, problems=problems)
            differences = compare(wanted, w.stored_indexes())
            k = self.keys
            for key in differences.stray.slugs:
                w._set(k.part("slug", *key), None)
            for key in differences.stray.by_org:
                w._set(k.part("org", *key), None)
            for key in differences.stray.by_owner:
                w._set(k.part("owner", *key), None)
            for key, id in differences.missing.slugs.items():
                w._set(k.part("slug", *key), id.encode())
            for key in differences.missing.by_org:
                w._set(k.part("org", *key), b"")
            for key in differences.missing.by_owner:
                w._set(k.part("owner", *key), b"")
            changes = differences.changes()
            if changes:
                w.plain = True
                w.state.touched()
            return changes

        return self.transact(fn)  # type: ignore[arg-type]

    def leader(self) -> Leader:
        from stigmer.store.etcdleader import EtcdLeader

        return EtcdLeader(self)

    def stats(self) -> Stats:
        from stigmer.store.protocol import Stats

        with self._snapshot() as r:
            stats = Stats(revision=r.revision(), bytes_on_disk=0)
            for key, _, _ in r._scan(self.keys.under("org"), keys_only=True):
                kind, org, _ = self.keys.fields(key, "org")
                stats.counts.setdefault(kind, {}).setdefault(org, 0)
                stats.counts[kind][org] += 1
        return stats

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.client.close()

    def __enter__(self) -> EtcdStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
