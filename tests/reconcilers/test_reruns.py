"""A backend may run a transaction's callback again: nothing outside it may count twice.

LMDB re-runs a transaction after growing a full map (docs/architecture.md,
"The Store contract"). A small map makes that happen for real here.
"""

from __future__ import annotations

from pathlib import Path

from stigmer.client import Client
from stigmer.store.lmdbstore import LmdbStore
from tests.reconcilers.helpers import new_agent

COUNT = 1000  # agents enough to fill the map once (the issue saw it with 2,000)


def test_a_diff_that_fills_the_map_has_one_diff_per_manifest(tmp_path: Path) -> None:
    store = LmdbStore(tmp_path / "small", map_size=1 << 20)  # full within the dry run
    with Client(store, actor="alice") as client:
        diffs = client.diff([new_agent(f"Agent {i}") for i in range(COUNT)])
        assert [d.name for d in diffs] == [f"agent-{i}" for i in range(COUNT)]
        assert all(d.changed and d.live == "" for d in diffs)
        assert store.count("agent") == 0  # a diff writes nothing
    store.close()
