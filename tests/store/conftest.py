"""Every test in tests/store runs against every backend (the conformance suite)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from stigmer.store import Store, open_store
from tests.etcdserver import EtcdServer

BACKENDS = ["lmdb", "sqlite", "etcd"]
# The backends that keep a restored store's revisions; a copy into etcd re-bases them.
KEEPS_REVISIONS = {"lmdb", "sqlite"}

# What a backend's URL names: LMDB's is a directory, SQLite's one database file.
_STORE_PATHS = {"lmdb": "store", "sqlite": "store.db"}


def new_url(backend: str, where: Path, etcd: Callable[[], EtcdServer]) -> str:
    """A URL for a fresh, empty store of ``backend``: a path under ``where``, or an etcd prefix."""
    if backend == "etcd":
        return etcd().url()
    return f"{backend}:{where / _STORE_PATHS[backend]}"


@pytest.fixture
def new_store_url(tmp_path: Path, etcd_lazy: Callable[[], EtcdServer]) -> Callable[[str], str]:
    """Makes URLs of fresh stores of any backend (each a new path, or a new etcd prefix)."""
    made = iter(range(1 << 30))
    return lambda backend: new_url(backend, tmp_path / f"new{next(made)}", etcd_lazy)


@pytest.fixture(params=BACKENDS)
def store_url(
    request: pytest.FixtureRequest, tmp_path: Path, etcd_lazy: Callable[[], EtcdServer]
) -> str:
    """A URL for a fresh, empty store of one backend."""
    marker = request.node.get_closest_marker("not_on_etcd")
    if request.param == "etcd" and marker is not None:
        pytest.skip(f"not on etcd: {marker.args[0]}")
    return new_url(request.param, tmp_path, etcd_lazy)


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
