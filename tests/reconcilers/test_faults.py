"""Interrupt the pipeline at every step boundary, then reconcile: the store always converges."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from stigmer.api.v1.agent_pb2 import Agent
from stigmer.client import Client
from stigmer.reconcilers import catalog
from stigmer.reconcilers.framework import Context, Pipeline, TerminalError
from stigmer.store import Store, open_store
from tests.reconcilers.helpers import assert_converged, new_agent

ROOT = Path(__file__).resolve().parents[2]
STEPS = catalog.AGENT_APPLY.step_names


class Injected(Exception):
    """The fault: not a Stigmer error, so it aborts the transaction as a crash would.

    The batch runner then fails that document alone and runs the rest again.
    """


def with_fault(step: str, fault: Callable[[Context], None]) -> Pipeline:
    """The agent apply pipeline with ``fault`` run right after ``step``."""
    out = []
    for name, fn in catalog.AGENT_APPLY.steps:
        out.append((name, fn))
        if name == step:
            out.append(("Fault", fault))
    return Pipeline("faulty", tuple(out))


def raising_after(step: str) -> Pipeline:
    def fail(ctx: Context) -> None:
        raise Injected(f"after {step}")

    return with_fault(step, fail)


@pytest.mark.parametrize("step", STEPS)
def test_an_exception_after_any_step_leaves_nothing_half_done(
    step: str, client: Client, lmdb_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.apply([new_agent("Existing")])
    revision = lmdb_store.revision()
    monkeypatch.setitem(catalog._PIPELINES, ("agent", "apply"), raising_after(step))
    results = client.apply(
        [new_agent("Alpha"), new_agent("Existing", instructions="Changed instructions.")]
    )
    assert [str(r.error) for r in results] == [f"Run: internal error: Injected: after {step}"] * 2
    assert lmdb_store.revision() == revision
    assert_converged(lmdb_store)
    monkeypatch.undo()
    client.apply([new_agent("Alpha"), new_agent("Existing", instructions="Changed instructions.")])
    assert lmdb_store.count("agent") == 2
    assert_converged(lmdb_store)


def failing_for(name: str, step: str) -> Pipeline:
    """The agent pipeline, with a step failure (a Stigmer error) after ``step`` for one agent."""

    def fail(ctx: Context) -> None:
        if ctx.request.desired is not None and ctx.request.desired.metadata.name == name:
            raise TerminalError(f"injected after {step}")

    return with_fault(step, fail)


@pytest.mark.parametrize("step", STEPS)
def test_a_document_failing_after_any_step_is_undone_alone_and_the_rest_applied(
    step: str, client: Client, lmdb_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.apply([new_agent("Existing")])
    tuples = set(lmdb_store.tuples())
    revision = lmdb_store.revision()
    monkeypatch.setitem(catalog._PIPELINES, ("agent", "apply"), failing_for("Bad", step))
    results = client.apply(
        [
            new_agent("One"),
            new_agent("Bad"),
            new_agent("Existing", instructions="Changed instructions."),
            new_agent("Two"),
        ]
    )
    assert [r.outcome for r in results] == ["created", "error", "configured", "created"]
    assert "injected" in str(results[1].error)
    assert lmdb_store.find_by_slug("agent", "local", "bad") is None
    assert lmdb_store.find_by_slug("agent_instance", "local", "bad-default") is None
    # Two agents and two instances created, one agent changed; nothing of "bad".
    events = lmdb_store.events_since(revision)
    assert sorted(e.slug for e in events) == [
        "existing",
        "one",
        "one-default",
        "two",
        "two-default",
    ]
    assert lmdb_store.revision() == revision + 5
    ids = {o.metadata.id for k in ("agent", "agent_instance") for o in lmdb_store.list(k)}
    for t in set(lmdb_store.tuples()) - tuples:
        assert t.split("#")[0].split(":")[1] in ids, f"tuple of no object: {t}"
    assert_converged(lmdb_store)


@pytest.mark.parametrize("step", STEPS)
def test_a_process_killed_after_any_step_leaves_a_convergent_store(
    step: str, data_dir: Path
) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tests.reconcilers._crash", str(data_dir), step, "6", "2"],
        cwd=ROOT,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    with Client(data_dir, actor="alice") as client:
        store = client.store
        assert store.check() == []
        # Only whole chunks were committed: every agent there is complete.
        assert store.count("agent") == 2
        assert_converged(store)
        client.apply([new_agent(f"Agent {i}") for i in range(6)])
        client.reconcile()
        assert store.count("agent") == 6
        assert_converged(store)


def test_two_pass_resume_from_a_state_persisted_without_its_children(data_dir: Path) -> None:
    """Pass 1 stops right after Persist and commits; pass 2 reconciles the rest."""
    head = catalog.AGENT_APPLY.steps[: STEPS.index("Persist") + 1]
    truncated = Pipeline("pass 1", (*head, *catalog.AGENT_APPLY.steps[-3:]))
    store = open_store(data_dir)
    with Client(store, actor="alice") as client:
        original = catalog._PIPELINES[("agent", "apply")]
        catalog._PIPELINES[("agent", "apply")] = truncated
        try:
            client.apply([new_agent("Alpha"), new_agent("Beta")])
        finally:
            catalog._PIPELINES[("agent", "apply")] = original
        # What pass 1 saved: the agents, consistent, but without children or status.
        assert store.check() == []
        assert store.count("agent") == 2 and store.count("agent_instance") == 0
        for agent in store.list("agent"):
            assert isinstance(agent, Agent)
            assert agent.status.default_instance_id == "" and not agent.status.conditions
        # Pass 2.
        results = client.reconcile("agents")
        assert [r.outcome for r in results] == ["configured", "configured"]
        assert_converged(store)
        assert [r.outcome for r in client.reconcile("agents")] == ["unchanged", "unchanged"]
    store.close()
