"""Per-object history: every spec-changing write keeps the object it replaces.

The kept revisions of one object are one value of the store's metadata table,
``history/KIND/ID``: a JSON list, oldest first, of the replaced objects'
protobuf bytes with their revision number, generation, and who wrote that spec
and when. Persist writes it with ``set_meta`` in the same transaction as the
object, so a crash keeps both or neither, and every backend that implements
the Store protocol keeps history with no code of its own; ``migrate copy``
copies it with the other meta values. A create keeps nothing, so a cold apply
pays nothing for history.

The bytes are the object as the store held it, secrets included (the store's
own protection); every reader masks them for output (docs/architecture.md,
"History and rollback").
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, replace
from typing import Any

from stigmer.api import kinds
from stigmer.api.kinds import Kind, Resource
from stigmer.errors import NotFound
from stigmer.store import Reader, WriteTxn

HISTORY_LIMIT = 10  # revisions kept per object, like a Deployment's revisionHistoryLimit
_PREFIX = "history/"
_SHOWN_PATHS = 3  # a CHANGE cell names this many paths, then "+N more"
# json.dumps with separators builds an encoder per call; an update of 10,000 objects needs one.
_COMPACT = json.JSONEncoder(separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class Revision:
    """One kept revision: the object as it was before a spec change replaced it."""

    number: int
    generation: int
    when_ns: int  # when this spec was written
    who: str  # who wrote it
    object: Resource
    change: str = ""  # what this revision changed from the one before it, in short


def key(kind: Kind, id: str) -> str:
    return f"{_PREFIX}{kind.key}/{id}"


def _entries(reader: Reader, kind: Kind, id: str) -> list[dict[str, Any]]:
    raw = reader.get_meta(key(kind, id))
    entries: list[dict[str, Any]] = json.loads(raw) if raw else []
    return entries


def record(txn: WriteTxn, old: Resource, limit: int = HISTORY_LIMIT, *, data: bytes = b"") -> None:
    """Keeps ``old`` as the object's newest revision, dropping all but the last ``limit``.

    Revision numbers only grow, so a number names one spec for as long as it is
    kept, even after older ones are dropped; a limit of 0 keeps none. ``data``:
    ``old`` serialized, when the caller has it.
    """
    if limit <= 0:
        return
    kind = kinds.of(old)
    entries = _entries(txn, kind, old.metadata.id)
    audit = old.status.audit.spec_audit
    entries.append(
        {
            "revision": entries[-1]["revision"] + 1 if entries else 1,
            "generation": old.metadata.generation,
            "when": audit.updated_at.seconds * 1_000_000_000 + audit.updated_at.nanos,
            "who": audit.updated_by.id,
            "object": base64.b64encode(data or old.SerializeToString()).decode("ascii"),
        }
    )
    txn.set_meta(key(kind, old.metadata.id), _COMPACT.encode(entries[-limit:]))


def forget(txn: WriteTxn, obj: Resource) -> None:
    """Drops a deleted object's history (its id is never used again)."""
    name = key(kinds.of(obj), obj.metadata.id)
    if txn.get_meta(name):
        txn.set_meta(name, "")  # the protocol has no meta delete; empty reads as none


def revisions(reader: Reader, kind: Kind, id: str) -> list[Revision]:
    """The kept revisions of one object, oldest first."""
    return [
        Revision(
            number=e["revision"],
            generation=e["generation"],
            when_ns=e["when"],
            who=e["who"],
            object=kind.message.FromString(base64.b64decode(e["object"])),
        )
        for e in _entries(reader, kind, id)
    ]


def changed_paths(before: Any, after: Any, path: str = "") -> list[str]:
    """The leaf paths whose values differ between two plain-data views."""
    if isinstance(before, dict) and isinstance(after, dict):
        found: list[str] = []
        for k in sorted(set(before) | set(after), key=str):
            found += changed_paths(before.get(k), after.get(k), f"{path}.{k}" if path else str(k))
        return found
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        pairs = enumerate(zip(before, after, strict=True))
        return [p for i, (b, a) in pairs for p in changed_paths(b, a, f"{path}[{i}]")]
    return [] if before == after else [path]


def summary(paths: list[str]) -> str:
    """A one-line CHANGE cell: the first few paths, then how many more."""
    if not paths:
        return "no spec change"
    more = len(paths) - _SHOWN_PATHS
    return ", ".join(paths[:_SHOWN_PATHS]) + (f" (+{more} more)" if more > 0 else "")


def with_changes(kept: list[Revision], shown: list[Resource]) -> list[Revision]:
    """``kept`` with each object replaced by its ``shown`` (masked) copy, and CHANGE filled in.

    A revision's change is what it changed from the kept revision before it;
    the oldest kept one is "created" when it is generation 1.
    """
    from stigmer.manifests import conversion

    specs = [conversion.to_dict(r.object).get("spec", {}) for r in kept]
    out = []
    for i, (rev, obj) in enumerate(zip(kept, shown, strict=True)):
        if i:
            change = summary(changed_paths(specs[i - 1], specs[i], "spec"))
        else:
            change = "created" if rev.generation == 1 else "(older revisions not kept)"
        out.append(replace(rev, object=obj, change=change))
    return out


def pick(kept: list[Revision], number: int | None, live: Resource) -> Revision:
    """Revision ``number``, or the newest kept one; NotFound naming what is kept."""
    what = f'{kinds.of(live).singular} "{live.metadata.slug}"'
    if not kept:
        raise NotFound(f"{what} has no earlier revision kept (its spec never changed)")
    if number is None:
        return kept[-1]
    for rev in kept:
        if rev.number == number:
            return rev
    numbers = ", ".join(str(r.number) for r in kept)
    raise NotFound(f"revision {number} of {what} is not kept (kept: {numbers})")
