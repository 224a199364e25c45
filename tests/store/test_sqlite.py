"""What only the SQLite backend promises: upstream's table, WAL, file modes, versions."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from stigmer.api.v1.agent_pb2 import Agent
from stigmer.errors import StoreError, StoreVersionError, UsageError
from stigmer.store import open_store
from stigmer.store.sqlite import SqliteStore
from tests.factories import agent, instance

ROOT = Path(__file__).resolve().parents[2]


def raw(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection, as another tool would open the file."""
    return sqlite3.connect(path, isolation_level=None)


def test_the_url_scheme_picks_the_backend(tmp_path: Path) -> None:
    store = open_store(f"sqlite:{tmp_path / 'a.db'}")
    assert isinstance(store, SqliteStore)
    assert store.url == f"sqlite:{tmp_path / 'a.db'}"
    store.close()
    with pytest.raises(UsageError, match=r"expected lmdb:PATH or sqlite:PATH"):
        open_store(f"postgres:{tmp_path}")


def test_resources_is_upstreams_table_of_binary_protobuf(tmp_path: Path) -> None:
    store = open_store(f"sqlite:{tmp_path / 's.db'}")
    stored = store.put(agent("agt-1", slug="bot"))
    store.close()
    db = raw(tmp_path / "s.db")
    columns = [(c[1], c[2], c[5]) for c in db.execute("PRAGMA table_info(resources)")]
    assert columns == [
        ("kind", "TEXT", 1),
        ("id", "TEXT", 2),
        ("data", "BLOB", 0),
        ("updated_at", "TEXT", 0),
    ]
    (ddl,) = db.execute("SELECT sql FROM sqlite_master WHERE name = 'resources'").fetchone()
    assert ddl.endswith("WITHOUT ROWID")
    kind, id, data, updated_at = db.execute("SELECT * FROM resources").fetchone()
    assert (kind, id) == ("agent", "agt-1")
    assert Agent.FromString(data) == stored
    assert Agent.FromString(data).metadata.resource_version == 1
    written = datetime.fromisoformat(updated_at)
    assert written.utcoffset() == timedelta(0)
    assert abs((datetime.now(UTC) - written).total_seconds()) < 3600
    tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"resources", "slugs", "by_org", "by_owner", "events", "meta", "tuples"} <= tables
    db.close()


def test_the_file_is_in_wal_mode_and_commits_are_fsynced(tmp_path: Path) -> None:
    store = open_store(f"sqlite:{tmp_path / 's.db'}")
    with store.read() as r:  # the connection the store reads and writes through
        assert r.db.execute("PRAGMA synchronous").fetchone() == (2,)  # type: ignore[attr-defined]
    store.close()
    db = raw(tmp_path / "s.db")
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    db.close()


def test_new_dir_is_0700_and_files_0600(tmp_path: Path) -> None:
    path = tmp_path / "new" / "s.db"
    old = os.umask(0o022)
    try:
        store = open_store(f"sqlite:{path}")
        store.put(agent("agt-1"))
        modes = {f.name: f.stat().st_mode & 0o777 for f in path.parent.iterdir()}
        store.close()
    finally:
        os.umask(old)
    assert (tmp_path / "new").stat().st_mode & 0o777 == 0o700
    assert modes == {"s.db": 0o600, "s.db-wal": 0o600, "s.db-shm": 0o600}


def test_a_loose_file_is_made_private_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    open_store(f"sqlite:{tmp_path / 's.db'}").close()
    (tmp_path / "s.db").chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="stigmer.store"):
        open_store(f"sqlite:{tmp_path / 's.db'}").close()
    assert "had mode 644; setting it to 600" in caplog.text
    assert (tmp_path / "s.db").stat().st_mode & 0o777 == 0o600


def test_a_store_from_a_newer_stigmer_is_refused(tmp_path: Path) -> None:
    open_store(f"sqlite:{tmp_path / 's.db'}").close()
    db = raw(tmp_path / "s.db")
    db.execute("UPDATE meta SET value = 99 WHERE key = 'schema_version'")
    db.close()
    with pytest.raises(StoreVersionError, match=r"schema version 99.*upgrade Stigmer"):
        open_store(f"sqlite:{tmp_path / 's.db'}")


def test_a_version_1_file_gains_the_event_index_when_opened_to_write(tmp_path: Path) -> None:
    store = open_store(f"sqlite:{tmp_path / 's.db'}")
    store.transact(lambda w: (w.put(agent("agt-1")), w.put(agent("agt-2"))))
    store.put(agent("agt-1"))
    store.close()
    db = raw(tmp_path / "s.db")  # as version 1 left it: no event_index
    db.execute("DROP TABLE event_index")
    db.execute("UPDATE meta SET value = 1 WHERE key = 'schema_version'")
    db.close()
    store = open_store(f"sqlite:{tmp_path / 's.db'}")
    assert [e.revision for e in store.events_of("agent", "agt-1")] == [1, 3]
    store.close()
    db = raw(tmp_path / "s.db")
    assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (2,)
    db.close()


def test_a_foreign_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    db = raw(tmp_path / "upstream.db")
    db.execute("CREATE TABLE resources(kind TEXT, id TEXT, data BLOB, updated_at TEXT)")
    db.close()
    with pytest.raises(StoreError, match=r"not a Stigmer store.*stigmer migrate from-sqlite"):
        open_store(f"sqlite:{tmp_path / 'upstream.db'}")
    db = raw(tmp_path / "upstream.db")
    assert db.execute("SELECT name FROM sqlite_master").fetchall() == [("resources",)]
    assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    db.close()


def test_check_finds_broken_indexes(tmp_path: Path) -> None:
    store = open_store(f"sqlite:{tmp_path / 's.db'}")
    a = agent("agt-1", slug="bot")
    store.transact(lambda w: (w.put(a), w.put(instance("ain-1", a)), w.put(agent("agt-2"))))
    assert store.check() == []
    store.close()
    db = raw(tmp_path / "s.db")
    db.execute("DELETE FROM slugs WHERE kind = 'agent' AND org = 'local' AND slug = 'bot'")
    db.execute("INSERT INTO by_org VALUES ('agent', 'local', 'agt-ghost')")
    db.execute("DELETE FROM by_owner WHERE owner_id = 'agt-1'")
    db.close()
    store = open_store(f"sqlite:{tmp_path / 's.db'}")
    problems = store.check()
    store.close()
    assert sorted(problems) == [
        "by_org/agent/local/agt-ghost: points at no live object",
        "resources/agent/agt-1: slug index entry missing or wrong",
        "resources/agent_instance/ain-1: owner index entry missing",
    ]


def _size(directory: Path) -> int:
    return sum(f.stat().st_size for f in directory.iterdir())


def test_a_full_disk_raises_store_full_and_saves_nothing(tmp_path: Path) -> None:
    url = f"sqlite:{tmp_path / 's.db'}"
    store = open_store(url)
    store.put(agent("agt-0"))
    # The child may not grow any file past 64 KiB more than there is now: the
    # kernel refuses the write (EFBIG), as it would on a full disk.
    program = f"""
import resource, signal
from stigmer.errors import StoreFull
from stigmer.store import open_store
from tests.factories import agent
store = open_store({url!r})
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, ({_size(tmp_path) + 65536}, resource.RLIM_INFINITY))
try:
    store.transact(lambda w: [w.put(agent(f"agt-{{i}}", instructions="x" * 1000))
                              for i in range(1, 2000)])
except StoreFull as e:
    print(e)
"""
    result = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert "disk full or failing" in result.stdout
    assert [a.metadata.id for a in store.list("agent")] == ["agt-0"]
    assert store.revision() == 1
    assert store.check() == []
    store.close()


def test_threads_sharing_one_store_lose_no_write(tmp_path: Path) -> None:
    store = open_store(f"sqlite:{tmp_path / 's.db'}")
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(50):
                store.put(agent(f"agt-{n}-{i}"))
                assert store.get("agent", f"agt-{n}-{i}").metadata.resource_version > 0
        except BaseException as e:  # reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.count("agent") == 400
    assert [e.revision for e in store.events_since(0)] == list(range(1, 401))
    assert store.check() == []
    store.close()


def test_a_directory_is_refused_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"is a directory; a sqlite: store names a file"):
        open_store(f"sqlite:{tmp_path}")
