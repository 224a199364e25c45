"""A store that runs every transaction callback twice, aborting the first run.

A backend may run ``transact(fn)`` again (LMDB does after growing its map;
docs/architecture.md, "The Store contract"), so ``fn`` must have no effect
outside its transaction. Tests in the directories of ``RERUN_DIRS`` run once
on the stores as they are and once with ``transact`` replaced by
``twice(transact)``, which makes every re-run happen on every call: in the
test's process, and in the stigmer processes it starts through
tests.processes, which then run ``python -m tests.rerunning ARGS``.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from stigmer.store import WriteTxn
from stigmer.store.etcdstore import EtcdStore
from stigmer.store.lmdbstore import LmdbStore
from stigmer.store.sqlite import SqliteStore

T = TypeVar("T")

# The tests of everything that calls transact: the pipeline and the client
# (reconcilers), GitOps (gitops), the upstream import and the copy (migrate), and
# the Client's own layer: its users' views, roles and tools (client).
RERUN_DIRS = ("reconcilers", "gitops", "migrate", "client")
MODE = "STIGMER_TEST_TRANSACTIONS"  # "twice" in the environment of a re-running test
BACKENDS = (LmdbStore, SqliteStore, EtcdStore)


class FirstRunAborted(Exception):
    """Raised at the end of a callback's first run, so its transaction is rolled back."""


Transact = Callable[..., Any]  # a backend's unbound transact(store, fn, *, actor)


def twice(transact: Transact) -> Transact:
    """``transact`` that first runs ``fn`` to its end and aborts, then runs it for real."""

    def transact_twice(store: Any, fn: Callable[[WriteTxn], T], *, actor: str = "") -> T:
        def first(txn: WriteTxn) -> None:
            fn(txn)
            raise FirstRunAborted

        # Whatever the first run raised is thrown away, as a backend's retry throws it away.
        with contextlib.suppress(Exception):
            transact(store, first, actor=actor)
        result: T = transact(store, fn, actor=actor)
        return result

    return transact_twice


def program() -> list[str]:
    """How tests start stigmer: ``python -m stigmer``, or through this module under twice."""
    module = "tests.rerunning" if os.environ.get(MODE) == "twice" else "stigmer"
    return [sys.executable, "-m", module]


if __name__ == "__main__":
    for backend in BACKENDS:
        setattr(backend, "transact", twice(backend.transact))  # noqa: B010 (mypy: a method)
    from stigmer.cli.entry import main

    main()
