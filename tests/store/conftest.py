"""Every test in tests/store runs against every backend (the conformance suite)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from stigmer.store import Store, open_store

BACKENDS = ["lmdb", "sqlite"]

# What a backend's URL names: LMDB's is a directory, SQLite's one database file.
_STORE_PATHS = {"lmdb": "store", "sqlite": "store.db"}


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL for a fresh, empty store of one backend."""
    return f"{request.param}:{tmp_path / _STORE_PATHS[request.param]}"


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = open_store(store_url)
    yield s
    s.close()


@pytest.fixture
def reopen(store_url: str) -> Iterator[Callable[[], Store]]:
    """Opens further handles on the same store; all closed at teardown."""
    opened: list[Store] = []

    def _open() -> Store:
        opened.append(open_store(store_url))
        return opened[-1]

    yield _open
    for s in opened:
        s.close()
