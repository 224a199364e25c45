"""Fixtures shared by every test: real stores in tmp_path, and clients on them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stigmer.client import Client
from stigmer.store import Store, open_store


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def lmdb_store(data_dir: Path) -> Iterator[Store]:
    store = open_store(data_dir)
    yield store
    store.close()


@pytest.fixture
def client(lmdb_store: Store) -> Iterator[Client]:
    with Client(lmdb_store, actor="alice") as c:
        yield c


@pytest.fixture
def unused_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port
