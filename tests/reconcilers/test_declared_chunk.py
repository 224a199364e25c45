"""The batch runner sizes its transactions by the chunk the store's backend declares."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from stigmer.reconcilers.authz import AllowAll
from stigmer.reconcilers.framework import apply_request
from stigmer.reconcilers.running import Session, run_batch
from stigmer.store import Store
from tests.reconcilers.helpers import new_agent


def _count_transactions(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    transact = store.transact

    def counted(fn: Callable[..., Any], *, actor: str = "") -> Any:
        calls.append(1)
        return transact(fn, actor=actor)

    monkeypatch.setattr(store, "transact", counted)
    return calls


def test_a_batch_runs_one_transaction_per_declared_chunk(
    lmdb_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    lmdb_store.limits = lmdb_store.limits._replace(chunk=3)
    calls = _count_transactions(lmdb_store, monkeypatch)
    requests = [apply_request(new_agent(f"Agent {i}")) for i in range(7)]
    batch = run_batch(lmdb_store, requests, Session("bob", AllowAll()))
    assert all(r.ok for r in batch.results)
    assert len(calls) == 3  # 3 + 3 + 1
    assert lmdb_store.count("agent") == 7
