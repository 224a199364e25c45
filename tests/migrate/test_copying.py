"""Copying a whole store between backends (stigmer.migrate.copying): backup and restore."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from stigmer.client import Client
from stigmer.errors import StoreError, UsageError
from stigmer.migrate.copying import copy_store, open_existing
from stigmer.migrate.importing import import_upstream
from stigmer.reconcilers.running import Session
from stigmer.store import Store, open_store
from stigmer.store.protocol import ObjectRecord, RevisionRecord, WriteTxn
from tests.factories import agent
from tests.migrate.upstream import UpstreamDb, agent_with_default, upstream_agent
from tests.reconcilers.helpers import assert_converged, new_agent


def populate(store: Store, tmp_path: Path) -> None:
    """A store with a history: an import, applies, a delete, meta and tuples."""
    db = UpstreamDb(tmp_path / "upstream.db")
    db.add(*agent_with_default(1), upstream_agent("agt-lonely", "Lonely", secret="sk-123456"))
    assert import_upstream(store, db.path, session=Session("alice")).ok
    with Client(store, actor="bob") as client:
        client.apply([new_agent("Local Bot", labels={"tier": "gold"}), new_agent("Gone")])
        client.delete("agent", "gone")

    def owner_and_admin(w: WriteTxn) -> None:
        w.set_meta("owner", "alice")
        w.add_tuple("org:acme#admin@user:a")

    store.transact(owner_and_admin)


def test_lmdb_to_sqlite_to_lmdb_keeps_every_byte_revision_event_and_tuple(tmp_path: Path) -> None:
    original = open_store(f"lmdb:{tmp_path / 'a'}")
    populate(original, tmp_path)
    middle = open_store(f"sqlite:{tmp_path / 'b.db'}")
    restored = open_store(f"lmdb:{tmp_path / 'c'}")
    try:
        there = copy_store(original, middle)
        back = copy_store(middle, restored)

        records = list(original.records())
        assert list(middle.records()) == records
        assert list(restored.records()) == records  # objects byte for byte, events, meta, tuples
        assert there.ok and back.ok and back.problems == []
        assert back.revision == original.revision() == restored.revision()
        assert back.objects == {"agent": 3, "agent_instance": 3}
        assert back.events == len(original.events_since(0))
        assert back.tuples == len(original.tuples())
        assert back.meta == 4  # "owner", and the import's hash of each of its 3 rows
        assert restored.events_since(0) == original.events_since(0)
        assert restored.tuples() == original.tuples()
        assert restored.get_meta("owner") == "alice"
        assert restored.check() == []
        assert_converged(restored)
        restored.put(agent("agt-after", slug="after"))
        assert restored.revision() == original.revision() + 1  # the feed goes on from there
    finally:
        for s in (original, middle, restored):
            s.close()


def test_the_destination_is_private(tmp_path: Path) -> None:
    source = open_store(f"lmdb:{tmp_path / 'a'}")
    source.put(agent("agt-bot", slug="bot"))
    for url, files in (
        (f"lmdb:{tmp_path / 'backup' / 'lmdb'}", ["data.mdb", "lock.mdb"]),
        (f"sqlite:{tmp_path / 'backup2' / 'b.db'}", ["b.db"]),
    ):
        destination = open_store(url)
        copy_store(source, destination)
        destination.close()
        folder = Path(url.partition(":")[2])
        folder = folder if files[0] == "data.mdb" else folder.parent
        assert folder.stat().st_mode & 0o777 == 0o700
        for name in files:
            assert (folder / name).stat().st_mode & 0o777 == 0o600
    source.close()


@pytest.mark.parametrize("leftover", ["object", "tuple", "meta"])
def test_a_destination_that_holds_anything_is_refused_and_left_alone(
    tmp_path: Path, leftover: str
) -> None:
    source = open_store(f"lmdb:{tmp_path / 'a'}")
    source.put(agent("agt-bot", slug="bot"))
    destination = open_store(f"sqlite:{tmp_path / 'b.db'}")
    if leftover == "object":
        destination.put(agent("agt-mine", slug="mine"))
    elif leftover == "tuple":
        destination.transact(lambda w: w.add_tuple("org:local#admin@user:me"))
    else:
        destination.transact(lambda w: w.set_meta("sync", "state"))
    before = list(destination.records())
    with pytest.raises(StoreError, match=r"b.db is not empty; copy into a new path"):
        copy_store(source, destination)
    assert list(destination.records()) == before
    source.close()
    destination.close()


def test_a_store_cannot_be_copied_onto_itself(tmp_path: Path) -> None:
    store = open_store(f"lmdb:{tmp_path / 'a'}")
    same = open_store(str(tmp_path / "a"))  # a bare path is LMDB too
    with pytest.raises(UsageError, match="onto itself"):
        copy_store(store, same)
    same.close()
    store.close()


def test_a_damaged_source_copies_nothing(tmp_path: Path) -> None:
    source = open_store(f"sqlite:{tmp_path / 'a.db'}")
    source.transact(lambda w: [w.put(agent(f"agt-{n}")) for n in range(3)])
    source.close()
    raw = sqlite3.connect(tmp_path / "a.db")  # damage one object, as a failing disk would
    raw.execute("UPDATE resources SET data = x'ffffffff' WHERE id = 'agt-2'")
    raw.commit()
    raw.close()
    source = open_existing(f"sqlite:{tmp_path / 'a.db'}")
    destination = open_store(f"lmdb:{tmp_path / 'b'}")
    with pytest.raises(StoreError, match=r"agent/agt-2: cannot decode"):
        copy_store(source, destination)
    assert list(destination.records()) == [RevisionRecord(0)]  # all or nothing
    source.close()
    destination.close()


@pytest.mark.parametrize("url", ["lmdb:{tmp}/missing", "sqlite:{tmp}/missing.db", "{tmp}/bare"])
def test_a_missing_source_is_refused_not_created(tmp_path: Path, url: str) -> None:
    with pytest.raises(StoreError, match=r"no (lmdb|sqlite) store at .*check the --from URL"):
        open_existing(url.format(tmp=tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_records_hold_the_stored_bytes(tmp_path: Path) -> None:
    store = open_store(f"sqlite:{tmp_path / 'a.db'}")
    stored = store.put(agent("agt-bot", slug="bot"))
    store.close()
    raw = sqlite3.connect(tmp_path / "a.db")
    (blob,) = raw.execute("SELECT data FROM resources").fetchone()
    raw.close()
    store = open_existing(f"sqlite:{tmp_path / 'a.db'}")
    objects = [r for r in store.records() if isinstance(r, ObjectRecord)]
    assert objects == [ObjectRecord("agent", stored.metadata.id, blob)]
    store.close()
