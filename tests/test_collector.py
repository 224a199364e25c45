"""Only the CLI entry point touches Python's garbage collector; the library leaves it alone.

The collector's switch is process-wide: a library call that paused it would
pause it under every other thread of a server too (docs/architecture.md,
"Threads and the garbage collector").
"""

from __future__ import annotations

import gc
import re
import threading
from pathlib import Path

import pytest

from stigmer.cli.entry import collects
from stigmer.client import Client
from stigmer.manifests import reading
from stigmer.store import WriteTxn, open_store
from tests.manifests._common import agent_yaml
from tests.reconcilers.helpers import new_agent

ROOT = Path(__file__).resolve().parents[1]


def test_no_module_but_the_entry_point_imports_gc() -> None:
    users = [
        str(p.relative_to(ROOT))
        for p in sorted((ROOT / "stigmer").rglob("*.py"))
        if re.search(r"^\s*(import gc|from gc import)\b", p.read_text(), re.MULTILINE)
    ]
    assert users == ["stigmer/cli/entry.py"]


@pytest.mark.parametrize("backend", ["lmdb", "sqlite"])
def test_a_transaction_leaves_the_collector_as_it_was(tmp_path: Path, backend: str) -> None:
    store = open_store(f"{backend}:{tmp_path / 'store'}")
    seen: list[bool] = []

    def write(txn: WriteTxn) -> None:
        seen.append(gc.isenabled())
        txn.set_meta("key", "value")

    store.transact(write)
    store.close()
    assert seen == [True]


def test_an_apply_runs_with_the_collector_on(tmp_path: Path, client: Client) -> None:
    path = tmp_path / "agents.yaml"
    path.write_text("---\n".join(agent_yaml(f"Agent {i}") for i in range(3)))
    seen: list[bool] = []
    report = client.apply_files([path], progress=lambda done, total: seen.append(gc.isenabled()))
    assert report.ok
    assert seen == [True, True, True]


def test_a_stream_of_manifests_yields_with_the_collector_on(tmp_path: Path) -> None:
    path = tmp_path / "agents.yaml"
    path.write_text("---\n".join(agent_yaml(f"Agent {i}") for i in range(3)))
    seen = [gc.isenabled() for _ in reading.stream([path])]
    assert seen and all(seen)


@pytest.mark.parametrize("backend", ["lmdb", "sqlite"])
def test_threads_apply_through_one_client(tmp_path: Path, backend: str) -> None:
    with Client(f"{backend}:{tmp_path / 'store'}", actor="alice") as client:

        def apply(thread: int) -> None:
            client.apply([new_agent(f"Agent {thread}-{i}") for i in range(20)])

        threads = [threading.Thread(target=apply, args=(t,)) for t in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert client.store.count("agent") == 80
        assert client.store.count("agent_instance") == 80
    assert gc.isenabled()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["apply", "-f", "agents/"], False),
        (["--data-dir", "d", "delete", "-f", "agents/"], False),
        (["migrate", "from-sqlite"], False),
        (["get", "agents"], False),
        (["sync", "manifests/"], False),
        (["serve"], True),
        (["--org", "acme", "serve", "--watch", "manifests/"], True),
        (["get", "agents", "-w"], True),
        (["get", "agents", "-Aw"], True),
        (["get", "agents", "-o", "wide"], False),
        (["sync", "manifests/", "--watch"], True),
    ],
)
def test_the_cli_collects_only_in_commands_that_keep_running(
    args: list[str], expected: bool
) -> None:
    from stigmer.cli.app import command_word

    assert collects(args, command_word(args)) is expected
