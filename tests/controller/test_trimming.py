"""Releasing the store's mapped pages loses nothing: every read after it sees the same data."""

from __future__ import annotations

from pathlib import Path

from stigmer.client import Client
from stigmer.controller import trimming
from stigmer.store import Store, open_store
from tests.reconcilers.helpers import new_agent


def test_the_lmdb_data_file_is_found_among_this_processs_mappings(lmdb_store: Store) -> None:
    path = trimming.mapped_file(lmdb_store)
    assert path is not None and path.name == "data.mdb"
    lmdb_store.revision()  # the map is in place once the store has been read
    assert trimming.mappings(path)


def test_a_sqlite_store_maps_no_file(tmp_path: Path) -> None:
    store = open_store(f"sqlite:{tmp_path / 'db.sqlite'}")
    try:
        assert trimming.mapped_file(store) is None
        trimming.release(store)  # nothing to release; never fails
    finally:
        store.close()


def test_reads_and_writes_after_a_release_see_every_object(
    client: Client, lmdb_store: Store
) -> None:
    client.apply([new_agent(f"Agent {i}") for i in range(200)])
    before = {a.metadata.id: a for a in lmdb_store.list("agent")}
    events = lmdb_store.events_since(0)
    trimming.release(lmdb_store)
    assert {a.metadata.id: a for a in lmdb_store.list("agent")} == before
    assert lmdb_store.events_since(0) == events
    client.apply([new_agent("After")])
    trimming.release(lmdb_store)
    assert lmdb_store.count("agent") == 201
    assert lmdb_store.check() == []
