"""What only the LMDB backend promises: map growth, file modes, versions, fork."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import lmdb
import pytest

from stigmer.errors import StoreVersionError
from stigmer.store import open_store
from stigmer.store.lmdbstore import LmdbStore
from tests.factories import agent, instance, putting

ROOT = Path(__file__).resolve().parents[2]


def test_a_one_mib_map_grows_to_take_100k_objects(tmp_path: Path) -> None:
    store = LmdbStore(tmp_path / "s", map_size=1 << 20)
    for chunk in range(10):
        batch = [agent(f"agt-{chunk}-{i}", org=f"o{i % 7}") for i in range(10_000)]
        store.transact(putting(*batch))
    assert store.count("agent") == 100_000
    assert store.get_by_slug("agent", "o3", "a9-9999").metadata.id == "agt-9-9999"
    assert store.check() == []
    store.close()


def test_another_process_growing_the_map_is_adopted(tmp_path: Path) -> None:
    url = f"lmdb:{tmp_path / 's'}"
    store = LmdbStore(tmp_path / "s", map_size=1 << 20)
    store.put(agent("agt-first"))
    subprocess.run(
        [sys.executable, "-m", "tests.store._workers", "writer", url, "big", "3000"],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    assert store.count("agent") == 3001
    store.put(agent("agt-last"))
    assert store.check() == []
    store.close()


def test_data_dir_is_0700_and_files_0600(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        store = open_store(tmp_path / "data")
        store.put(agent("agt-1"))
        store.close()
    finally:
        os.umask(old)
    assert (tmp_path / "data").stat().st_mode & 0o777 == 0o700
    for name in ("data.mdb", "lock.mdb"):
        assert (tmp_path / "data" / name).stat().st_mode & 0o777 == 0o600


def test_a_loose_data_dir_gets_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "data").mkdir(mode=0o755)
    (tmp_path / "data").chmod(0o755)
    with caplog.at_level(logging.WARNING, logger="stigmer.store"):
        open_store(tmp_path / "data").close()
    assert "readable by others" in caplog.text
    assert "chmod 700" in caplog.text


def test_a_store_from_a_newer_stigmer_is_refused(tmp_path: Path) -> None:
    open_store(tmp_path / "s").close()
    env = lmdb.open(str(tmp_path / "s"), max_dbs=10)
    with env.begin(write=True) as txn:
        txn.put(b"schema_version", b"99", db=env.open_db(b"meta", txn=txn))
    env.close()
    with pytest.raises(StoreVersionError, match=r"schema version 99.*upgrade Stigmer"):
        open_store(tmp_path / "s")


def test_a_version_1_store_gains_the_event_index_when_opened_to_write(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s")
    store.transact(lambda w: (w.put(agent("agt-1")), w.put(agent("agt-2"))))
    store.put(agent("agt-1"))
    store.close()
    env = lmdb.open(str(tmp_path / "s"), max_dbs=10)  # as version 1 left it: no by_object
    with env.begin(write=True) as txn:
        txn.drop(env.open_db(b"by_object", txn=txn), delete=True)
        txn.put(b"schema_version", b"1", db=env.open_db(b"meta", txn=txn))
    env.close()
    store = open_store(tmp_path / "s")
    assert [e.revision for e in store.events_of("agent", "agt-1")] == [1, 3]
    store.close()
    env = lmdb.open(str(tmp_path / "s"), max_dbs=10)
    with env.begin() as txn:
        assert txn.get(b"schema_version", db=env.open_db(b"meta", txn=txn)) == b"2"
    env.close()


def test_check_finds_broken_indexes(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s")
    a = agent("agt-1", slug="bot")
    store.transact(lambda w: (w.put(a), w.put(instance("ain-1", a)), w.put(agent("agt-2"))))
    store.close()
    env = lmdb.open(str(tmp_path / "s"), max_dbs=10)
    with env.begin(write=True) as txn:
        txn.delete(b"agent/local/bot", db=env.open_db(b"slugs", txn=txn))
        txn.put(b"agent/local/agt-ghost", b"", db=env.open_db(b"by_org", txn=txn))
        txn.delete(b"agt-1\0agent_instance/ain-1", db=env.open_db(b"by_owner", txn=txn))
    env.close()
    problems = open_store(tmp_path / "s").check()
    assert any("objects/agent/agt-1: slug index entry missing" in p for p in problems)
    assert any("by_org/agent/local/agt-ghost: points at no live object" in p for p in problems)
    assert any("objects/agent_instance/ain-1: owner index entry missing" in p for p in problems)
    assert len(problems) == 3


def test_a_transaction_that_writes_nothing_is_not_committed(tmp_path: Path) -> None:
    store = LmdbStore(tmp_path / "s")
    store.put(agent("agt-1"))
    before = store._live().env.info()["last_txnid"]
    store.transact(lambda w: (w.find("agent", "agt-1"), w.delete("agent", "nope")))
    assert store._live().env.info()["last_txnid"] == before
    store.put(agent("agt-2"))
    assert store._live().env.info()["last_txnid"] == before + 1
    store.close()
