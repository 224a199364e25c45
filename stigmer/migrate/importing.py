"""Importing an upstream Stigmer database: ``stigmer migrate from-sqlite``.

Upstream Stigmer keeps every resource in one SQLite table,
``resources(kind, id, data, updated_at)``. Its ``data`` column holds the
binary protobuf of the resource, with the field numbers we share
(docs/architecture.md, "Resources"). ``import_upstream`` works in four steps:

1. It reads that file read-only (``mode=ro``) and never writes to it.
2. It plans what each row of a kind this store knows (``agent``,
   ``agent_instance``, ``environment``, ``skill``, ``mcp_server``) becomes here.
3. It writes the plan through the Store, one transaction per chunk.
4. It reconciles what it imported. The reconcile creates missing default
   instances and links owner references.

Ids, slugs, orgs, labels, spec, status and audit are kept as upstream wrote
them. When a row lacks something this store needs, the import fills it in
and says so: an empty org becomes "local", and an empty slug is derived from
the name. Nothing is dropped in silence, and every row ends up in the Report:

- a row that does not decode, or breaks the schema, is skipped, with the reason;
- when two objects share one (kind, org, slug), the second one (in id order),
  or one that meets a slug already taken here, is imported under a new slug
  ``<slug>-2`` (``-3``...). If it is an agent, its default instance is
  renamed to match;
- an instance whose agent is gone (orphaned) is imported and named;
- rows of kinds this store does not have are counted in the report's notes, because this store
  has no place for them;
- upstream's version history (``resource_audit``) becomes the history of
  each object the import creates (``stigmer history``), oldest first, where
  its rows decode as that object; the notes count what came and what did not.

Importing again changes nothing. The store's meta keeps the sha256 of each
imported row, so a row that has not changed upstream is left alone, even if
it was edited here since. A row that changed upstream updates the fields
upstream owns. The id, org, slug and status stay as they are here, because
the reconcile now owns the status. Objects deleted upstream stay here. The
caller authorizes the import; the CLI asks for "store migrate".
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from stigmer.api import kinds, naming
from stigmer.api.kinds import AGENT, AGENT_INSTANCE, Kind, Resource
from stigmer.api.v1.agent_instance_pb2 import AgentInstance
from stigmer.api.v1.agent_pb2 import Agent
from stigmer.api.v1.event_pb2 import EventType
from stigmer.errors import StepFailed, StoreError
from stigmer.manifests import resources
from stigmer.reconcilers import history, masking
from stigmer.reconcilers.framework import Request
from stigmer.reconcilers.instances import find_agent
from stigmer.reconcilers.running import Batch, Session, run_batch
from stigmer.store import Reader, Store, WriteTxn, registry

DEFAULT_PATH = "~/.stigmer/stigmer.db"
CHUNK = 1000  # at most: a backend that declares a smaller chunk gets its own
_IMPORTED_KINDS = {k.key: k for k in kinds.KINDS}  # upstream's kind column holds the keys
_KEYS_SQL = ", ".join(f"'{key}'" for key in _IMPORTED_KINDS)  # the registry's own names
_HASH_PREFIX = "migrate/upstream/"

# Outcomes, in words that finish "agent/foo ...".
IMPORTED, UPDATED, UNCHANGED = "imported", "updated", "unchanged"
SKIPPED, FAILED, CREATED = "skipped", "failed", "created"  # created: by the reconcile
OUTCOMES = (IMPORTED, UPDATED, UNCHANGED, SKIPPED, FAILED, CREATED)  # a summary's order


@dataclass(frozen=True, slots=True)
class Row:
    """One row of upstream's resources table."""

    kind: str
    id: str
    data: object  # bytes in an upstream database; anything else is reported


@dataclass(slots=True)
class Source:
    """What an upstream database holds for this import."""

    path: Path
    rows: list[Row]  # grouped by kind, each kind's in id order
    schema_version: int | None = None
    notes: list[str] = field(default_factory=list)
    # (kind, resource id) -> its resource_audit rows' data, oldest first
    audits: dict[tuple[str, str], list[object]] = field(default_factory=dict)


@dataclass(slots=True)
class Entry:
    """What happened to one upstream row, or to one object the reconcile created.

    ``error`` is set when the row could not be imported (or written, or
    reconciled); ``notes`` say what was not clean but was imported anyway.
    """

    kind: Kind
    id: str
    org: str = ""
    slug: str = ""
    outcome: str = ""
    notes: list[str] = field(default_factory=list)
    error: str = ""


@dataclass(slots=True)
class Report:
    """Everything an import did (or, under dry_run, would do), for the CLI to print."""

    source: Path
    dry_run: bool = False
    schema_version: int | None = None
    entries: list[Entry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """False when any row could not be imported, written or reconciled."""
        return not any(e.error for e in self.entries)

    def count(self, outcome: str) -> int:
        return sum(1 for e in self.entries if e.outcome == outcome)

    def counts(self) -> list[tuple[str, int]]:
        """Each outcome with how many entries had it, in a summary's order."""
        return [(o, self.count(o)) for o in OUTCOMES]

    def failed_rows(self) -> str:
        """``2 rows``: how many could not be imported cleanly."""
        return row_count(sum(1 for e in self.entries if e.error))


# -- reading the upstream file ----------------------------------------------------


def _connect(file: Path) -> sqlite3.Connection:
    """Opens the file read-only: SQLite itself refuses every write (mode=ro)."""
    return sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)


def _check_layout(db: sqlite3.Connection, file: Path) -> set[str]:
    """The file's tables; refuses a file that is not an upstream Stigmer database."""
    try:
        tables = {n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as e:
        raise StoreError(
            f"{file} is not an SQLite database ({e}); give the path of upstream Stigmer's "
            f"database, by default {DEFAULT_PATH}"
        ) from e
    if {"meta", "slugs"} <= tables:
        raise StoreError(
            f"{file} is a Stigmer store, not an upstream database; "
            f"copy it with: stigmer migrate copy --from {registry.file_url(file)} --to URL"
        )
    if "resources" not in tables:
        raise StoreError(
            f'{file} is an SQLite database without a "resources" table, so not an '
            "upstream Stigmer database"
        )
    columns = {row[1] for row in db.execute("PRAGMA table_info(resources)")}
    if not {"kind", "id", "data"} <= columns:
        raise StoreError(f'{file}: table "resources" has no kind, id and data columns')
    return tables


def _notes(db: sqlite3.Connection, tables: set[str]) -> list[str]:
    """What the file holds that this import leaves behind, in words."""
    notes = []
    others = db.execute(
        f"SELECT kind, count(*) FROM resources WHERE kind NOT IN ({_KEYS_SQL})"
        " GROUP BY kind ORDER BY kind"
    )
    known = ", ".join(k.plural for k in kinds.KINDS)
    for kind, n in others:
        notes.append(f'{row_count(n)} of kind "{kind}" not imported: only {known} are')
    return notes


def _audits(db: sqlite3.Connection, tables: set[str]) -> dict[tuple[str, str], list[object]]:
    """Upstream's version history, by object, oldest first."""
    if "resource_audit" not in tables:
        return {}
    found: dict[tuple[str, str], list[object]] = {}
    rows = db.execute("SELECT kind, resource_id, data FROM resource_audit ORDER BY archived_at, id")
    for kind, id, data in rows:
        found.setdefault((kind, id), []).append(data)
    return found


def _history(kind: Kind, id: str, rows: list[object]) -> list[Resource]:
    """The audit rows that decode as the object ``id`` of ``kind``; the others are left."""
    kept = []
    for data in rows:
        obj = _decode(kind, Row(kind.key, id, data))
        if not isinstance(obj, str) and obj.metadata.id in ("", id):
            kept.append(obj)
    return kept


def _audit_notes(source: Source, items: list[_Item]) -> list[str]:
    """What became of upstream's version history, in words."""
    total = sum(len(rows) for rows in source.audits.values())
    came = sum(len(i.history) for i in items)
    notes = []
    if came:
        notes.append(f"{row_count(came)} of version history (resource_audit) imported as history")
    if total - came:
        notes.append(
            f"{row_count(total - came)} of version history (resource_audit) not imported: "
            "of another kind, of an object not imported now, or not decoding as its object"
        )
    return notes


def row_count(n: int) -> str:
    """``1 row``, ``2 rows``."""
    return f"{n} row" if n == 1 else f"{n} rows"


def _schema_version(db: sqlite3.Connection, tables: set[str]) -> int | None:
    if "schema_version" not in tables:
        return None
    (version,) = db.execute("SELECT max(version) FROM schema_version").fetchone()
    return None if version is None else int(version)


def read_source(path: str | os.PathLike[str]) -> Source:
    """Reads the rows of the kinds this store knows from an upstream database, read-only."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise StoreError(
            f"{file}: no such file; give the path of upstream Stigmer's database "
            f"(by default {DEFAULT_PATH})"
        )
    try:
        db = _connect(file)
    except sqlite3.Error as e:
        raise StoreError(f"{file}: cannot open it: {e}") from e
    try:
        tables = _check_layout(db, file)
        rows = db.execute(
            f"SELECT kind, id, data FROM resources WHERE kind IN ({_KEYS_SQL}) ORDER BY kind, id"
        )
        return Source(
            file,
            [Row(kind, id, data) for kind, id, data in rows],
            _schema_version(db, tables),
            _notes(db, tables),
            _audits(db, tables),
        )
    except sqlite3.DatabaseError as e:
        raise StoreError(f"{file}: cannot read it: {e}") from e
    finally:
        db.close()


# -- planning -------------------------------------------------------------------


@dataclass(slots=True)
class _Item:
    """One row on its way in."""

    entry: Entry
    row: Row
    obj: Resource | None = None  # the upstream object, made fit for this store
    live: Resource | None = None  # the object with this id here, if any
    write: Resource | None = None  # what to put; None when nothing changes
    record: bool = False  # whether to record the row's hash
    history: list[Resource] = field(default_factory=list)  # upstream's past versions, oldest first

    @property
    def final(self) -> Resource | None:
        """The object as it will be here once written (before the reconcile)."""
        for obj in (self.write, self.live, self.obj):
            if obj is not None:
                return obj
        return None


def _digest(row: Row) -> str:
    data = row.data if isinstance(row.data, bytes) else b""
    return hashlib.sha256(data).hexdigest()


def _hash_key(row: Row) -> str:
    return f"{_HASH_PREFIX}{row.kind}/{row.id}"


def _scrub(text: str, obj: Resource) -> str:
    """``text`` without any secret of ``obj``, for a report that is printed."""
    for secret in masking.secrets(obj).values():
        if secret:
            text = text.replace(secret, masking.MASK)
    return text


def _decode(kind: Kind, row: Row) -> Resource | str:
    """The row's object, or why it cannot be read."""
    if not isinstance(row.data, bytes):
        return f"data is {type(row.data).__name__}, not binary protobuf"
    try:
        return kind.message.FromString(row.data)
    except Exception as e:  # protobuf's DecodeError; its module is api-layer only
        return f"cannot decode the protobuf: {e}"


def _fit(kind: Kind, row: Row, obj: Resource, notes: list[str]) -> str:
    """Fills in what this store needs; returns why the object cannot come in, or ""."""
    md = obj.metadata
    if not md.id:
        md.id = row.id
        notes.append("metadata.id was empty: took the row's id")
    if md.id != row.id:
        return f"the row's id {row.id!r} holds an object with id {md.id!r}"
    if "\0" in md.id:
        return f"id {md.id!r} contains NUL"
    obj.api_version, obj.kind = obj.api_version or kind.api_version, obj.kind or kind.name
    if not md.org:
        md.org = naming.DEFAULT_ORG
        notes.append(f'org was empty: set to "{naming.DEFAULT_ORG}"')
    if not md.slug:
        md.slug = naming.slugify(md.name)
        if not md.slug:
            return f'metadata.name "{md.name}" yields an empty slug and metadata.slug is empty'
        notes.append(f'slug was empty: derived "{md.slug}" from the name')
    md.generation = md.generation or 1
    errors = resources.check(kind, obj, authoring=False)  # upstream's labels and names stand
    return _scrub("; ".join(f"{path}: {msg}" for path, msg in errors), obj)


def _candidate(row: Row) -> _Item:
    """The row decoded, fitted and validated; a skipped entry when it cannot come in."""
    kind = _IMPORTED_KINDS[row.kind]
    item = _Item(Entry(kind, row.id), row)
    obj = _decode(kind, row)
    reason = obj if isinstance(obj, str) else _fit(kind, row, obj, item.entry.notes)
    if reason:
        item.entry.outcome, item.entry.error = SKIPPED, reason
        return item
    assert not isinstance(obj, str)
    item.obj = obj
    item.entry.org, item.entry.slug = obj.metadata.org, obj.metadata.slug
    return item


def _merge(live: Resource, upstream: Resource) -> Resource:
    """``live`` with the fields upstream owns taken from ``upstream``.

    The identity and the status stay: they are this store's now. The
    audit comes along, because it records upstream's changes.
    """
    new = kinds.clone(live)
    md, up = new.metadata, upstream.metadata
    md.name, md.owner_scope = up.name, up.owner_scope
    for name in ("labels", "annotations"):
        getattr(md, name).clear()
        getattr(md, name).update(getattr(up, name))
    del md.tags[:]
    md.tags.extend(up.tags)
    md.ClearField("version")
    if up.HasField("version"):
        md.version.CopyFrom(up.version)
    if new.spec != upstream.spec:
        kinds.replace_spec(new, upstream)
        md.generation += 1
    new.status.ClearField("audit")
    if upstream.status.HasField("audit"):
        new.status.audit.CopyFrom(upstream.status.audit)
    return new


def _compare(item: _Item, reader: Reader) -> None:
    """Decides between imported, updated and unchanged, against this store."""
    obj, entry = item.obj, item.entry
    if obj is None:
        return
    live = reader.find(entry.kind.key, obj.metadata.id)
    if live is None:
        item.write, item.record, entry.outcome = obj, True, IMPORTED
        return
    item.live = live
    entry.org, entry.slug = live.metadata.org, live.metadata.slug
    if reader.get_meta(_hash_key(item.row)) == _digest(item.row):
        entry.outcome = UNCHANGED
        return
    merged = _merge(live, obj)
    item.record = True
    if merged == live:
        entry.outcome = UNCHANGED
        return
    item.write, entry.outcome = merged, UPDATED


def _free_slug(reader: Reader, kind: Kind, org: str, slug: str, taken: set[tuple[str, str]]) -> str:
    n = 2
    while True:
        candidate = f"{slug}-{n}"
        if (org, candidate) not in taken and reader.find_by_slug(kind.key, org, candidate) is None:
            return candidate
        n += 1


def _assign_slugs(
    items: list[_Item], reader: Reader, wanted: dict[str, str]
) -> dict[str, tuple[str, str]]:
    """Gives each new object a slug no other holds in its org; returns id -> (old, new).

    ``wanted`` overrides the slug some objects ask for. Of the new objects
    that ask for one slug, the first in id order keeps it, unless an object
    here holds it already; the others get ``<slug>-N``, a slug nobody asked for.
    """
    new = [i for i in items if i.entry.outcome == IMPORTED and i.obj is not None]
    claims: dict[tuple[str, str], str] = {}
    for item in new:
        assert item.obj is not None
        md = item.obj.metadata
        md.slug = item.entry.slug = wanted.get(md.id, md.slug)
        claims.setdefault((md.org, md.slug), md.id)
    taken, renamed = set(claims), {}
    for item in new:
        assert item.obj is not None
        md = item.obj.metadata
        holder = reader.find_by_slug(item.entry.kind.key, md.org, md.slug)
        other = holder.metadata.id if holder is not None else claims[(md.org, md.slug)]
        if other == md.id:
            continue
        slug = _free_slug(reader, item.entry.kind, md.org, md.slug, taken)
        taken.add((md.org, slug))
        item.entry.notes.append(
            f'renamed from "{md.slug}": that slug is taken in org "{md.org}" by {other}'
        )
        renamed[md.id] = (md.slug, slug)
        md.slug = item.entry.slug = slug
    return renamed


def _followers(instances: list[_Item], renamed: dict[str, tuple[str, str]]) -> dict[str, str]:
    """New slugs for the default instances of renamed agents: ``<new slug>-default``."""
    wanted = {}
    for item in instances:
        inst = item.obj
        if item.entry.outcome != IMPORTED or not isinstance(inst, AgentInstance):
            continue
        old_new = renamed.get(inst.spec.agent_id)
        if old_new is not None and inst.metadata.slug == naming.default_instance_slug(old_new[0]):
            wanted[inst.metadata.id] = naming.default_instance_slug(old_new[1])
            item.entry.notes.append(
                f'renamed from "{inst.metadata.slug}" to follow its agent\'s new slug'
            )
    return wanted


def _note_orphans(instances: list[_Item], agent_items: list[_Item], reader: Reader) -> None:
    """Names the instances whose agent will not be here: not imported, and not here already.

    An instance names its agent by id (or, like a manifest, by slug) in its own org.
    """
    agents = [f.metadata for i in agent_items if (f := i.final) is not None]
    known = {(md.org, md.id) for md in agents} | {(md.org, md.slug) for md in agents}
    skipped = {i.entry.id for i in agent_items if i.entry.outcome == SKIPPED}
    for item in instances:
        inst = item.final
        if not isinstance(inst, AgentInstance):
            continue
        ref, org = inst.spec.agent_id, inst.metadata.org
        if (org, ref) in known or find_agent(reader, ref, org) is not None:
            continue
        why = "was skipped" if ref in skipped else f'is not found in org "{org}"'
        item.entry.notes.append(f'orphaned: its agent "{ref}" {why}')


def _note_missing_defaults(agents: list[_Item], instances: list[_Item], reader: Reader) -> None:
    """Names the agents that come without a default instance (the reconcile makes one)."""
    mine = {
        (f.metadata.org, f.metadata.slug): f.spec.agent_id
        for i in instances
        if isinstance(f := i.final, AgentInstance)
    }
    for item in agents:
        agent = item.final
        if agent is None:
            continue
        md = agent.metadata
        key = (md.org, naming.default_instance_slug(md.slug))
        here = reader.find_by_slug(AGENT_INSTANCE.key, *key)
        owner = mine.get(key) or (here.spec.agent_id if isinstance(here, AgentInstance) else "")
        if owner == md.id:
            continue
        note = f'no default instance "{key[1]}"; the reconcile creates one'
        if isinstance(item.obj, Agent) and item.obj.status.default_instance_id:
            note += f" in place of {item.obj.status.default_instance_id}"
        item.entry.notes.append(note)


def plan(source: Source, reader: Reader) -> list[_Item]:
    """What each row becomes here; reads this store and writes nothing."""
    items = [_candidate(row) for row in source.rows]
    for item in items:
        _compare(item, reader)
    by_kind = {k: [i for i in items if i.entry.kind is k] for k in kinds.KINDS}
    agents, instances = by_kind[AGENT], by_kind[AGENT_INSTANCE]
    renamed = _assign_slugs(agents, reader, {})
    # A default instance follows its agent's new slug; any other kind keeps its own.
    for kind, group in by_kind.items():
        if kind is not AGENT:
            follow = _followers(group, renamed) if kind is AGENT_INSTANCE else {}
            _assign_slugs(group, reader, follow)
    _note_orphans(instances, agents, reader)
    _note_missing_defaults(agents, instances, reader)
    for item in items:  # only an object this import creates takes upstream's history
        if item.write is not None and item.live is None:
            rows = source.audits.get((item.row.kind, item.row.id), [])
            item.history = _history(item.entry.kind, item.row.id, rows)
    return items


# -- writing and reconciling --------------------------------------------------------


def _write_one(txn: WriteTxn, *, item: _Item) -> None:
    if item.write is not None:
        expected = item.live.metadata.resource_version if item.live is not None else 0
        txn.put(item.write, expected_version=expected)
    for old in item.history:  # in the object's transaction, as every history write
        history.record(txn, old)
    txn.set_meta(_hash_key(item.row), _digest(item.row))


def _write_chunk(txn: WriteTxn, *, part: list[_Item]) -> list[tuple[_Item, StoreError]]:
    """Writes each item in a nested transaction, so one failure costs only that item."""
    failed = []
    for item in part:
        try:
            txn.nested(partial(_write_one, item=item))
        except StoreError as e:
            failed.append((item, e))
    return failed


def _write(store: Store, items: list[_Item], *, actor: str, chunk: int) -> None:
    todo = [i for i in items if i.write is not None or i.record]
    for start in range(0, len(todo), max(chunk, 1)):
        part = todo[start : start + chunk]
        failed = store.transact(partial(_write_chunk, part=part), actor=actor)
        for item, error in failed:
            item.entry.outcome, item.entry.error = FAILED, f"not written: {error}"


def _reconcile(store: Store, report: Report, session: Session, chunk: int) -> None:
    """Reconciles every object the rows became; records failures and creations."""
    here = [e for e in report.entries if e.outcome in (IMPORTED, UPDATED, UNCHANGED)]
    requests = [Request("reconcile", e.kind, name=e.slug, org=e.org) for e in here]
    batch = run_batch(store, requests, session, chunk=chunk)
    by_key = {(e.kind.key, e.org, e.slug): e for e in here}
    for result in batch.results:
        entry = by_key.get((result.kind.key, result.org, result.name))
        if entry is not None and result.error is not None:
            cause = result.error.cause if isinstance(result.error, StepFailed) else result.error
            entry.error = f"reconcile failed: {cause}"
    report.entries += _created(batch)


def _created(batch: Batch) -> list[Entry]:
    """Entries for the objects the reconcile created: default instances."""
    made = []
    for change in batch.changes:
        ev = change.event
        if ev.type == EventType.created:
            made.append(Entry(kinds.by_key(ev.kind), ev.id, ev.org, ev.slug, CREATED))
    return made


def import_upstream(
    store: Store,
    path: str | os.PathLike[str] = DEFAULT_PATH,
    *,
    session: Session,
    dry_run: bool = False,
    chunk: int | None = None,
) -> Report:
    """Imports an upstream database into ``store`` and reconciles it; see the module doc.

    Under ``dry_run`` the report says what would happen and nothing is
    written. Raises StoreError when ``path`` is not an upstream database.
    """
    source = read_source(path)
    with store.read() as reader:
        items = plan(source, reader)
    report = Report(
        source.path,
        dry_run,
        source.schema_version,
        [i.entry for i in items],
        source.notes + _audit_notes(source, items),
    )
    if dry_run:
        return report
    size = chunk or min(CHUNK, store.limits.chunk)
    _write(store, items, actor=session.actor, chunk=size)
    _reconcile(store, report, session, size)
    return report
