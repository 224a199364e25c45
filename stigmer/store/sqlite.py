"""The SQLite backend: the same Store as LMDB, in one database file.

Layout (tables of one file; every key column is part of a primary key)::

    resources  (kind, id)          -> data: binary protobuf, updated_at: ISO-8601 UTC
    slugs      (kind, org, slug)   -> id
    by_org     (kind, org, id)
    by_owner   (owner_id, kind, id)
    events     revision            -> data: stigmer.api.v1.Event
    event_index (kind, id, revision)          (each object's events, for describe)
    meta       key                 -> value   (schema_version, revision, compacted,
                                               x:<set_meta key>)
    tuples     relation tuple

``resources`` is upstream Stigmer's table, so its tools can read the file.
The file is in WAL mode, so readers never wait for the writer. Every write
transaction starts with BEGIN IMMEDIATE, which takes the file's one write
lock at once: writers, in any process, run one after another, and the read
that a compare-and-swap checks cannot go stale before the write.
``synchronous=FULL`` fsyncs the WAL at each commit, so a write is durable when
the call returns. A busy timeout lets a writer wait for another's lock.

Connections are pooled: a call borrows one, uses it alone and gives it back,
so threads never share one, and a call nested in a ``read()`` gets its own.
After fork() the child leaves its parent's connections untouched (SQLite's
rule: never use a connection across fork) and opens its own.
"""

from __future__ import annotations

import builtins
import os
import sqlite3
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stigmer.api import kinds
from stigmer.api.kinds import Resource
from stigmer.api.v1.event_pb2 import Event
from stigmer.errors import StoreClosed, StoreError, StoreFull
from stigmer.store import registry
from stigmer.store.checking import (
    EventEntry,
    EventIndex,
    Indexes,
    compare,
    compare_events,
    decode_objects,
)
from stigmer.store.feed import Compacting
from stigmer.store.files import harden_files, holds_data, make_private_dir, on_readonly_media
from stigmer.store.objects import decode, make_event, matching
from stigmer.store.rules import (
    MAX_KEY_BYTES,
    check_identity,
    check_key_size,
    check_version,
    no_store,
    schema_too_new,
    slug_taken,
)
from stigmer.store.shortcuts import Lookups, Shortcuts
from stigmer.store.writing import Nesting, Prefetching, Removing, Restoring, WriteState

# The protocol is imported for annotations; the records and Stats where they
# are made, so that opening a store to read it does not build them.
if TYPE_CHECKING:
    from stigmer.store.leading import Leader
    from stigmer.store.protocol import EventList, Reader, Record, ResourceList, Stats, T, WriteTxn
    from stigmer.store.selectors import Selector

# SCHEMA_VERSION 2 added event_index; a version 1 file gains it (filled from
# its events) when it is first opened to write, as LMDB's by_object.
SCHEMA_VERSION = 2
DEFAULT_BUSY_TIMEOUT_MS = 60_000  # how long a writer waits for another one's lock
_WAL_SIZE_LIMIT = 64 << 20  # a checkpointed WAL is cut back to this; else it stays at its peak

_EVENT_INDEX = (
    "CREATE TABLE event_index(kind TEXT, id TEXT, revision INTEGER,"
    " PRIMARY KEY(kind, id, revision)) WITHOUT ROWID"
)
_TABLES = (
    "CREATE TABLE resources(kind TEXT, id TEXT, data BLOB, updated_at TEXT,"
    " PRIMARY KEY(kind, id)) WITHOUT ROWID",
    "CREATE TABLE slugs(kind TEXT, org TEXT, slug TEXT, id TEXT NOT NULL,"
    " PRIMARY KEY(kind, org, slug)) WITHOUT ROWID",
    "CREATE TABLE by_org(kind TEXT, org TEXT, id TEXT, PRIMARY KEY(kind, org, id)) WITHOUT ROWID",
    "CREATE TABLE by_owner(owner_id TEXT, kind TEXT, id TEXT,"
    " PRIMARY KEY(owner_id, kind, id)) WITHOUT ROWID",
    "CREATE TABLE events(revision INTEGER PRIMARY KEY, data BLOB NOT NULL)",
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID",
    "CREATE TABLE tuples(tuple TEXT PRIMARY KEY) WITHOUT ROWID",
    _EVENT_INDEX,
)

# _INHERITED keeps the connections a forked child inherited: closing one
# there could release or take locks on the parent's behalf, so they are
# never touched, and never collected either.
_INHERITED: list[sqlite3.Connection] = []


def _iso(now_ns: int) -> str:
    """``now_ns`` as upstream's updated_at: ISO-8601 in UTC, to the microsecond."""
    stamp = datetime.fromtimestamp(now_ns / 1e9, UTC).isoformat(timespec="microseconds")
    return stamp.replace("+00:00", "Z")


class _SqliteReader(Lookups):
    """Reads through one connection: a snapshot inside BEGIN, else statement by statement."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def _one(self, sql: str, *args: object) -> Any:
        """The first column of the first row, or None."""
        row = self.db.execute(sql, args).fetchone()
        return None if row is None else row[0]

    def find(self, kind: str, id: str) -> Resource | None:
        blob = self._one("SELECT data FROM resources WHERE kind = ? AND id = ?", kind, id)
        return None if blob is None else decode(kind, blob)

    def find_by_slug(self, kind: str, org: str, slug: str) -> Resource | None:
        blob = self._one(
            "SELECT r.data FROM slugs s JOIN resources r ON r.kind = s.kind AND r.id = s.id"
            " WHERE s.kind = ? AND s.org = ? AND s.slug = ?",
            kind,
            org,
            slug,
        )
        return None if blob is None else decode(kind, blob)

    def list(
        self, kind: str, *, org: str | None = None, selector: Selector | None = None
    ) -> ResourceList:
        message = kinds.by_key(kind).message
        if org is None:
            rows = self.db.execute("SELECT data FROM resources WHERE kind = ? ORDER BY id", (kind,))
        else:  # through by_org, so the cost is that of the org, not of the kind
            rows = self.db.execute(
                "SELECT r.data FROM by_org o JOIN resources r ON r.kind = o.kind AND r.id = o.id"
                " WHERE o.kind = ? AND o.org = ? ORDER BY o.id",
                (kind, org),
            )
        return matching([message.FromString(blob) for (blob,) in rows], selector)

    def list_owned(self, owner_id: str, kind: str | None = None) -> ResourceList:
        sql = (
            "SELECT b.kind, r.data FROM by_owner b"
            " JOIN resources r ON r.kind = b.kind AND r.id = b.id WHERE b.owner_id = ?"
        )
        args: tuple[str, ...] = (owner_id,)
        if kind is not None:
            sql, args = sql + " AND b.kind = ?", (owner_id, kind)
        rows = self.db.execute(sql + " ORDER BY b.kind, b.id", args)
        return [decode(k, blob) for k, blob in rows]

    def count(self, kind: str, *, org: str | None = None) -> int:
        if org is None:
            return int(self._one("SELECT count(*) FROM resources WHERE kind = ?", kind))
        return int(self._one("SELECT count(*) FROM by_org WHERE kind = ? AND org = ?", kind, org))

    def orgs(self, kind: str) -> builtins.list[str]:
        rows = self.db.execute(
            "SELECT DISTINCT org FROM by_org WHERE kind = ? ORDER BY org", (kind,)
        )
        return [org for (org,) in rows]

    def revision(self) -> int:
        return int(self._one("SELECT value FROM meta WHERE key = 'revision'") or 0)

    def get_meta(self, key: str) -> str | None:
        # "x:" keeps the callers' keys apart from schema_version and revision.
        value = self._one("SELECT value FROM meta WHERE key = ?", "x:" + key)
        return None if value is None else str(value)

    def tuples(self, prefix: str = "") -> builtins.list[str]:
        # The tuples that start with prefix sort together from prefix on; the
        # range scan stops at the first that does not, like LMDB's cursor.
        found = []
        rows = self.db.execute(
            "SELECT tuple FROM tuples WHERE tuple >= ? ORDER BY tuple", (prefix,)
        )
        for (tuple_,) in rows:
            if not tuple_.startswith(prefix):
                break
            found.append(tuple_)
        return found

    def compacted(self) -> int:
        return int(self._one("SELECT value FROM meta WHERE key = 'compacted'") or 0)

    def events_since(self, revision: int, limit: int | None = None) -> EventList:
        rows = self.db.execute(
            "SELECT data FROM events WHERE revision > ? ORDER BY revision LIMIT ?",
            (revision, -1 if limit is None else limit),
        )
        return [Event.FromString(blob) for (blob,) in rows]

    def events_of(self, kind: str, id: str, *, limit: int = 10) -> EventList:
        if not _has_table(self.db, "event_index"):  # version 1 on read-only media: scan
            found = [e for e in self.events_since(0) if (e.kind, e.id) == (kind, id)]
            return found[len(found) - limit :] if limit > 0 else []
        rows = self.db.execute(
            "SELECT e.data FROM event_index i JOIN events e ON e.revision = i.revision"
            " WHERE i.kind = ? AND i.id = ? ORDER BY i.revision DESC LIMIT ?",
            (kind, id, limit),
        ).fetchall()
        return [Event.FromString(blob) for (blob,) in reversed(rows)]

    def records(self) -> Generator[Record, None, None]:
        from stigmer.store.protocol import (
            EventRecord,
            MetaRecord,
            ObjectRecord,
            RevisionRecord,
            TupleRecord,
        )

        yield RevisionRecord(self.revision(), self.compacted())
        rows = self.db.execute("SELECT kind, id, data FROM resources ORDER BY kind, id")
        yield from (ObjectRecord(kind, id, blob) for kind, id, blob in rows)
        rows = self.db.execute("SELECT revision, data FROM events ORDER BY revision")
        yield from (EventRecord(revision, blob) for revision, blob in rows)
        rows = self.db.execute(
            "SELECT substr(key, 3), value FROM meta WHERE substr(key, 1, 2) = 'x:' ORDER BY key"
        )
        yield from (MetaRecord(key, str(value)) for key, value in rows)
        rows = self.db.execute("SELECT tuple FROM tuples ORDER BY tuple")
        yield from (TupleRecord(relation) for (relation,) in rows)


class _SqliteWriteTxn(_SqliteReader, Nesting, Removing, Restoring, Compacting, Prefetching):
    """A write transaction; ``finish`` must run before the commit."""

    def __init__(self, db: sqlite3.Connection, actor: str) -> None:
        super().__init__(db)
        self.state = WriteState(self.revision(), actor, time.time_ns())
        self._updated_at = _iso(self.state.now_ns)
        self._depth = 0

    @property
    def events(self) -> list[Event]:
        return self.state.events

    def _begin_nested(self) -> None:
        self._depth += 1
        self.db.execute(f"SAVEPOINT nested{self._depth}")

    def _end_nested(self, *, commit: bool) -> None:
        name = f"nested{self._depth}"
        if not commit:
            self.db.execute(f"ROLLBACK TO {name}")
        self.db.execute(f"RELEASE {name}")
        self._depth -= 1

    def _append_event(self, type_: int, kind: str, obj: Resource, revision: int) -> None:
        st = self.state
        ev = make_event(type_, kind, obj, revision=revision, actor=st.actor, now_ns=st.now_ns)
        self.db.execute(
            "INSERT OR REPLACE INTO events (revision, data) VALUES (?, ?)",
            (revision, ev.SerializeToString()),
        )
        self.db.execute(
            "INSERT OR IGNORE INTO event_index VALUES (?, ?, ?)", (kind, ev.id, revision)
        )
        st.record(ev)

    def put(self, obj: Resource, *, expected_version: int | None = None) -> Resource:
        kind = kinds.of(obj).key
        check_identity(kind, obj)
        md = obj.metadata
        old = self.find(kind, md.id)
        if expected_version is not None:
            check_version(kind, md.id, old, expected_version)
        holder = self._one(
            "SELECT id FROM slugs WHERE kind = ? AND org = ? AND slug = ?", kind, md.org, md.slug
        )
        if holder is not None and holder != md.id:
            raise slug_taken(kind, md.slug, md.org)
        if old is not None:
            self._drop_indexes(kind, old, keep=obj)
        revision, type_ = self.state.next_for_put(kind, md.id, old is not None)
        md.resource_version = revision  # before serializing: the stored copy carries it
        self._write(kind, obj, obj.SerializeToString())
        self._append_event(type_, kind, obj, revision)
        return obj

    def _write(self, kind: str, obj: Resource, blob: bytes) -> None:
        """Stores ``blob`` as the object ``obj`` with its index rows."""
        md, db = obj.metadata, self.db
        db.execute(
            "INSERT OR REPLACE INTO resources (kind, id, data, updated_at) VALUES (?, ?, ?, ?)",
            (kind, md.id, blob, self._updated_at),
        )
        db.execute(
            "INSERT OR REPLACE INTO slugs (kind, org, slug, id) VALUES (?, ?, ?, ?)",
            (kind, md.org, md.slug, md.id),
        )
        db.execute("INSERT OR IGNORE INTO by_org VALUES (?, ?, ?)", (kind, md.org, md.id))
        for ref in md.owner_references:
            db.execute("INSERT OR IGNORE INTO by_owner VALUES (?, ?, ?)", (ref.id, kind, md.id))

    def _restore_object(self, kind: str, obj: Resource, blob: bytes) -> None:
        md = obj.metadata
        holder = self._one(
            "SELECT id FROM slugs WHERE kind = ? AND org = ? AND slug = ?", kind, md.org, md.slug
        )
        if holder is not None and holder != md.id:
            raise slug_taken(kind, md.slug, md.org)
        old = self.find(kind, md.id)
        if old is not None:
            self._drop_indexes(kind, old, keep=obj)
        self._write(kind, obj, blob)

    def _restore_event(self, revision: int, blob: bytes) -> None:
        event = Event.FromString(blob)
        self.db.execute(
            "INSERT OR REPLACE INTO events (revision, data) VALUES (?, ?)", (revision, blob)
        )
        self.db.execute(
            "INSERT OR IGNORE INTO event_index VALUES (?, ?, ?)", (event.kind, event.id, revision)
        )

    def _oldest_events(self, limit: int) -> list[Event]:
        return self.events_since(0, limit)

    def _drop_event(self, event: Event) -> None:
        self.db.execute("DELETE FROM events WHERE revision = ?", (event.revision,))
        self.db.execute(
            "DELETE FROM event_index WHERE kind = ? AND id = ? AND revision = ?",
            (event.kind, event.id, event.revision),
        )

    def _set_compacted(self, revision: int) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('compacted', ?)", (revision,))

    def _drop_indexes(self, kind: str, old: Resource, keep: Resource | None = None) -> None:
        """Deletes the index rows of ``old`` that ``keep`` will not rewrite."""
        md, db = old.metadata, self.db
        if keep is None or (keep.metadata.org, keep.metadata.slug) != (md.org, md.slug):
            db.execute(
                "DELETE FROM slugs WHERE kind = ? AND org = ? AND slug = ?", (kind, md.org, md.slug)
            )
        if keep is None or keep.metadata.org != md.org:
            db.execute(
                "DELETE FROM by_org WHERE kind = ? AND org = ? AND id = ?", (kind, md.org, md.id)
            )
        kept = {ref.id for ref in keep.metadata.owner_references} if keep else set()
        for owner in {ref.id for ref in md.owner_references} - kept:
            db.execute(
                "DELETE FROM by_owner WHERE owner_id = ? AND kind = ? AND id = ?",
                (owner, kind, md.id),
            )

    def _remove_object(self, kind: str, id: str) -> None:
        self.db.execute("DELETE FROM resources WHERE kind = ? AND id = ?", (kind, id))

    def delete_all(self, kind: str) -> int:
        rows = self.db.execute("SELECT id FROM resources WHERE kind = ? ORDER BY id", (kind,))
        ids = [id for (id,) in rows]
        for id in ids:
            self.delete(kind, id)
        return len(ids)

    def set_meta(self, key: str, value: str) -> None:
        check_key_size("x:" + key, "meta key")
        self.state.touched()
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", ("x:" + key, value))

    def add_tuple(self, tuple_: str) -> bool:
        check_key_size(tuple_, "relation")
        added = self.db.execute("INSERT OR IGNORE INTO tuples VALUES (?)", (tuple_,)).rowcount == 1
        if added:
            self.state.touched()
        return added

    def remove_tuple(self, tuple_: str) -> bool:
        if len(tuple_.encode()) > MAX_KEY_BYTES:
            return False  # add_tuple refuses such a tuple, as LMDB would
        removed = self.db.execute("DELETE FROM tuples WHERE tuple = ?", (tuple_,)).rowcount == 1
        if removed:
            self.state.touched()
        return removed

    def finish(self) -> None:
        if self.state.revision != self.state.start:
            self.db.execute(
                "UPDATE meta SET value = ? WHERE key = 'revision'", (self.state.revision,)
            )


def _stored_indexes(db: sqlite3.Connection) -> Indexes:
    return Indexes(
        slugs={
            (k, o, s): id for k, o, s, id in db.execute("SELECT kind, org, slug, id FROM slugs")
        },
        by_org=set(db.execute("SELECT kind, org, id FROM by_org")),
        by_owner=set(db.execute("SELECT owner_id, kind, id FROM by_owner")),
    )


def _check(r: _SqliteReader) -> builtins.list[str]:
    """Cross-checks resources and every index, both ways. Returns the problems."""
    db, revision = r.db, r.revision()
    problems = [f"sqlite: {msg}" for (msg,) in db.execute("PRAGMA quick_check") if msg != "ok"]
    rows = db.execute("SELECT kind, id, data FROM resources")
    wanted = decode_objects(rows, revision=revision, problems=problems)
    problems += compare(wanted, _stored_indexes(db)).problems("resources")
    implied = _events(db, problems)
    (last,) = db.execute("SELECT max(revision) FROM events").fetchone()
    if last is not None and last > revision:
        problems.append("events: an event is newer than the store revision")
    if _has_table(db, "event_index"):  # a version 1 file opened read-only has none yet
        problems += _event_index(db, implied).problems("event_index")
    return problems


def _events(db: sqlite3.Connection, problems: list[str]) -> set[EventEntry]:
    """Problems of the events themselves; returns the event_index rows they imply."""
    implied: set[EventEntry] = set()
    for rev, blob in db.execute("SELECT revision, data FROM events"):
        try:
            event = Event.FromString(blob)
        except Exception as e:  # any decode failure is a finding, not a crash
            problems.append(f"events/{rev}: cannot decode: {e}")
            continue
        if event.revision != rev:
            problems.append(f"events/{rev}: holds another revision")
        implied.add((event.kind, event.id, rev))
    return implied


def _event_index(db: sqlite3.Connection, implied: set[EventEntry]) -> EventIndex:
    stored = set(db.execute("SELECT kind, id, revision FROM event_index"))
    return compare_events(implied, stored)


def _repair(w: _SqliteWriteTxn) -> builtins.list[str]:
    """Rewrites every index row from the resources; says what changed."""
    db, problems = w.db, builtins.list[str]()
    rows = db.execute("SELECT kind, id, data FROM resources").fetchall()
    wanted = decode_objects(rows, revision=1 << 63, problems=problems)
    differences = compare(wanted, _stored_indexes(db))
    stray, missing = differences.stray, differences.missing
    db.executemany("DELETE FROM slugs WHERE kind = ? AND org = ? AND slug = ?", stray.slugs)
    db.executemany("DELETE FROM by_org WHERE kind = ? AND org = ? AND id = ?", stray.by_org)
    db.executemany(
        "DELETE FROM by_owner WHERE owner_id = ? AND kind = ? AND id = ?", stray.by_owner
    )
    db.executemany(
        "INSERT OR REPLACE INTO slugs VALUES (?, ?, ?, ?)",
        [(*key, id) for key, id in missing.slugs.items()],
    )
    db.executemany("INSERT INTO by_org VALUES (?, ?, ?)", missing.by_org)
    db.executemany("INSERT INTO by_owner VALUES (?, ?, ?)", missing.by_owner)
    changes = differences.changes()
    events = _event_index(db, _events(db, problems))
    db.executemany(
        "DELETE FROM event_index WHERE kind = ? AND id = ? AND revision = ?", events.stray
    )
    db.executemany("INSERT INTO event_index VALUES (?, ?, ?)", events.missing)
    changes += events.changes("event_index")
    (last,) = db.execute("SELECT max(revision) FROM events").fetchone()
    newest = max(last or 0, wanted.newest_version)
    if newest > w.state.start:
        w.state.advance(newest)
        changes.append(f"meta/revision: set from {w.state.start} to {newest}")
    if changes:
        w.state.touched()
    return changes


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    row = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
    return row.fetchone() is not None


def _upgrade(db: sqlite3.Connection) -> None:
    """Adds event_index to a version 1 file and fills it from the events, in one transaction."""
    db.execute("BEGIN IMMEDIATE")
    try:
        if not _has_table(db, "event_index"):  # else another process just did
            db.execute(_EVENT_INDEX)
            rows = db.execute("SELECT data FROM events").fetchall()
            events = [Event.FromString(blob) for (blob,) in rows]
            db.executemany(
                "INSERT INTO event_index VALUES (?, ?, ?)",
                [(e.kind, e.id, e.revision) for e in events],
            )
            db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (SCHEMA_VERSION,))
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def _stored_version(db: sqlite3.Connection, path: Path) -> int | None:
    """The file's schema version; None for an empty file. Refuses foreign files."""
    tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not tables:
        return None
    row = None
    if "meta" in tables:
        row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if row is None:
        raise StoreError(
            f"{path} is an SQLite database but not a Stigmer store; to import an upstream "
            f"Stigmer database, run: stigmer migrate from-sqlite {path}"
        )
    return int(row[0])


def _create_tables(db: sqlite3.Connection, path: Path) -> None:
    """Creates the schema in one transaction, unless another process just did."""
    db.execute("BEGIN IMMEDIATE")
    try:
        if _stored_version(db, path) is None:
            for ddl in _TABLES:
                db.execute(ddl)
            db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
            db.execute("INSERT INTO meta VALUES ('revision', 0)")
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def _create_file(path: Path, *, create: bool) -> None:
    """Creates the database file 0600 (its directory 0700) before SQLite does.

    SQLite would create it 0644, and it gives the -wal and -shm files the mode
    of the database file, so this also keeps those private. Without ``create``
    (a read) a missing or empty file is NoStore, and nothing is made.
    """
    if not create and not holds_data(path):
        raise no_store(path)
    if path.is_file() and on_readonly_media(path):
        return  # nothing to create, and nothing may be
    if not path.parent.exists():
        make_private_dir(path.parent)
    if path.is_dir():
        raise StoreError(
            f"{path} is a directory; a sqlite: store names a file, e.g. sqlite:{path}/stigmer.db"
        )
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)


class SqliteStore(Shortcuts):
    """The SQLite-backed Store. Safe to share between threads and processes."""

    # format_version is the format of the files once opened (opening upgrades an
    # older one); ``stigmer version`` shows it.
    format_version = SCHEMA_VERSION

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
        create: bool = True,
    ) -> None:
        self.path = Path(path).expanduser().absolute()
        self.url = f"sqlite:{self.path}"
        self.limits = registry.BACKENDS["sqlite"].limits
        self._timeout_s = busy_timeout_ms / 1000
        self._closed = False
        self._pid = os.getpid()
        self._idle: list[sqlite3.Connection] = []
        _create_file(self.path, create=create)
        # On read-only media SQLite can neither take locks nor use the WAL's
        # shared memory; opened immutable, it reads without them.
        self._media_readonly = on_readonly_media(self.path)
        db = self._connect()
        try:
            self._init_schema(db)
        except BaseException:
            db.close()
            raise
        if not self._media_readonly:
            harden_files(self._files())
        self._idle.append(db)

    # -- connections ----------------------------------------------------------

    def _files(self) -> builtins.list[Path]:
        return [self.path, *(Path(f"{self.path}{end}") for end in ("-wal", "-shm"))]

    def _failure(self, e: sqlite3.Error) -> StoreError:
        """Our error for an SQLite one, naming the store and what to do."""
        # sqlite_errorcode is missing on errors of the sqlite3 module itself.
        code: int = getattr(e, "sqlite_errorcode", 0)
        # SQLITE_FULL is ENOSPC; a failed write is also what a full quota or a
        # file-size limit gives (EFBIG), and, as for LMDB, a failing disk.
        if code in (sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR_WRITE):
            return StoreFull(f"store {self.url}: disk full or failing: {e}; free space and retry")
        if code & 0xFF == sqlite3.SQLITE_READONLY and self._media_readonly:
            return StoreError(f"store {self.url} is on read-only media: reads work, writes cannot")
        if code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):  # & 0xFF: primary code
            return StoreError(
                f"store {self.url} is busy: another process held it for {self._timeout_s:g} s; "
                "try again"
            )
        return StoreError(f"store {self.url}: {e}")

    def _connect(self) -> sqlite3.Connection:
        try:
            # check_same_thread=False: the pool lends a connection to one thread
            # at a time, but not always to the same thread.
            target = f"file:{self.path}?immutable=1" if self._media_readonly else self.path
            db = sqlite3.connect(
                target,
                timeout=self._timeout_s,
                isolation_level=None,
                check_same_thread=False,
                uri=self._media_readonly,
            )
            db.execute("PRAGMA synchronous = FULL")
            db.execute(f"PRAGMA journal_size_limit = {_WAL_SIZE_LIMIT}")
        except sqlite3.Error as e:
            raise self._failure(e) from e
        return db

    def _init_schema(self, db: sqlite3.Connection) -> None:
        """Checks the schema version first, so a newer or foreign file is left as it was."""
        try:
            version = _stored_version(db, self.path)
            if version is not None and version > SCHEMA_VERSION:
                raise schema_too_new(self.path, version, SCHEMA_VERSION)
            if self._media_readonly:
                return
            if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                db.execute("PRAGMA journal_mode = WAL")  # recorded in the file: set once
            if version is None:
                _create_tables(db, self.path)
            elif version < SCHEMA_VERSION:
                _upgrade(db)
        except sqlite3.Error as e:
            raise self._failure(e) from e

    def _checkout(self) -> sqlite3.Connection:
        """Lends a connection of this process to the caller alone."""
        if self._closed:
            raise StoreClosed(f"store {self.url} is closed")
        if self._pid != os.getpid():  # a forked child: leave the parent's alone
            _INHERITED.extend(self._idle)
            self._idle, self._pid = [], os.getpid()
        try:
            return self._idle.pop()
        except IndexError:
            return self._connect()

    def _checkin(self, db: sqlite3.Connection) -> None:
        if self._pid != os.getpid():
            _INHERITED.append(db)  # lent before a fork; see _INHERITED
        elif self._closed or db.in_transaction:  # in_transaction: a rollback failed
            db.close()
        else:
            self._idle.append(db)

    def _reading(self, fn: Callable[[_SqliteReader], T]) -> T:
        """Runs ``fn`` on a borrowed connection; each statement sees the latest commit."""
        db = self._checkout()
        try:
            return fn(_SqliteReader(db))
        except sqlite3.Error as e:
            raise self._failure(e) from e
        finally:
            self._checkin(db)

    # -- reads ----------------------------------------------------------------

    @contextmanager
    def _snapshot(self) -> Iterator[_SqliteReader]:
        db = self._checkout()
        try:
            db.execute("BEGIN")
            try:
                reader = _SqliteReader(db)
                reader.revision()  # a deferred BEGIN snapshots at the first read: do it now
                yield reader
            finally:
                db.execute("COMMIT")
        except sqlite3.Error as e:
            raise self._failure(e) from e
        finally:
            self._checkin(db)

    def read(self) -> AbstractContextManager[Reader]:
        return self._snapshot()

    def find(self, kind: str, id: str) -> Resource | None:
        return self._reading(lambda r: r.find(kind, id))

    def find_by_slug(self, kind: str, org: str, slug: str) -> Resource | None:
        return self._reading(lambda r: r.find_by_slug(kind, org, slug))

    def list(
        self, kind: str, *, org: str | None = None, selector: Selector | None = None
    ) -> ResourceList:
        return self._reading(lambda r: r.list(kind, org=org, selector=selector))

    def list_owned(self, owner_id: str, kind: str | None = None) -> ResourceList:
        return self._reading(lambda r: r.list_owned(owner_id, kind))

    def count(self, kind: str, *, org: str | None = None) -> int:
        return self._reading(lambda r: r.count(kind, org=org))

    def orgs(self, kind: str) -> builtins.list[str]:
        return self._reading(lambda r: r.orgs(kind))

    def revision(self) -> int:
        return self._reading(lambda r: r.revision())

    def get_meta(self, key: str) -> str | None:
        return self._reading(lambda r: r.get_meta(key))

    def tuples(self, prefix: str = "") -> builtins.list[str]:
        return self._reading(lambda r: r.tuples(prefix))

    def compacted(self) -> int:
        return self._reading(lambda r: r.compacted())

    def events_since(self, revision: int, limit: int | None = None) -> EventList:
        return self._reading(lambda r: r.events_since(revision, limit))

    def events_of(self, kind: str, id: str, *, limit: int = 10) -> EventList:
        return self._reading(lambda r: r.events_of(kind, id, limit=limit))

    # -- writes ---------------------------------------------------------------

    def transact(self, fn: Callable[[WriteTxn], T], *, actor: str = "") -> T:
        db = self._checkout()
        try:
            # IMMEDIATE takes the write lock before the first read, so what fn
            # reads (a compare-and-swap's version) is still true at COMMIT.
            db.execute("BEGIN IMMEDIATE")
            try:
                w = _SqliteWriteTxn(db, actor)
                result = fn(w)
                if not w.state.dirty:
                    db.execute("ROLLBACK")  # nothing written: nothing to commit or fsync
                    return result
                w.finish()
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:  # SQLite rolls back by itself on some errors
                    db.execute("ROLLBACK")
                raise
            return result
        except sqlite3.Error as e:
            raise self._failure(e) from e
        finally:
            self._checkin(db)

    # -- maintenance ----------------------------------------------------------

    def check(self) -> builtins.list[str]:
        with self._snapshot() as r:
            return _check(r)

    def repair(self) -> builtins.list[str]:
        return self.transact(_repair)  # type: ignore[arg-type]

    def leader(self) -> Leader:
        """The store's leadership: a file lock, ``FILE.controller.lock`` beside the database."""
        from stigmer.store.leading import FileLeader

        return FileLeader(self.path.with_name(f"{self.path.name}.controller.lock"), self.path)

    def stats(self) -> Stats:
        from stigmer.store.protocol import Stats

        with self._snapshot() as r:
            stats = Stats(revision=r.revision(), bytes_on_disk=0)
            rows = r.db.execute("SELECT kind, org, count(*) FROM by_org GROUP BY kind, org")
            for kind, org, n in rows:
                stats.counts.setdefault(kind, {})[org] = n
        for f in self._files():
            with suppress(FileNotFoundError):  # another process's last close removes the WAL
                stats.bytes_on_disk += f.stat().st_size
        return stats

    def close(self) -> None:
        """Closes the idle connections; a borrowed one is closed when it comes back."""
        if self._closed:
            return
        self._closed = True
        if self._pid != os.getpid():
            _INHERITED.extend(self._idle)
            self._idle = []
        while self._idle:
            self._idle.pop().close()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
