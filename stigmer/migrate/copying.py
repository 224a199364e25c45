"""Copying a whole store to another, of either backend: ``stigmer migrate copy``.

This is also the backup and restore tool: ``--to URL`` of a new store writes a
backup, and copying it back restores it. The copy is exact. Every object
keeps its bytes, and with them its resource_version. The change feed keeps
its events and their revisions, and the global revision is the same. Meta
values and relation tuples come along. The source is read from one
snapshot, so a store in use by another process copies consistently. The
destination is written in one transaction, so it ends up with the whole
store or with nothing.

The destination must be empty: a copy never merges into, or overwrites, a
store that holds anything, so a backup can never destroy data.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from stigmer.errors import StoreError, UsageError
from stigmer.store import Store, open_store, registry
from stigmer.store.protocol import (
    EventRecord,
    MetaRecord,
    ObjectRecord,
    RevisionRecord,
    TupleRecord,
    WriteTxn,
)


@dataclass(slots=True)
class CopyReport:
    """What a copy did: what it copied, and what the destination's check found."""

    source: str
    destination: str
    revision: int = 0
    objects: dict[str, int] = field(default_factory=dict)  # store key kind -> count
    events: int = 0
    meta: int = 0
    tuples: int = 0
    problems: list[str] = field(default_factory=list)  # the destination's check()

    @property
    def ok(self) -> bool:
        return not self.problems


def open_existing(url: str | os.PathLike[str]) -> Store:
    """Opens the store at ``url``, refusing to create one where there is none.

    ``open_store`` creates a store that is missing. A copy from a mistyped
    path would then copy an empty store without a word.
    """
    text = os.fspath(url)
    backend, rest = registry.resolve(text)
    if backend.remote:  # a server's: an empty prefix is an empty store, not a typo's file
        return open_store(text, create=False)
    if not backend.data_path(rest).is_file():
        path = Path(rest).expanduser()
        raise StoreError(f'no {backend.scheme} store at {path}; check the --from URL "{text}"')
    return open_store(text)


def _is_empty(store: Store) -> bool:
    """True when the store holds nothing at all: revision 0, no record of any kind."""
    records = store.records()
    try:
        return next(records) == RevisionRecord(0) and next(records, None) is None
    finally:
        records.close()  # ends the read snapshot now, not at garbage collection


def _fill(source: Store, txn: WriteTxn, report: CopyReport) -> None:
    """Restores every record of ``source`` in ``txn``, counting them in ``report``.

    It counts from zero on every call: a backend may run it again (LMDB,
    after growing its map).
    """
    objects: Counter[str] = Counter()
    report.events = report.meta = report.tuples = 0
    for record in source.records():
        txn.restore(record)
        match record:
            case RevisionRecord(revision=revision):
                report.revision = revision
            case ObjectRecord(kind=kind):
                objects[kind] += 1
            case EventRecord():
                report.events += 1
            case MetaRecord():
                report.meta += 1
            case TupleRecord():
                report.tuples += 1
    report.objects = dict(sorted(objects.items()))


def copy_store(source: Store, destination: Store, *, actor: str = "") -> CopyReport:
    """Copies everything in ``source`` into the empty ``destination``, then checks it.

    Raises UsageError when both are the same store, and StoreError when the
    destination is not empty.
    """
    if source.url == destination.url:
        raise UsageError(f"cannot copy {source.url} onto itself; give another --to")
    if not _is_empty(destination):
        raise StoreError(
            f"destination {destination.url} is not empty; copy into a new path, "
            "or move the existing store aside first"
        )
    report = CopyReport(source.url, destination.url)
    destination.transact(lambda txn: _fill(source, txn, report), actor=actor)
    report.problems = destination.check()
    return report
