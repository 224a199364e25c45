"""Store benchmark (LMDB): batched put, point get, org listing, size.

Run: .venv/bin/python -m bench.store
Prints one JSON object on its last line.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bench._common import best_of, emit, make_agent, make_instance
from stigmer.api.kinds import Resource
from stigmer.store import open_store
from stigmer.store.protocol import WriteTxn


def bench_batched_put(root: Path) -> tuple[float, int]:
    """10k agents + 10k instances in one transaction, on a fresh store each round."""
    agents = [make_agent(i) for i in range(10_000)]
    objs = [o for a in agents for o in (a, make_instance(a))]
    times, size = [], 0
    for n in range(3):
        store = open_store(root / f"put{n}")
        t0 = time.perf_counter()
        store.transact(lambda w: [w.put(o) for o in objs])
        times.append(time.perf_counter() - t0)
        size = store.stats().bytes_on_disk
        store.close()
    return min(times), size // len(objs)


def putting(objs: Sequence[Resource]) -> Callable[[WriteTxn], None]:
    """A transact callback writing ``objs``, bound now rather than when the loop has moved on."""

    def put(w: WriteTxn) -> None:
        for obj in objs:
            w.put(obj)

    return put


def bench_reads(root: Path) -> dict[str, float]:
    """Point gets and org listing on 100,000 agents in 1,000 orgs of 100."""
    store = open_store(root / "reads")
    for chunk in range(10):
        batch = [
            make_agent(i, org=f"org-{i % 1000}")
            for i in range(chunk * 10_000, (chunk + 1) * 10_000)
        ]
        store.transact(putting(batch))
    slugs = [(f"org-{i % 1000}", f"agent-{i}") for i in range(0, 100_000, 97)]

    def gets() -> None:
        for org, slug in slugs:
            store.get_by_slug("agent", org, slug)

    get_us = best_of(gets) / len(slugs) * 1e6
    assert len(store.list("agent", org="org-42")) == 100
    org_ms = best_of(lambda: store.list("agent", org="org-42"), repeat=20) * 1e3

    def scan() -> None:
        found = [a for a in store.list("agent") if a.metadata.org == "org-42"]
        assert len(found) == 100

    scan_ms = best_of(scan, repeat=3) * 1e3
    store.close()
    return {"get_by_slug_us": get_us, "org_list_100_of_100k_ms": org_ms, "full_scan_ms": scan_ms}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        put_s, per_resource = bench_batched_put(Path(tmp))
        reads = bench_reads(Path(tmp))
    emit(
        {
            "batched_put_20k_s": round(put_s, 3),
            "get_by_slug_us": round(reads["get_by_slug_us"], 2),
            "org_list_100_of_100k_ms": round(reads["org_list_100_of_100k_ms"], 3),
            "full_scan_100k_ms": round(reads["full_scan_ms"], 1),
            "org_list_speedup_vs_scan": round(
                reads["full_scan_ms"] / reads["org_list_100_of_100k_ms"], 1
            ),
            "bytes_per_resource": per_resource,
        }
    )


if __name__ == "__main__":
    main()
