"""Store backends side by side: LMDB, SQLite, and upstream's JSON-in-SQLite design.

Run: .venv/bin/python -m bench.stores

Every backend gets the same objects: 10,000 agents with their 10,000 default
instances for the write figures and the size, and 100,000 agents in 1,000
orgs of 100 for the read figures. "sqlite_json" is upstream Stigmer's previous
design, one SQLite table of JSON text (``JsonSqlite`` below); it keeps no
revision, change feed or org index, so it does less work per write than the
Stigmer stores. Every store fsyncs each commit (SQLite: WAL, synchronous=FULL).

Prints one line per backend, then one JSON object on its last line:
{"lmdb": {...}, "sqlite": {...}, "sqlite_json": {...}, "ratios": {...}}, where
each ratio is sqlite / lmdb, so above 1 means LMDB is faster or smaller.
"""

from __future__ import annotations

import json
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from google.protobuf.json_format import MessageToJson, ParseDict

from bench._common import best_of, make_agent, make_instance
from stigmer.api import kinds
from stigmer.api.kinds import Resource
from stigmer.store import Store
from stigmer.store.lmdbstore import LmdbStore
from stigmer.store.sqlite import SqliteStore

APPLY_AGENTS = 10_000
READ_AGENTS, READ_ORGS = 100_000, 1_000
DURABLE_COMMITS = 200


class Handle(Protocol):
    """What the benchmark does with a backend."""

    def put_all(self, objs: Sequence[Resource]) -> None: ...
    def put(self, obj: Resource) -> None: ...
    def get_by_slug(self, kind: str, org: str, slug: str) -> Resource: ...
    def list(self, kind: str, org: str | None = None) -> list[Resource]: ...
    def close(self) -> None: ...


class StoreHandle:
    """A Stigmer Store, through the protocol every caller uses."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def put_all(self, objs: Sequence[Resource]) -> None:
        self.store.transact(lambda w: [w.put(o) for o in objs])

    def put(self, obj: Resource) -> None:
        self.store.put(obj)

    def get_by_slug(self, kind: str, org: str, slug: str) -> Resource:
        return self.store.get_by_slug(kind, org, slug)

    def list(self, kind: str, org: str | None = None) -> list[Resource]:
        return self.store.list(kind, org=org)

    def close(self) -> None:
        self.store.close()


class JsonSqlite:
    """Upstream's previous design: each object as proto JSON text in one table.

    A (kind, org, slug) index serves both slug lookups and org listing; every
    read parses JSON, then the dict into a message.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(mode=0o700, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = FULL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS resources(kind TEXT, id TEXT, org TEXT, slug TEXT,"
            " data TEXT, updated_at TEXT, PRIMARY KEY(kind, id))"
        )
        self.db.execute("CREATE INDEX IF NOT EXISTS by_slug ON resources(kind, org, slug)")

    def _write(self, objs: Sequence[Resource]) -> None:
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        rows = [
            (kinds.of(o).key, o.metadata.id, o.metadata.org, o.metadata.slug, MessageToJson(o), now)
            for o in objs
        ]
        self.db.execute("BEGIN IMMEDIATE")
        self.db.executemany("INSERT OR REPLACE INTO resources VALUES (?, ?, ?, ?, ?, ?)", rows)
        self.db.execute("COMMIT")

    def put_all(self, objs: Sequence[Resource]) -> None:
        self._write(objs)

    def put(self, obj: Resource) -> None:
        self._write([obj])

    @staticmethod
    def _parse(kind: str, text: str) -> Resource:
        return ParseDict(json.loads(text), kinds.by_key(kind).message())

    def get_by_slug(self, kind: str, org: str, slug: str) -> Resource:
        row = self.db.execute(
            "SELECT data FROM resources WHERE kind = ? AND org = ? AND slug = ?", (kind, org, slug)
        ).fetchone()
        return self._parse(kind, row[0])

    def list(self, kind: str, org: str | None = None) -> list[Resource]:
        if org is None:
            rows = self.db.execute("SELECT data FROM resources WHERE kind = ? ORDER BY id", (kind,))
        else:  # in slug order: ORDER BY id would make SQLite scan the whole kind
            rows = self.db.execute(
                "SELECT data FROM resources WHERE kind = ? AND org = ?", (kind, org)
            )
        return [self._parse(kind, text) for (text,) in rows]

    def close(self) -> None:
        self.db.close()


# Each opener gets a directory of its own, which it creates; the SQLite stores
# put one file in it.
OPENERS: dict[str, Callable[[Path], Handle]] = {
    "lmdb": lambda d: StoreHandle(LmdbStore(d)),
    "sqlite": lambda d: StoreHandle(SqliteStore(d / "store.db")),
    "sqlite_json": lambda d: JsonSqlite(d / "store.db"),
}


def disk_bytes(directory: Path) -> int:
    return sum(f.stat().st_size for f in directory.iterdir())


def bench_writes(open_: Callable[[Path], Handle], root: Path) -> dict[str, float]:
    """Batched apply, size at rest, durable single commits, and open + first read."""
    agents = [make_agent(i) for i in range(APPLY_AGENTS)]
    objs = [o for a in agents for o in (a, make_instance(a))]
    apply_s = []
    for n in range(2):  # a fresh store each round
        h = open_(root / f"apply{n}")
        t0 = time.perf_counter()
        h.put_all(objs)
        apply_s.append(time.perf_counter() - t0)
        h.close()
    store_dir = root / "apply1"
    size = disk_bytes(store_dir)  # at rest: closed, so SQLite has folded its WAL in

    h = open_(store_dir)
    extra = [make_agent(APPLY_AGENTS + i) for i in range(DURABLE_COMMITS)]
    t0 = time.perf_counter()
    for a in extra:
        h.put(a)
    commit_us = (time.perf_counter() - t0) / DURABLE_COMMITS * 1e6
    h.close()

    def open_and_read() -> None:
        h = open_(store_dir)
        h.get_by_slug("agent", "local", "agent-4242")
        h.close()

    opens = []
    for _ in range(7):
        t0 = time.perf_counter()
        open_and_read()
        opens.append(time.perf_counter() - t0)
    return {
        "batched_apply_s": round(min(apply_s), 3),
        "durable_commit_us": round(commit_us, 1),
        "open_first_read_ms": round(statistics.median(opens) * 1e3, 3),
        "bytes_on_disk": size,
    }


def bench_reads(
    open_: Callable[[Path], Handle], root: Path, agents: list[Resource]
) -> dict[str, float]:
    """Point gets, one org's listing and the full listing, on 100,000 agents."""
    h = open_(root / "reads")
    chunk = 10_000
    for start in range(0, len(agents), chunk):
        h.put_all(agents[start : start + chunk])
    slugs = [(f"org-{i % READ_ORGS}", f"agent-{i}") for i in range(0, READ_AGENTS, 97)]

    def gets() -> None:
        for org, slug in slugs:
            h.get_by_slug("agent", org, slug)

    get_us = best_of(gets, repeat=3) / len(slugs) * 1e6
    assert len(h.list("agent", org="org-42")) == READ_AGENTS // READ_ORGS
    org_ms = best_of(lambda: h.list("agent", org="org-42"), repeat=20) * 1e3
    assert len(h.list("agent")) == READ_AGENTS
    full_s = best_of(lambda: h.list("agent"), repeat=2)
    h.close()
    return {
        "get_by_slug_us": round(get_us, 2),
        "org_list_ms": round(org_ms, 3),
        "full_list_s": round(full_s, 3),
    }


KEYS = (
    "batched_apply_s",
    "durable_commit_us",
    "get_by_slug_us",
    "org_list_ms",
    "full_list_s",
    "open_first_read_ms",
    "bytes_on_disk",
)


def main() -> None:
    agents: list[Resource] = [make_agent(i, org=f"org-{i % READ_ORGS}") for i in range(READ_AGENTS)]
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, open_ in OPENERS.items():
            root = Path(tmp) / name
            root.mkdir()
            figures = bench_writes(open_, root) | bench_reads(open_, root, agents)
            results[name] = {key: figures[key] for key in KEYS}
            print(name.ljust(12), "  ".join(f"{k}={v}" for k, v in results[name].items()))
    ratios = {k: round(results["sqlite"][k] / results["lmdb"][k], 2) for k in KEYS}
    print("ratios".ljust(12), "  ".join(f"{k}={v}" for k, v in ratios.items()))
    print(json.dumps({**results, "ratios": ratios}))


if __name__ == "__main__":
    main()
