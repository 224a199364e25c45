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

The value is compact JSON (``_COMPACT``'s layout) and stays so, but an update
neither parses nor re-encodes the revisions it keeps: in that layout an entry
starts with ``{"revision":``, which no value inside one can hold (base64 has no
quote, and a JSON string escapes its quotes), so ``record`` splits the kept
entries' texts there and writes the new one's text itself. A value in any other
JSON layout is read whole and rewritten in this one.
"""

from __future__ import annotations

import base64
import binascii
import json
from json.encoder import encode_basestring_ascii
from typing import TYPE_CHECKING, Any, NamedTuple

from stigmer.api import kinds
from stigmer.api.kinds import Kind, Resource
from stigmer.errors import NotFound

if TYPE_CHECKING:
    from stigmer.store import Reader, WriteTxn

HISTORY_LIMIT = 10  # revisions kept per object, like a Deployment's revisionHistoryLimit
_PREFIX = "history/"
_SHOWN_PATHS = 3  # a CHANGE cell names this many paths, then "+N more"
# json.dumps with separators builds an encoder per call; an update of 10,000 objects needs one.
_COMPACT = json.JSONEncoder(separators=(",", ":"))
_HEAD = '{"revision":'  # how every entry of the value starts, in _COMPACT's layout


# A NamedTuple, not a frozen dataclass: every apply defines it, and a frozen
# dataclass costs ~3.4 M instructions to define, a NamedTuple ~0.4 M (bench/README.md, wave 7).
class Revision(NamedTuple):
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


def record(
    txn: WriteTxn,
    old: Resource,
    limit: int = HISTORY_LIMIT,
    *,
    data: bytes = b"",
    kind: Kind | None = None,
) -> None:
    """Keeps ``old`` as the object's newest revision, dropping all but the last ``limit``.

    Revision numbers only grow, so a number names one spec for as long as it is
    kept, even after older ones are dropped; a limit of 0 keeps none. ``data``:
    ``old`` serialized, and ``kind``: its kind, when the caller has them.
    """
    if limit <= 0:
        return
    name = key(kind or kinds.of(old), old.metadata.id)
    kept = _texts(txn.get_meta(name) or "")
    number = _number(kept[-1]) + 1 if kept else 1
    kept = kept[max(0, len(kept) + 1 - limit) :]  # room for the new one
    kept.append(_text(number, old, data or old.SerializeToString()))
    txn.set_meta(name, "[" + ",".join(kept) + "]")


def _texts(raw: str) -> list[str]:
    """The entries of a stored value, each as its JSON text in _COMPACT's layout."""
    if not raw:
        return []
    if raw.startswith("[" + _HEAD) and raw[len(_HEAD) + 1].isdigit() and raw.endswith("}]"):
        first, *rest = raw[1:-1].split("," + _HEAD)
        return [first, *[_HEAD + text for text in rest]]
    return [_COMPACT.encode(entry) for entry in json.loads(raw)]  # not written by record


def _number(text: str) -> int:
    """The revision number of one entry's text."""
    if text.startswith(_HEAD):
        return int(text[len(_HEAD) : text.index(",")])
    number: int = json.loads(text)["revision"]  # its keys in another order
    return number


def _text(number: int, old: Resource, data: bytes) -> str:
    """A new entry's JSON text, as _COMPACT would encode it, without its per-character scan."""
    audit = old.status.audit.spec_audit
    at = audit.updated_at  # read once: each read of a message field costs ~1,000 instructions
    when = at.seconds * 1_000_000_000 + at.nanos
    who = encode_basestring_ascii(audit.updated_by.id)
    blob = binascii.b2a_base64(data, newline=False).decode("ascii")  # no character to escape
    generation = old.metadata.generation
    fields = f'"generation":{generation},"when":{when},"who":{who},"object":"{blob}"'
    return f"{_HEAD}{number},{fields}}}"


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
        out.append(rev._replace(object=obj, change=change))
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
