"""The LMDB backend, Stigmer's embedded default store.

Layout (named sub-databases of one environment)::

    objects   kind/id               -> binary protobuf of the object
    slugs     kind/org/slug         -> id
    by_org    kind/org/id           -> empty
    by_owner  owner_id NUL kind/id  -> empty   (NUL: ids may contain "/")
    events    8-byte big-endian rev -> stigmer.api.v1.Event
    by_object kind/id NUL 8-byte rev -> empty   (each object's events, for describe)
    meta      name                  -> value   (schema_version, revision, compacted, ...)
    iam       relation tuple        -> empty

One write transaction updates an object, its index entries and its event, so
nothing is ever half-written. py-lmdb's rules are followed: every transaction
sits in a ``with`` block, no read transaction outlives the call that opened
it, the environment is re-opened after fork(), and a full map is grown and the
write retried outside any transaction.
"""

from __future__ import annotations

import builtins
import errno
import logging
import os
import struct
import threading
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import lmdb

from stigmer.api import kinds
from stigmer.api.kinds import Resource
from stigmer.api.v1.event_pb2 import Event
from stigmer.errors import KeyTooLong, StoreClosed, StoreError, StoreFull, UsageError
from stigmer.store import registry
from stigmer.store.feed import Compacting
from stigmer.store.files import harden_files, holds_data, make_private_dir, on_readonly_media
from stigmer.store.guarding import WriteGuard
from stigmer.store.objects import decode, make_event, matching
from stigmer.store.rules import (
    MAX_KEY_BYTES,
    check_key_size,
    check_names,
    check_revision,
    check_version,
    no_store,
    owner_ids,
    schema_too_new,
    slug_taken,
)
from stigmer.store.shortcuts import Lookups, Shortcuts
from stigmer.store.writing import (
    Nesting,
    NothingToCommit,
    Prefetching,
    Removing,
    Restoring,
    WriteState,
)

# The protocol is imported for annotations; the records and Stats where they
# are made, so that opening a store to read it does not build them.
if TYPE_CHECKING:
    from stigmer.store.leading import Leader
    from stigmer.store.protocol import EventList, Reader, Record, ResourceList, Stats, T, WriteTxn
    from stigmer.store.selectors import Selector

log = logging.getLogger("stigmer.store")

# SCHEMA_VERSION 2 added by_object; a version 1 store gains it (filled from its
# events) when it is first opened to write, so an older Stigmer, which would
# leave the index behind, refuses it from then on.
SCHEMA_VERSION = 2
DEFAULT_MAP_SIZE = 1 << 34  # 16 GiB of address space; the file only grows as used
_DB_NAMES = ("objects", "slugs", "by_org", "by_owner", "events", "meta", "iam", "by_object")
_REV = struct.Struct(">Q")
_MAX_GROWTH_STEPS = 40

# _fork_generation changes in a forked child, which must not use its parent's
# environment (py-lmdb's rule): every handle then re-opens its own.
_fork_generation = 0


def _after_fork() -> None:
    """Closes the inherited environments in a forked child.

    py-lmdb refuses to open an environment that is still open in the process,
    so the child closes its inherited copy first. That is safe because the
    env keeps no spare read transactions (max_spare_txns=0) and no
    transaction outlives its ``with`` block: closing touches no reader slot of
    the parent. (A fork while another thread is inside a transaction is not
    supported.)
    """
    global _fork_generation, _SHARED_LOCK  # noqa: PLW0603 - process-wide by nature
    _fork_generation += 1
    _SHARED_LOCK = threading.Lock()  # another thread may have held it at fork time
    for shared in _SHARED.values():
        shared.close()
    _SHARED.clear()


os.register_at_fork(after_in_child=_after_fork)


@dataclass
class _Shared:
    """One open environment, shared by every Store on the same path in a process.

    py-lmdb refuses to open one environment twice in a process (its fcntl
    locks would be shared and released by the first close), so Stores on the
    same path share this and count references.
    """

    env: lmdb.Environment
    dbs: dict[str, Any]
    refs: int
    generation: int
    guard: WriteGuard | None  # None on read-only media, where nothing writes

    def close(self) -> None:
        self.env.close()
        if self.guard is not None:
            self.guard.close()


_SHARED: dict[str, _Shared] = {}
_SHARED_LOCK = threading.Lock()


def _open_env(path: Path, map_size: int) -> _Shared:
    """Opens the environment; on read-only media, read-only and without the lock file.

    LMDB's readers write their slot in lock.mdb, which read-only media refuse.
    ``lock=False`` is safe there only: no process can be writing. Elsewhere
    the environment is opened under the write guard (stigmer.store.guarding).
    """
    if on_readonly_media(path):
        return _Shared(*_open_lmdb(path, map_size, readonly=True), 0, _fork_generation, None)
    guard = WriteGuard(path)
    try:
        with guard.exclusive():
            shared = _Shared(*_open_lmdb(path, map_size), 0, _fork_generation, guard)
            guard.adopt_lock_file()
    except BaseException:
        guard.close()
        raise
    harden_files(path / name for name in ("data.mdb", "lock.mdb"))
    return shared


def _open_lmdb(
    path: Path, map_size: int, *, readonly: bool = False
) -> tuple[lmdb.Environment, dict[str, Any]]:
    env = lmdb.open(
        str(path),
        map_size=map_size,
        max_dbs=len(_DB_NAMES) + 2,
        mode=0o600,
        max_readers=512,
        max_spare_txns=0,  # see _after_fork
        readonly=readonly,
        lock=not readonly,
    )
    try:
        return env, _open_dbs(env, path, readonly=readonly)
    except BaseException:
        env.close()
        raise


def _open_dbs(env: lmdb.Environment, path: Path, *, readonly: bool) -> dict[str, Any]:
    """Opens (or creates) the sub-databases and checks the schema version.

    This takes a write transaction, which commits nothing for an existing
    store: py-lmdb keeps no handle opened in a read transaction, so opening
    waits while another process is in the middle of a write. A read-only
    environment opens each handle in a transaction of its own, which it keeps.
    """
    if readonly:
        dbs = {name: _existing_db(env, name) for name in _DB_NAMES}
        dbs = {name: db for name, db in dbs.items() if db is not None}  # v1: no by_object
    with env.begin(write=not readonly) as txn:
        if not readonly:
            fresh = _existing_db(env, "by_object", txn) is None
            dbs = {name: env.open_db(name.encode(), txn=txn) for name in _DB_NAMES}
        stored = txn.get(b"schema_version", db=dbs["meta"])
        if stored is None and not readonly:
            txn.put(b"revision", _REV.pack(0), db=dbs["meta"])
        if not readonly and (stored is None or fresh):
            _index_events(txn, dbs)  # an upgrade from version 1; nothing for a new store
            txn.put(b"schema_version", str(SCHEMA_VERSION).encode(), db=dbs["meta"])
    if stored is not None and int(stored) > SCHEMA_VERSION:
        raise schema_too_new(path, int(stored), SCHEMA_VERSION)
    return dbs


def _existing_db(
    env: lmdb.Environment, name: str, txn: lmdb.Transaction[bytes] | None = None
) -> Any:
    """The handle of sub-database ``name``, or None when the store has none yet."""
    try:
        return env.open_db(name.encode(), txn=txn, create=False)
    except lmdb.NotFoundError:
        return None


def _index_events(txn: lmdb.Transaction[bytes], dbs: dict[str, Any]) -> None:
    """Fills by_object from the events (upgrading a version 1 store)."""
    with txn.cursor(db=dbs["events"]) as cur:
        for key, blob in cur:
            event = Event.FromString(blob)
            txn.put(_ekey(event.kind, event.id, key), b"", db=dbs["by_object"])


def _ekey(kind: str, id: str, rev: bytes) -> bytes:
    """The by_object key of an object's event at the packed revision ``rev``."""
    return _okey(kind, id) + b"\0" + rev


def _prepare_dir(path: Path, *, create: bool) -> None:
    """Creates the data dir 0700 if ``create``, and warns when an existing one is looser.

    Without ``create`` (a read) a dir without a store (or with an empty data.mdb) is
    NoStore, and nothing is made.
    """
    if path.is_symlink() and not path.exists():
        raise StoreError(
            f"data dir {path} is a symlink to {path.readlink()}, which does not exist; "
            "create its target or fix --data-dir"
        )
    if path.exists() and not path.is_dir():
        raise UsageError(f"data dir {path} is a file, not a directory (check --data-dir)")
    if path.exists():
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            log.warning(
                "data dir %s is readable by others (mode %o); run: chmod 700 %s", path, mode, path
            )
    if not create and not holds_data(path / "data.mdb"):
        raise no_store(path)
    if not path.exists():
        make_private_dir(path)


def _fits(key: bytes) -> bool:
    """Whether LMDB can look ``key`` up; a longer key names nothing stored."""
    return len(key) <= MAX_KEY_BYTES


def _okey(kind: str, id: str) -> bytes:
    return f"{kind}/{id}".encode()


# (org, slug, owners' ids): what an object's index entries depend on.
Place = tuple[str, str, tuple[str, ...]]


def _place(md: Any) -> Place:
    """The place of an object, from its metadata (each field read once)."""
    return md.org, md.slug, owner_ids(md)


def _owner_keys(kind: str, id_: str, owners: tuple[str, ...]) -> list[bytes]:
    tail = f"\0{kind}/{id_}".encode()
    return [owner.encode() + tail for owner in owners]


class _LmdbReader(Lookups):
    """Reads inside one LMDB transaction."""

    def __init__(self, txn: lmdb.Transaction[bytes], dbs: dict[str, Any]) -> None:
        self._txn = txn
        self._dbs = dbs

    def find(self, kind: str, id: str) -> Resource | None:
        key = _okey(kind, id)
        # Positional arguments: a keyword costs py-lmdb's argument parser ~600 instructions.
        blob = self._txn.get(key, None, self._dbs["objects"]) if _fits(key) else None
        return None if blob is None else decode(kind, blob)

    def find_by_slug(self, kind: str, org: str, slug: str) -> Resource | None:
        key = f"{kind}/{org}/{slug}".encode()
        dbs = self._dbs
        id = self._txn.get(key, None, dbs["slugs"]) if _fits(key) else None
        if id is None:
            return None
        # The id the index holds was stored, so its key fits: find's work without its checks.
        blob = self._txn.get(kind.encode() + b"/" + id, None, dbs["objects"])
        return None if blob is None else decode(kind, blob)

    def _scan(self, db: str, prefix: bytes) -> Iterator[bytes]:
        """Keys of ``db`` that start with ``prefix``, in order."""
        with self._txn.cursor(self._dbs[db]) as cur:  # positional: see find
            if not cur.set_range(prefix):
                return
            for key in cur.iternext(True, False):  # keys, not values
                if not key.startswith(prefix):
                    return
                yield key

    def _ids(self, kind: str, org: str | None) -> Iterator[str]:
        if org is None:
            cut = len(kind) + 1
            return (k[cut:].decode() for k in self._scan("objects", f"{kind}/".encode()))
        cut = len(kind) + len(org) + 2
        return (k[cut:].decode() for k in self._scan("by_org", f"{kind}/{org}/".encode()))

    def list(
        self, kind: str, *, org: str | None = None, selector: Selector | None = None
    ) -> ResourceList:
        objects, message = self._dbs["objects"], kinds.by_key(kind).message
        get = self._txn.get
        if org is None:
            out: ResourceList = []
            with self._txn.cursor(db=objects) as cur:
                prefix = f"{kind}/".encode()
                if cur.set_range(prefix):
                    for key, blob in cur:
                        if not key.startswith(prefix):
                            break
                        out.append(message.FromString(blob))
        else:
            blobs = (get(_okey(kind, i), db=objects) for i in self._ids(kind, org))
            out = [message.FromString(b) for b in blobs if b is not None]
        return matching(out, selector)

    def list_owned(self, owner_id: str, kind: str | None = None) -> ResourceList:
        prefix = owner_id.encode() + b"\0" + (f"{kind}/".encode() if kind else b"")
        out = []
        for key in self._scan("by_owner", prefix):
            k, _, id = key[len(owner_id) + 1 :].decode().partition("/")
            obj = self.find(k, id)
            if obj is not None:
                out.append(obj)
        return out

    def count(self, kind: str, *, org: str | None = None) -> int:
        return sum(1 for _ in self._ids(kind, org))

    def orgs(self, kind: str) -> builtins.list[str]:
        found: list[str] = []
        prefix = f"{kind}/".encode()
        with self._txn.cursor(db=self._dbs["by_org"]) as cur:
            ok = cur.set_range(prefix)
            while ok:
                key = cur.key()
                if not key.startswith(prefix):
                    break
                org = key[len(prefix) :].split(b"/", 1)[0]
                found.append(org.decode())
                ok = cur.set_range(prefix + org + b"0")  # "0" follows "/": skip the org
        return sorted(found)  # "a-b/..." sorts before "a/..." as keys, not as names

    def revision(self) -> int:
        raw = self._txn.get(b"revision", db=self._dbs["meta"])
        return 0 if raw is None else int(_REV.unpack(raw)[0])

    def get_meta(self, key: str) -> str | None:
        raw = self._txn.get(b"x:" + key.encode(), None, self._dbs["meta"])
        return None if raw is None else raw.decode()

    def compacted(self) -> int:
        raw = self._txn.get(b"compacted", db=self._dbs["meta"])
        return 0 if raw is None else int(_REV.unpack(raw)[0])

    def events_since(self, revision: int, limit: int | None = None) -> EventList:
        out: EventList = []
        if limit is not None and limit <= 0:
            return out
        with self._txn.cursor(db=self._dbs["events"]) as cur:
            if cur.set_range(_REV.pack(revision + 1)):
                for blob in cur.iternext(keys=False, values=True):
                    out.append(Event.FromString(blob))
                    if limit is not None and len(out) >= limit:
                        break
        return out

    def events_of(self, kind: str, id: str, *, limit: int = 10) -> EventList:
        index = self._dbs.get("by_object")
        if index is None:  # a version 1 store on read-only media: scan the feed
            every = [e for e in self.events_since(0) if (e.kind, e.id) == (kind, id)]
            return every[len(every) - limit :] if limit > 0 else []
        prefix, revs = _okey(kind, id) + b"\0", list[bytes]()
        with self._txn.cursor(db=index) as cur:
            # Walk back from the first key past the prefix: the newest come first.
            found = cur.prev() if cur.set_range(prefix[:-1] + b"\1") else cur.last()
            while found and len(revs) < limit and cur.key().startswith(prefix):
                revs.append(cur.key()[len(prefix) :])
                found = cur.prev()
        events = self._dbs["events"]
        blobs = (self._txn.get(rev, db=events) for rev in reversed(revs))
        return [Event.FromString(b) for b in blobs if b is not None]

    def tuples(self, prefix: str = "") -> builtins.list[str]:
        # _scan's walk without its generator: IAM asks this for every object applied.
        start, found = prefix.encode(), builtins.list[str]()
        with self._txn.cursor(self._dbs["iam"]) as cur:
            if cur.set_range(start):
                for key in cur.iternext(True, False):  # keys, not values
                    if not key.startswith(start):
                        break
                    found.append(key.decode())
        return found

    def records(self) -> Generator[Record, None, None]:
        from stigmer.store.protocol import (
            EventRecord,
            MetaRecord,
            ObjectRecord,
            RevisionRecord,
            TupleRecord,
        )

        yield RevisionRecord(self.revision(), self.compacted())
        with self._txn.cursor(db=self._dbs["objects"]) as cur:
            for key, blob in cur:
                kind, _, id = key.decode().partition("/")
                yield ObjectRecord(kind, id, blob)
        with self._txn.cursor(db=self._dbs["events"]) as cur:
            for key, blob in cur:
                yield EventRecord(int(_REV.unpack(key)[0]), blob)
        for key in self._scan("meta", b"x:"):
            value = self._txn.get(key, db=self._dbs["meta"])
            yield MetaRecord(key[2:].decode(), value.decode() if value is not None else "")
        for key in self._scan("iam", b""):
            yield TupleRecord(key.decode())


class _LmdbWriteTxn(_LmdbReader, Nesting, Removing, Restoring, Compacting, Prefetching):
    """A write transaction; ``finish`` must run before the commit."""

    def __init__(
        self, env: lmdb.Environment, txn: lmdb.Transaction[bytes], dbs: dict[str, Any], actor: str
    ) -> None:
        super().__init__(txn, dbs)
        self._env = env
        self._parents: list[lmdb.Transaction[bytes]] = []
        self.state = WriteState(self.revision(), actor, time.time_ns())

    @property
    def events(self) -> list[Event]:
        return self.state.events

    def _begin_nested(self) -> None:
        self._parents.append(self._txn)
        self._txn = self._env.begin(write=True, parent=self._txn)

    def _end_nested(self, *, commit: bool) -> None:
        if commit:
            self._txn.commit()
        else:
            self._txn.abort()
        self._txn = self._parents.pop()

    def _append_event(
        self,
        type_: int,
        kind: str,
        obj: Resource,
        revision: int,
        names: tuple[str, str, str] | None = None,
    ) -> None:
        """Appends the event of a write, and its by_object entry.

        ``names``: the object's (id, org, slug), when the caller has read them already.
        """
        st = self.state
        ev = make_event(
            type_, kind, obj, revision=revision, actor=st.actor, now_ns=st.now_ns, names=names
        )
        rev, txn = _REV.pack(revision), self._txn
        txn.put(rev, ev.SerializeToString(), True, True, False, self._dbs["events"])
        id_ = names[0] if names is not None else ev.id
        txn.put(_ekey(kind, id_, rev), b"", True, True, False, self._dbs["by_object"])
        st.record(ev)

    def put(self, obj: Resource, *, expected_version: int | None = None) -> Resource:
        # Each read of a message field costs about a thousand instructions: the
        # metadata's are read once here and handed to the checks and writes.
        kind = kinds.of(obj).key
        md, dbs, txn = obj.metadata, self._dbs, self._txn
        id_, place = md.id, _place(md)
        okey = _okey(kind, id_)
        earlier = self.state.earlier(kind, id_)
        if earlier is not None and earlier[2] == place:
            # The identity this transaction's put of the object checked: id, org, slug, owners.
            return self._rewrite(kind, obj, id_, earlier[0], expected_version)
        org, slug, owners = place
        check_names(kind, id_, org, slug, owners)
        old_blob = txn.get(okey, None, dbs["objects"])
        old = None if old_blob is None else decode(kind, old_blob)
        if expected_version is not None:
            check_version(kind, id_, old, expected_version)
        # An update that keeps org, slug and owners (the usual case) has its
        # index entries already: only the object itself is rewritten.
        same_place = old is not None and _place(old.metadata) == place
        if not same_place:
            holder = txn.get(f"{kind}/{org}/{slug}".encode(), None, dbs["slugs"])
            if holder is not None and holder.decode() != id_:
                raise slug_taken(kind, slug, org)
            if old is not None:
                self._drop_indexes(kind, old, keep=obj)
        revision, type_ = self.state.next_for_put(kind, id_, old is not None, place)
        md.resource_version = revision
        if same_place:
            txn.put(okey, obj.SerializeToString(), True, True, False, dbs["objects"])
        else:
            self._write_at(kind, id_, place, obj.SerializeToString())
        self._append_event(type_, kind, obj, revision, (id_, org, slug))
        return obj

    def _rewrite(
        self, kind: str, obj: Resource, id_: str, revision: int, expected: int | None
    ) -> Resource:
        """Writes an object again in the transaction that wrote it, in the same place.

        Its revision, index entries and event stand; the event is redone only
        when what it says (the generation) changed.
        """
        md = obj.metadata
        if expected is not None:
            check_revision(kind, id_, True, revision, expected)
        md.resource_version = revision
        blob = obj.SerializeToString()
        self._txn.put(_okey(kind, id_), blob, True, True, False, self._dbs["objects"])
        self.state.touched()
        event = self.state.event_at(revision)
        if event.generation != md.generation:
            self._append_event(event.type, kind, obj, revision)
        return obj

    def _write(self, kind: str, obj: Resource, blob: bytes) -> None:
        """Stores ``blob`` as the object ``obj`` with its index entries."""
        md = obj.metadata
        self._write_at(kind, md.id, _place(md), blob)

    def _write_at(self, kind: str, id_: str, place: Place, blob: bytes) -> None:
        """``_write`` of an object whose id and place are in hand."""
        dbs, txn, (org, slug, owners) = self._dbs, self._txn, place
        txn.put(_okey(kind, id_), blob, True, True, False, dbs["objects"])
        txn.put(f"{kind}/{org}/{slug}".encode(), id_.encode(), True, True, False, dbs["slugs"])
        txn.put(f"{kind}/{org}/{id_}".encode(), b"", True, True, False, dbs["by_org"])
        for key in _owner_keys(kind, id_, owners):
            txn.put(key, b"", True, True, False, dbs["by_owner"])

    def _restore_object(self, kind: str, obj: Resource, blob: bytes) -> None:
        md, dbs, txn = obj.metadata, self._dbs, self._txn
        holder = txn.get(f"{kind}/{md.org}/{md.slug}".encode(), db=dbs["slugs"])
        if holder is not None and holder.decode() != md.id:
            raise slug_taken(kind, md.slug, md.org)
        old = self.find(kind, md.id)
        if old is not None:
            self._drop_indexes(kind, old, keep=obj)
        self._write(kind, obj, blob)

    def _restore_event(self, revision: int, blob: bytes) -> None:
        event, rev = Event.FromString(blob), _REV.pack(revision)
        self._txn.put(rev, blob, db=self._dbs["events"])
        self._txn.put(_ekey(event.kind, event.id, rev), b"", db=self._dbs["by_object"])

    def _oldest_events(self, limit: int) -> list[Event]:
        return self.events_since(0, limit)

    def _drop_event(self, event: Event) -> None:
        rev = _REV.pack(event.revision)
        self._txn.delete(rev, db=self._dbs["events"])
        self._txn.delete(_ekey(event.kind, event.id, rev), db=self._dbs["by_object"])

    def _set_compacted(self, revision: int) -> None:
        self._txn.put(b"compacted", _REV.pack(revision), db=self._dbs["meta"])

    def _drop_indexes(self, kind: str, old: Resource, keep: Resource | None = None) -> None:
        """Deletes the index entries of ``old`` that ``keep`` will not rewrite."""
        md, dbs, txn = old.metadata, self._dbs, self._txn
        if keep is None or (keep.metadata.org, keep.metadata.slug) != (md.org, md.slug):
            txn.delete(f"{kind}/{md.org}/{md.slug}".encode(), db=dbs["slugs"])
        if keep is None or keep.metadata.org != md.org:
            txn.delete(f"{kind}/{md.org}/{md.id}".encode(), db=dbs["by_org"])
        stale = set(_owner_keys(kind, md.id, owner_ids(md)))
        if keep is not None:
            stale -= set(_owner_keys(kind, keep.metadata.id, owner_ids(keep.metadata)))
        for key in stale:
            txn.delete(key, db=dbs["by_owner"])

    def _remove_object(self, kind: str, id: str) -> None:
        self._txn.delete(_okey(kind, id), db=self._dbs["objects"])

    def delete_all(self, kind: str) -> int:
        ids = list(self._ids(kind, None))
        for id in ids:
            self.delete(kind, id)
        return len(ids)

    def set_meta(self, key: str, value: str) -> None:
        check_key_size("x:" + key, "meta key")
        self.state.touched()
        self._txn.put(b"x:" + key.encode(), value.encode(), True, True, False, self._dbs["meta"])

    def add_tuple(self, tuple_: str) -> bool:
        check_key_size(tuple_, "relation")
        added = bool(self._txn.put(tuple_.encode(), b"", True, False, False, self._dbs["iam"]))
        if added:
            self.state.touched()
        return added

    def remove_tuple(self, tuple_: str) -> bool:
        if not _fits(tuple_.encode()):
            return False  # add_tuple refuses such a tuple: it cannot be stored
        removed = bool(self._txn.delete(tuple_.encode(), db=self._dbs["iam"]))
        if removed:
            self.state.touched()
        return removed

    def finish(self) -> None:
        if self.state.revision != self.state.start:
            self._txn.put(b"revision", _REV.pack(self.state.revision), db=self._dbs["meta"])


class LmdbStore(Shortcuts):
    """The LMDB-backed Store. Safe to share between threads and processes."""

    # format_version is the format of the files once opened (opening upgrades an
    # older one); ``stigmer version`` shows it.
    format_version = SCHEMA_VERSION

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        map_size: int = DEFAULT_MAP_SIZE,
        create: bool = True,
    ) -> None:
        self.path = Path(path).expanduser().absolute()
        self.url = f"lmdb:{self.path}"
        self.limits = registry.BACKENDS["lmdb"].limits
        self._map_size = map_size
        self._key = str(self.path)
        self._closed = False
        _prepare_dir(self.path, create=create)
        self._shared = self._attach()

    # -- environment handling -------------------------------------------------

    def _attach(self) -> _Shared:
        with _SHARED_LOCK:
            shared = _SHARED.get(self._key)
            if shared is None:
                shared = _open_env(self.path, self._map_size)
                _SHARED[self._key] = shared
            shared.refs += 1
            return shared

    def _live(self) -> _Shared:
        if self._closed:
            raise StoreClosed(f"store {self.url} is closed")
        if self._shared.generation != _fork_generation:
            self._shared = self._attach()  # we are a forked child: open our own
        return self._shared

    def _txn(self, write: bool = False) -> tuple[lmdb.Transaction[bytes], dict[str, Any]]:
        """A new transaction, to be used in a ``with`` block at once."""
        shared = self._live()
        try:
            return shared.env.begin(write=write), shared.dbs
        except lmdb.MapResizedError:
            shared.env.set_mapsize(0)  # adopt the size another process grew it to
            return shared.env.begin(write=write), shared.dbs

    @contextmanager
    def _begin(
        self, write: bool = False
    ) -> Iterator[tuple[lmdb.Transaction[bytes], dict[str, Any]]]:
        txn, dbs = self._txn(write)
        with txn:
            yield txn, dbs

    def _grow(self) -> None:
        env = self._live().env
        size = env.info()["map_size"]
        try:
            env.set_mapsize(size * 2)
        except lmdb.Error as e:
            raise StoreFull(f"store {self.url} is full at {size} bytes and cannot grow: {e}") from e
        log.debug("grew map of %s to %d bytes", self.url, size * 2)

    def _failure(self, e: lmdb.Error) -> StoreError:
        """Our error for an LMDB one met while writing, naming the store and what to do."""
        if isinstance(e, lmdb.ReadonlyError) or on_readonly_media(self.path):
            return StoreError(f"store {self.url} is on read-only media: reads work, writes cannot")
        # ENOSPC is DiskError; a full disk (or quota) can also surface as EIO
        # from the msync or fsync at commit, and so does a failing disk.
        if isinstance(e, lmdb.DiskError) or os.strerror(errno.EIO) in str(e):
            return StoreFull(f"store {self.url}: disk full or failing ({e}); free space and retry")
        return StoreError(f"store {self.url}: {e}")

    # -- reads ----------------------------------------------------------------

    @contextmanager
    def read(self) -> Iterator[Reader]:
        txn, dbs = self._txn()  # not through _begin: one context manager less per read
        with txn:
            yield _LmdbReader(txn, dbs)

    # The point reads skip the generic helpers: they are the hot path of
    # ``stigmer get NAME`` and of every reconcile.

    def find(self, kind: str, id: str) -> Resource | None:
        key = _okey(kind, id)
        if not _fits(key):
            return None
        txn, dbs = self._txn()
        with txn:
            blob = txn.get(key, db=dbs["objects"])
        return None if blob is None else decode(kind, blob)

    def find_by_slug(self, kind: str, org: str, slug: str) -> Resource | None:
        key = f"{kind}/{org}/{slug}".encode()
        if not _fits(key):
            return None
        txn, dbs = self._txn()
        with txn:
            id = txn.get(key, db=dbs["slugs"])
            blob = None if id is None else txn.get(kind.encode() + b"/" + id, db=dbs["objects"])
        return None if blob is None else decode(kind, blob)

    def list(
        self, kind: str, *, org: str | None = None, selector: Selector | None = None
    ) -> ResourceList:
        with self.read() as r:
            return r.list(kind, org=org, selector=selector)

    def list_owned(self, owner_id: str, kind: str | None = None) -> ResourceList:
        with self.read() as r:
            return r.list_owned(owner_id, kind)

    def count(self, kind: str, *, org: str | None = None) -> int:
        with self.read() as r:
            return r.count(kind, org=org)

    def orgs(self, kind: str) -> builtins.list[str]:
        with self.read() as r:
            return r.orgs(kind)

    def revision(self) -> int:
        with self.read() as r:
            return r.revision()

    def get_meta(self, key: str) -> str | None:
        with self.read() as r:
            return r.get_meta(key)

    def tuples(self, prefix: str = "") -> builtins.list[str]:
        with self.read() as r:
            return r.tuples(prefix)

    def compacted(self) -> int:
        with self.read() as r:
            return r.compacted()

    def events_since(self, revision: int, limit: int | None = None) -> EventList:
        with self.read() as r:
            return r.events_since(revision, limit)

    def events_of(self, kind: str, id: str, *, limit: int = 10) -> EventList:
        with self.read() as r:
            return r.events_of(kind, id, limit=limit)

    # -- writes ---------------------------------------------------------------

    @contextmanager
    def _writing(self) -> Iterator[tuple[lmdb.Transaction[bytes], dict[str, Any]]]:
        """A write transaction, under the write guard (see stigmer.store.guarding)."""
        guard = self._live().guard
        if guard is None:  # read-only media: begin() refuses with ReadonlyError
            with self._begin(write=True) as pair:
                yield pair
            return
        with guard.held(self.url), self._begin(write=True) as pair:
            yield pair

    def transact(self, fn: Callable[[WriteTxn], T], *, actor: str = "") -> T:
        for _ in range(_MAX_GROWTH_STEPS):
            try:
                with self._writing() as (txn, dbs):
                    w = _LmdbWriteTxn(self._live().env, txn, dbs, actor)
                    result = fn(w)
                    if not w.state.dirty:
                        raise NothingToCommit(result)  # abort: no commit, no fsync
                    w.finish()
                return result
            except NothingToCommit as nothing:
                return nothing.result  # type: ignore[return-value]
            except lmdb.MapFullError:
                self._grow()  # the transaction was aborted; retry it in a bigger map
            except lmdb.BadValsizeError as e:  # check_identity should have refused it first
                raise KeyTooLong(f"store {self.url}: a key is too long for LMDB: {e}") from e
            except (lmdb.DiskError, lmdb.Error) as e:
                raise self._failure(e) from e
        raise StoreFull(f"store {self.url} could not grow enough for one transaction")

    # -- maintenance ----------------------------------------------------------

    def check(self) -> builtins.list[str]:
        from stigmer.store import lmdbchecks

        with self._begin() as (txn, dbs):
            return lmdbchecks.check(txn, dbs)

    def repair(self) -> builtins.list[str]:
        from stigmer.store import lmdbchecks

        try:
            with self._writing() as (txn, dbs):
                return lmdbchecks.repair(txn, dbs)
        except lmdb.Error as e:
            raise self._failure(e) from e

    def leader(self) -> Leader:
        """The store's leadership: a file lock, ``controller.lock`` in the data dir."""
        from stigmer.store.leading import FileLeader

        return FileLeader(self.path / "controller.lock", anchor=self.path)

    def stats(self) -> Stats:
        from stigmer.store.protocol import Stats

        stats = Stats(revision=0, bytes_on_disk=0)
        with self._begin() as (txn, dbs), txn.cursor(db=dbs["by_org"]) as cur:
            for key in cur.iternext(keys=True, values=False):
                kind, org, _ = key.decode().split("/", 2)
                per_org = stats.counts.setdefault(kind, {})
                per_org[org] = per_org.get(org, 0) + 1
            stats.revision = _LmdbReader(txn, dbs).revision()
        stats.bytes_on_disk = sum(
            (self.path / n).stat().st_size
            for n in ("data.mdb", "lock.mdb")
            if (self.path / n).exists()
        )
        return stats

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with _SHARED_LOCK:
            shared = self._shared
            shared.refs -= 1
            if shared.refs == 0 and _SHARED.get(self._key) is shared:
                del _SHARED[self._key]
                shared.close()

    def __enter__(self) -> LmdbStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
