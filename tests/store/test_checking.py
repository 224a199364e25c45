"""``store check`` finds damage without crashing, and ``--repair`` rebuilds the indexes."""

from __future__ import annotations

import random
import shutil
import sqlite3
from pathlib import Path

import lmdb
import pytest

from stigmer.client import Client
from stigmer.store import open_store
from tests.factories import agent, instance, putting
from tests.processes import stigmer


def _world(url: str) -> None:
    store = open_store(url)
    a = agent("agt-1", slug="bot")
    store.transact(lambda w: (w.put(a), w.put(instance("ain-1", a)), w.put(agent("agt-2"))))
    assert store.check() == []
    store.close()


def _damage_lmdb(path: Path) -> None:
    env = lmdb.open(str(path), max_dbs=10)
    with env.begin(write=True) as txn:
        slugs = env.open_db(b"slugs", txn=txn)
        txn.delete(b"agent/local/bot", db=slugs)
        txn.put(b"agent/local/\xff\xfe", b"\xff", db=slugs)  # not UTF-8: once a crash
        txn.put(b"agent/local/agt-ghost", b"", db=env.open_db(b"by_org", txn=txn))
        txn.delete(b"agt-1\0agent_instance/ain-1", db=env.open_db(b"by_owner", txn=txn))
        txn.put(b"agent/agt-junk", b"\xff\xff\xff", db=env.open_db(b"objects", txn=txn))
        txn.put(b"\xff\x00", b"x", db=env.open_db(b"events", txn=txn))
        txn.put(b"agent/\xff", b"", db=env.open_db(b"objects", txn=txn))
    env.close()


def _damage_sqlite(path: Path) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("DELETE FROM slugs WHERE kind = 'agent' AND org = 'local' AND slug = 'bot'")
    db.execute("INSERT INTO slugs VALUES ('agent', 'local', 'stray', 'agt-9')")
    db.execute("INSERT INTO by_org VALUES ('agent', 'local', 'agt-ghost')")
    db.execute("DELETE FROM by_owner WHERE owner_id = 'agt-1'")
    db.execute("INSERT INTO resources VALUES ('agent', 'agt-junk', x'ffffff', '')")
    db.close()


@pytest.mark.parametrize("backend", ["lmdb", "sqlite"])
def test_check_reports_every_problem_and_repair_rebuilds_the_indexes(
    tmp_path: Path, backend: str
) -> None:
    path = tmp_path / ("s" if backend == "lmdb" else "s.db")
    url = f"{backend}:{path}"
    _world(url)
    (_damage_lmdb if backend == "lmdb" else _damage_sqlite)(path)
    store = open_store(url)
    try:
        problems = "\n".join(store.check())
        for found in (
            "agent/agt-1: slug index entry missing",
            "agent/agt-junk: cannot decode",
            "by_org/agent/local/agt-ghost: points at no live object",
            "agent_instance/ain-1: owner index entry missing",
        ):
            assert found in problems
        assert store.find_by_slug("agent", "local", "bot") is None  # unreachable by name
        changes = store.repair()
        assert "slugs/agent/local/bot -> agt-1: added" in changes or (
            "slugs/agent/local/bot: added" in changes
        )
        assert "by_org/agent/local/agt-ghost: removed" in changes
        assert store.find_by_slug("agent", "local", "bot") is not None
        left = store.check()
        unrepairable = ("objects/agent/agt-junk", "objects/agent/\ufffd", "events/")
        assert left and all(p.startswith(unrepairable) for p in left)
        assert store.repair() == []  # nothing more to do
    finally:
        store.close()


def test_store_check_repair_through_the_cli(tmp_path: Path) -> None:
    data = tmp_path / "data"
    Client(data, actor="alice").close()
    _world(f"lmdb:{data}")
    _damage_lmdb(data)
    broken = stigmer("store", "check", data_dir=data)
    assert broken.returncode == 1 and "Traceback" not in broken.stderr
    assert "slugs/agent/local/\ufffd\ufffd: malformed entry" in broken.stdout
    assert "objects/agent/\ufffd: malformed key" in broken.stdout
    repaired = stigmer("store", "check", "--repair", data_dir=data)
    assert "slugs/agent/local/bot: added" in repaired.stdout
    assert "agent/agt-junk: cannot decode" in repaired.stdout  # repair cannot invent it
    assert repaired.returncode == 1


def test_check_survives_byte_flips_in_data_mdb(tmp_path: Path) -> None:
    """Seeded single-byte flips: check reports or passes, never crashes (a real process)."""
    data = tmp_path / "data"
    with Client(data, actor="alice") as client:
        for n in range(30):
            a = agent(f"agt-{n}", slug=f"bot-{n}", labels={"n": str(n)})
            i = instance(f"ain-{n}", a)
            client.store.transact(putting(a, i))
    original = (data / "data.mdb").read_bytes()
    used = [i for i, b in enumerate(original) if b]
    rng = random.Random(12)
    # visible: "bot-17" becomes "bot-13" wherever it is stored (the index key and
    # the object, live or in free pages); `get bot-17` changes answer, check must see it.
    visible = -1
    for offset in [visible, *rng.sample(used, 24)]:
        flipped = tmp_path / "flipped"
        shutil.rmtree(flipped, ignore_errors=True)
        flipped.mkdir(mode=0o700)
        damaged = bytearray(original)
        if offset == visible:
            damaged = bytearray(original.replace(b"bot-17", b"bot-13"))
        else:
            damaged[offset] ^= 1 << rng.randrange(8)
        (flipped / "data.mdb").write_bytes(bytes(damaged))
        done = stigmer("store", "check", data_dir=flipped, timeout=120)
        assert done.returncode in (0, 1), (offset, done.returncode, done.stderr)
        assert "internal error" not in done.stderr and "Traceback" not in done.stderr, offset
        if offset == visible:
            assert done.returncode == 1, done.stdout


def _damage_lmdb_event_index(path: Path) -> int:
    """Drops agt-2's entry in by_object and adds a stray and a malformed one; its revision."""
    env = lmdb.open(str(path), max_dbs=10)
    with env.begin(write=True) as txn:
        by_object = env.open_db(b"by_object", txn=txn)
        with txn.cursor(db=by_object) as cur:
            key = next(k for k, _ in cur if k.startswith(b"agent/agt-2\0"))
        txn.delete(key, db=by_object)
        txn.put(b"agent/agt-gone\0" + (99).to_bytes(8, "big"), b"", db=by_object)
        txn.put(b"junk", b"", db=by_object)
    env.close()
    return int.from_bytes(key[-8:], "big")


def _damage_sqlite_event_index(path: Path) -> int:
    db = sqlite3.connect(path, isolation_level=None)
    (rev,) = db.execute("SELECT revision FROM event_index WHERE id = 'agt-2'").fetchone()
    db.execute("DELETE FROM event_index WHERE id = 'agt-2'")
    db.execute("INSERT INTO event_index VALUES ('agent', 'agt-gone', 99)")
    db.close()
    return int(rev)


@pytest.mark.parametrize("backend", ["lmdb", "sqlite"])
def test_check_and_repair_cover_the_feeds_object_index(tmp_path: Path, backend: str) -> None:
    """A missing entry hides an event from describe; a stray one names an event that is gone."""
    path = tmp_path / ("s" if backend == "lmdb" else "s.db")
    url, index = f"{backend}:{path}", "by_object" if backend == "lmdb" else "event_index"
    _world(url)
    damage = _damage_lmdb_event_index if backend == "lmdb" else _damage_sqlite_event_index
    rev = damage(path)
    store = open_store(url)
    try:
        assert store.events_of("agent", "agt-2") == []  # describe would show no event
        problems = store.check()
        assert f"events/{rev}: {index} entry missing" in problems
        assert f"{index}/agent/agt-gone@99: points at no event" in problems
        if backend == "lmdb":
            assert "by_object/junk: malformed entry" in problems
        changes = store.repair()
        assert f"{index}/agent/agt-2@{rev}: added" in changes
        assert f"{index}/agent/agt-gone@99: removed" in changes
        assert store.check() == []
        assert [e.revision for e in store.events_of("agent", "agt-2")] == [rev]
        assert store.repair() == []
    finally:
        store.close()
