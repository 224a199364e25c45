"""Fixtures shared by every test: real stores in tmp_path, and clients on them.

The tests of ``tests.rerunning.RERUN_DIRS`` run twice: once on the stores as
they are, and once with every transaction callback run twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from stigmer.client import Client
from stigmer.store import Store, open_store
from tests.etcdserver import EtcdServer, require_etcd
from tests.rerunning import BACKENDS, MODE, RERUN_DIRS, twice


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    parts = metafunc.definition.path.relative_to(Path(__file__).parent).parts
    if "transactions" in metafunc.fixturenames and parts[0] in RERUN_DIRS:
        metafunc.parametrize("transactions", ["once", "twice"], indirect=True)


@pytest.fixture(autouse=True)
def transactions(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """How this test's stores run transactions: ``once``, or ``twice`` (tests.rerunning)."""
    how: str = getattr(request, "param", "once")
    if how == "twice":
        for backend in BACKENDS:
            monkeypatch.setattr(backend, "transact", twice(backend.transact))
        monkeypatch.setenv(MODE, "twice")  # for the stigmer processes it starts
    return how


@pytest.fixture(scope="session")
def etcd_server() -> Iterator[EtcdServer]:
    """One real etcd for this test process (tests.etcdserver); skips when etcd is missing."""
    require_etcd()
    server = EtcdServer()
    server.start()
    yield server
    server.close()


@pytest.fixture
def etcd_lazy(request: pytest.FixtureRequest) -> Callable[[], EtcdServer]:
    """The session's etcd, started only when a test asks for it (the other backends' don't)."""
    return lambda: request.getfixturevalue("etcd_server")


@pytest.fixture(autouse=True)
def no_api(monkeypatch: pytest.MonkeyPatch) -> None:
    """serve (in process or in the programs tests start) serves no API unless a test asks:
    two serves at once would both want port 7234."""
    monkeypatch.setenv("STIGMER_LISTEN", "none")
    for name in ("STIGMER_SERVER", "STIGMER_TOKEN", "STIGMER_TOKEN_FILE", "STIGMER_TLS_CA"):
        monkeypatch.delenv(name, raising=False)  # a developer's remote mode: tests run local


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
