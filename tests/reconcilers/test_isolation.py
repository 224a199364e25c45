"""One document's unexpected error (a store refusing it, a bug) never costs the others."""

from __future__ import annotations

import pytest

from stigmer.client import Client
from stigmer.reconcilers import catalog
from stigmer.reconcilers.framework import Context, Pipeline
from stigmer.store import Store
from tests.reconcilers.helpers import assert_converged, new_agent
from tests.reconcilers.test_faults import STEPS, Injected, with_fault


def raising_for(name: str, step: str) -> Pipeline:
    """The agent pipeline, raising a non-Stigmer error after ``step`` for one agent."""

    def fail(ctx: Context) -> None:
        if ctx.request.desired is not None and ctx.request.desired.metadata.name == name:
            raise Injected(f"the store refused {name}")

    return with_fault(step, fail)


@pytest.mark.parametrize("step", ["Authorize", "Persist", STEPS[-1]])
def test_an_unexpected_error_fails_its_document_alone(
    step: str, client: Client, lmdb_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(catalog._PIPELINES, ("agent", "apply"), raising_for("Bad", step))
    names = ["One", "Bad", "Two", "Three"]
    results = client.apply([new_agent(n) for n in names])
    assert [r.outcome for r in results] == ["created", "error", "created", "created"]
    assert str(results[1].error) == "Run: internal error: Injected: the store refused Bad"
    assert {a.metadata.slug for a in lmdb_store.list("agent")} == {"one", "two", "three"}
    assert lmdb_store.find_by_slug("agent_instance", "local", "bad-default") is None
    assert_converged(lmdb_store)


def test_with_atomic_an_unexpected_error_applies_nothing(
    client: Client, lmdb_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(catalog._PIPELINES, ("agent", "apply"), raising_for("Bad", "Persist"))
    results = client.apply([new_agent(n) for n in ("One", "Bad", "Two")], atomic=True)
    assert [r.ok for r in results] == [False, False, False]
    assert "not applied" in str(results[0].error)
    assert lmdb_store.count("agent") == 0


def test_several_bad_documents_in_one_chunk_each_fail_alone(
    client: Client, lmdb_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(ctx: Context) -> None:
        if ctx.request.desired is not None and ctx.request.desired.metadata.name.startswith("Bad"):
            raise Injected("refused")

    monkeypatch.setitem(catalog._PIPELINES, ("agent", "apply"), with_fault("Persist", fail))
    names = [f"Bad {i}" if i % 3 == 0 else f"Good {i}" for i in range(12)]
    results = client.apply([new_agent(n) for n in names])
    assert [r.ok for r in results] == [not n.startswith("Bad") for n in names]
    assert lmdb_store.count("agent") == 8
    assert_converged(lmdb_store)
