"""``check()`` and ``repair()`` of the LMDB store: every key of every sub-database.

Damaged bytes can break anything, so nothing here trusts what it reads:
- every sub-database is walked to its end, and each entry is looked up again
  by its key, which finds a B-tree whose cursor and lookup disagree;
- every key and value is decoded (UTF-8, protobuf, 8-byte revisions), and
  what does not decode is a finding, never an exception;
- the objects' implied index entries are compared with the stored ones, both
  ways (stigmer.store.checking).

The library's errors are caught as Exception: only lmdbstore imports lmdb.
"""

from __future__ import annotations

import struct
from typing import Any

from stigmer.api.v1.event_pb2 import Event
from stigmer.store.checking import EventEntry, Indexes, compare, compare_events, decode_objects

_REV = struct.Struct(">Q")  # lmdbstore's layout of revisions and event keys
_INDEXES = ("slugs", "by_org", "by_owner")
Entries = list[tuple[bytes, bytes]]


def _show(key: bytes) -> str:
    return key.decode(errors="replace").replace("\0", " -> ")


def _walk(txn: Any, dbs: dict[str, Any], name: str, problems: list[str]) -> Entries:
    """Every entry of sub-database ``name``; one that a lookup misses is a problem."""
    out: Entries = []
    try:
        with txn.cursor(db=dbs[name]) as cur:
            out.extend(cur)
    except Exception as e:  # a damaged page: report it, check what was read
        problems.append(f"{name}: cannot be read to the end: {e}")
    for key, value in out:
        try:
            found = txn.get(key, db=dbs[name])
        except Exception:  # a key the library refuses to look up is damage too
            found = None
        if found != value:
            problems.append(f"{name}/{_show(key)}: a lookup by key does not find it")
    return out


def _revision(txn: Any, dbs: dict[str, Any], problems: list[str]) -> int:
    raw = txn.get(b"revision", db=dbs["meta"])
    if raw is None or len(raw) != _REV.size:
        problems.append("meta/revision: missing or not an 8-byte revision")
        return 1 << 63  # unknown: compare nothing against it
    return int(_REV.unpack(raw)[0])


def _objects(entries: Entries, problems: list[str]) -> list[tuple[str, str, bytes]]:
    rows = []
    for key, blob in entries:
        try:
            kind, sep, id = key.decode().partition("/")
        except UnicodeDecodeError:
            sep = ""
        if not sep:
            problems.append(f"objects/{_show(key)}: malformed key")
            continue
        rows.append((kind, id, blob))
    return rows


def _parse_index(name: str, key: bytes, value: bytes) -> tuple[str, ...] | None:
    """An index entry as checking's tuple, or None when it is malformed."""
    try:
        if name == "by_owner":
            owner, sep, rest = key.decode().partition("\0")
            kind, sep2, id = rest.partition("/")
            return (owner, kind, id) if sep and sep2 and not value else None
        parts = key.decode().split("/", 2)
        if len(parts) != 3:
            return None
        if name == "slugs":
            return (*parts, value.decode())
        return tuple(parts) if not value else None
    except UnicodeDecodeError:
        return None


def _stored_indexes(txn: Any, dbs: dict[str, Any], problems: list[str]) -> Indexes:
    stored = Indexes()
    for name in _INDEXES:
        for key, value in _walk(txn, dbs, name, problems):
            entry = _parse_index(name, key, value)
            if entry is None:
                problems.append(f"{name}/{_show(key)}: malformed entry")
            elif name == "slugs":
                stored.slugs[entry[:3]] = entry[3]  # type: ignore[index]
            elif name == "by_org":
                stored.by_org.add(entry)  # type: ignore[arg-type]
            else:
                stored.by_owner.add(entry)  # type: ignore[arg-type]
    return stored


def _check_events(entries: Entries, revision: int, problems: list[str]) -> set[EventEntry]:
    """Problems of the events themselves; returns the object index entries they imply."""
    implied: set[EventEntry] = set()
    for key, blob in entries:
        where = f"events/{key.hex()}"
        if len(key) != _REV.size:
            problems.append(f"{where}: malformed key")
            continue
        rev = int(_REV.unpack(key)[0])
        try:
            event = Event.FromString(blob)
        except Exception as e:  # any decode failure is a finding
            problems.append(f"events/{rev}: cannot decode: {e}")
            continue
        if event.revision != rev:
            problems.append(f"events/{rev}: holds revision {event.revision}")
        if rev > revision:
            problems.append(f"events/{rev}: newer than the store revision {revision}")
        implied.add((event.kind, event.id, rev))
    return implied


def _event_key(entry: EventEntry) -> bytes:
    """lmdbstore's by_object key: kind/id NUL 8-byte revision."""
    kind, id, rev = entry
    return f"{kind}/{id}".encode() + b"\0" + _REV.pack(rev)


def _parse_event_key(key: bytes) -> EventEntry | None:
    """A by_object key as (kind, id, revision), or None when it is malformed."""
    cut = len(key) - _REV.size - 1
    if cut < 0 or key[cut] != 0:
        return None
    try:
        kind, sep, id = key[:cut].decode().partition("/")
    except UnicodeDecodeError:
        return None
    return (kind, id, int(_REV.unpack(key[cut + 1 :])[0])) if sep else None


def _event_index(entries: Entries, problems: list[str]) -> dict[bytes, EventEntry]:
    """The by_object entries by key; a malformed one is a problem (and not returned)."""
    stored = {}
    for key, value in entries:
        entry = _parse_event_key(key)
        if entry is None or value:
            problems.append(f"by_object/{_show(key)}: malformed entry")
        else:
            stored[key] = entry
    return stored


def _check_text(name: str, entries: Entries, problems: list[str]) -> None:
    """meta's caller keys and values, and iam's tuples, must be UTF-8."""
    for key, value in entries:
        if name == "meta" and key in (b"schema_version", b"revision", b"compacted"):
            continue
        if name == "meta" and not key.startswith(b"x:"):
            problems.append(f"meta/{_show(key)}: unknown key")
        try:
            key.decode()
            value.decode()
        except UnicodeDecodeError:
            problems.append(f"{name}/{_show(key)}: not UTF-8")


def check(txn: Any, dbs: dict[str, Any]) -> list[str]:
    """Every problem found in the store, read in the read transaction ``txn``."""
    problems: list[str] = []
    revision = _revision(txn, dbs, problems)
    stored = _stored_indexes(txn, dbs, problems)
    rows = _objects(_walk(txn, dbs, "objects", problems), problems)
    wanted = decode_objects(rows, revision=revision, problems=problems)
    problems += compare(wanted, stored).problems("objects")
    implied = _check_events(_walk(txn, dbs, "events", problems), revision, problems)
    if "by_object" in dbs:  # a version 1 store opened read-only has none yet
        stored_events = set(_event_index(_walk(txn, dbs, "by_object", problems), problems).values())
        problems += compare_events(implied, stored_events).problems("by_object")
    for name in ("meta", "iam"):
        _check_text(name, _walk(txn, dbs, name, problems), problems)
    return problems


def _wanted_entries(wanted: Indexes) -> dict[str, dict[bytes, bytes]]:
    """The raw keys and values of the index entries ``wanted`` names."""
    return {
        "slugs": {f"{k}/{o}/{s}".encode(): id.encode() for (k, o, s), id in wanted.slugs.items()},
        "by_org": {f"{k}/{o}/{id}".encode(): b"" for k, o, id in wanted.by_org},
        "by_owner": {f"{w}\0{k}/{id}".encode(): b"" for w, k, id in wanted.by_owner},
    }


def repair(txn: Any, dbs: dict[str, Any]) -> list[str]:
    """Rewrites every index from the objects in write transaction ``txn``; says what changed.

    An object that cannot be decoded keeps no index entry: ``check`` goes on
    reporting it. The revision is raised to the newest event or object.
    """
    problems: list[str] = []
    entries = _walk(txn, dbs, "objects", problems)
    wanted = decode_objects(_objects(entries, problems), revision=1 << 63, problems=problems)
    changes: list[str] = []
    for name, want in _wanted_entries(wanted).items():
        have = dict(_walk(txn, dbs, name, problems))
        for key in sorted(k for k, v in have.items() if want.get(k) != v):
            txn.delete(key, db=dbs[name])
            changes.append(f"{name}/{_show(key)}: removed")
        for key in sorted(k for k, v in want.items() if have.get(k) != v):
            txn.put(key, want[key], db=dbs[name])
            changes.append(f"{name}/{_show(key)}: added")
    changes += _repair_event_index(txn, dbs, problems)
    changes += _repair_revision(txn, dbs, wanted.newest_version)
    return changes


def _repair_event_index(txn: Any, dbs: dict[str, Any], problems: list[str]) -> list[str]:
    """Rewrites by_object from the readable events: strays and malformed entries go."""
    implied = _check_events(_walk(txn, dbs, "events", problems), 1 << 63, problems)
    entries = _walk(txn, dbs, "by_object", problems)
    stored = _event_index(entries, problems)
    changes = []
    for key, _ in entries:
        if key not in stored:  # malformed: no event could be behind it
            txn.delete(key, db=dbs["by_object"])
            changes.append(f"by_object/{_show(key)}: removed")
    differences = compare_events(implied, set(stored.values()))
    for entry in differences.stray:
        txn.delete(_event_key(entry), db=dbs["by_object"])
    for entry in differences.missing:
        txn.put(_event_key(entry), b"", db=dbs["by_object"])
    return changes + differences.changes("by_object")


def _repair_revision(txn: Any, dbs: dict[str, Any], newest_version: int) -> list[str]:
    """Raises a revision that is behind the events or objects, so no revision is reused."""
    raw = txn.get(b"revision", db=dbs["meta"])
    current = int(_REV.unpack(raw)[0]) if raw is not None and len(raw) == _REV.size else 0
    newest = current
    with txn.cursor(db=dbs["events"]) as cur:
        if cur.last() and len(cur.key()) == _REV.size:
            newest = max(newest, int(_REV.unpack(cur.key())[0]))
    newest = max(newest, newest_version)
    if newest == current and raw is not None:
        return []
    txn.put(b"revision", _REV.pack(newest), db=dbs["meta"])
    return [f"meta/revision: set from {current} to {newest}"]
