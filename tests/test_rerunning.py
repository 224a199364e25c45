"""The re-running wrapper of tests.rerunning does what the re-run tests rely on."""

from __future__ import annotations

from pathlib import Path

import pytest

from stigmer.store import Store, WriteTxn, open_store
from stigmer.store.lmdbstore import LmdbStore
from stigmer.store.sqlite import SqliteStore
from tests.factories import agent
from tests.rerunning import twice


@pytest.mark.parametrize(("backend", "name"), [("lmdb", "data"), ("sqlite", "data.db")])
def test_every_callback_runs_twice_and_only_the_second_run_commits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str, name: str
) -> None:
    for cls in (LmdbStore, SqliteStore):
        monkeypatch.setattr(cls, "transact", twice(cls.transact))
    store: Store = open_store(f"{backend}:{tmp_path / name}")
    seen: list[int] = []

    def write(txn: WriteTxn) -> int:
        seen.append(txn.count("agent"))  # what this run finds: the first run left nothing
        txn.put(agent(f"agt-{len(seen)}"))
        return len(seen)

    assert store.transact(write) == 2
    assert seen == [0, 0]
    assert [a.metadata.id for a in store.list("agent")] == ["agt-2"]
    assert store.revision() == 1
    store.close()
