"""Group commit: applies that arrive while a commit runs share the next transaction.

Each test holds the store's write lock with a transaction of its own, so the
first apply leads a group that cannot commit yet; the applies sent meanwhile
queue, and once the lock is released they run together as one group.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from stigmer.api.v1.agent_pb2 import Agent
from stigmer.client import Client
from stigmer.errors import (
    AlreadyExists,
    Conflict,
    Forbidden,
    InvalidResource,
    NotFound,
    StepFailed,
)
from stigmer.reconcilers.framework import Outcome, Request, Result
from stigmer.server.grouping import GroupedApply
from stigmer.server.upstream import WRITES
from stigmer.store import WriteTxn
from tests.reconcilers.helpers import new_instance
from tests.server.conftest import new_agent


@pytest.fixture
def client(data_dir: Path) -> Iterator[Client]:
    with Client.for_user(str(data_dir), user="alice") as c:
        yield c


@contextmanager
def write_lock_held(client: Client) -> Iterator[None]:
    """The store's write lock, taken by a transaction that waits until the block ends."""
    taken, release = threading.Event(), threading.Event()

    def hold(txn: WriteTxn) -> None:
        taken.set()
        release.wait()

    holder = threading.Thread(target=client.store.transact, args=(hold,))
    holder.start()
    taken.wait()
    try:
        yield
    finally:
        release.set()
        holder.join()


def grouped_writes(
    client: Client, first: Agent, rest: list[tuple[str, list[Request]]], *, workers: int = 4
) -> tuple[Result, list[list[Result] | BaseException]]:
    """Applies ``first`` (it leads, held at the lock) and then each caller's (user,
    requests) of ``rest`` as one group behind it, from an event loop with ``workers``
    threads, as the server's; the leader's result, and each caller's in order."""
    grouper = GroupedApply()
    out: dict[int, list[Result] | BaseException] = {}
    loop = asyncio.new_event_loop()
    loop.set_default_executor(ThreadPoolExecutor(workers))
    runner = threading.Thread(target=loop.run_forever)
    runner.start()

    def send(i: int, user: str, requests: list[Request]) -> Future[None]:
        async def run() -> None:
            try:
                out[i] = await grouper.write_many(client.as_user(user), requests)
            except BaseException as e:  # reported to the test, as the server reports it
                out[i] = e

        return asyncio.run_coroutine_threadsafe(run(), loop)

    try:
        with write_lock_held(client):
            calls = [send(-1, "alice", [WRITES["apply"](first)])]
            assert grouper.queued(0, timeout=60)  # the first apply leads, and waits for the lock
            calls += [send(i, u, r) for i, (u, r) in enumerate(rest)]
            assert grouper.queued(len(rest), timeout=60)
        for call in calls:
            call.result(timeout=60)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        runner.join()
        loop.close()
    leader = out.pop(-1)
    assert isinstance(leader, list)
    return leader[0], [out[i] for i in range(len(rest))]


def grouped(
    client: Client,
    first: Agent,
    rest: list[tuple[str, Agent]],
    *,
    workers: int = 4,
    verb: str = "apply",
) -> tuple[Result, list[Result | BaseException]]:
    """``grouped_writes`` of one upstream ``verb`` (apply, create, update) per caller."""
    lead, results = grouped_writes(
        client, first, [(u, [WRITES[verb](o)]) for u, o in rest], workers=workers
    )
    return lead, [r if isinstance(r, BaseException) else r[0] for r in results]


def cause(result: Result | BaseException) -> BaseException | None:
    """The error a caller of this apply is told of (a step's failure is its cause's)."""
    assert isinstance(result, Result)
    return result.error.cause if isinstance(result.error, StepFailed) else result.error


def created_at(result: Result | BaseException) -> int:
    """When the object was created: a transaction stamps all it writes with one time."""
    assert isinstance(result, Result) and result.object is not None
    return result.object.status.audit.spec_audit.created_at.ToNanoseconds()


def test_applies_queued_behind_a_commit_share_one_transaction(client: Client) -> None:
    lead, results = grouped(
        client, new_agent("Lead"), [("alice", new_agent(f"Bot {i}")) for i in range(5)]
    )
    assert all(isinstance(r, Result) and r.ok for r in results)
    assert len({created_at(r) for r in results}) == 1  # the five, in one transaction
    assert created_at(lead) not in {created_at(r) for r in results}  # the leader's, alone
    assert {a.metadata.slug for a in client.list("agent")} == {
        "lead",
        *(f"bot-{i}" for i in range(5)),
    }
    assert len(client.list("agentinstance")) == 6  # each its default instance


def test_callers_waiting_for_a_group_hold_no_thread(client: Client) -> None:
    # One worker thread: it runs the leader's group, while twenty callers wait on the loop.
    _, results = grouped(
        client, new_agent("Lead"), [("alice", new_agent(f"Bot {i}")) for i in range(20)], workers=1
    )
    assert all(isinstance(r, Result) and r.ok for r in results)
    assert len({created_at(r) for r in results}) == 1  # the twenty, in one transaction
    assert len(client.list("agent")) == 21


def test_two_applies_of_one_slug_in_a_group_make_one_object(client: Client) -> None:
    one = new_agent("Pirate", instructions="You answer like a pirate.")
    two = new_agent("Pirate", instructions="You answer like a parrot.")
    _, results = grouped(client, new_agent("Lead"), [("alice", one), ("alice", two)])
    assert all(isinstance(r, Result) and r.ok for r in results)
    outcomes = [r.outcome for r in results if isinstance(r, Result)]
    assert outcomes == [Outcome.CREATED, Outcome.CONFIGURED]  # the second updates the first's
    pirates = [a for a in client.list("agent") if a.metadata.slug == "pirate"]
    assert len(pirates) == 1
    assert pirates[0].spec.instructions == "You answer like a parrot."  # type: ignore[union-attr]
    assert len(client.list("agentinstance")) == 2  # lead's and pirate's default instances


def test_a_failing_apply_in_a_group_does_not_fail_the_others(client: Client) -> None:
    bad = new_agent("Shorty", instructions="short")
    taken = new_agent("Lead")
    taken.metadata.id = "agt-01m8wz2sz4snfyvyhhcpyd227q"  # another id than the live "lead"
    rest = [("alice", new_agent("Good")), ("alice", bad), ("alice", taken)]
    _, results = grouped(client, new_agent("Lead"), rest)
    good, shorty, clash = results
    assert isinstance(good, Result) and good.ok
    assert isinstance(cause(shorty), InvalidResource)
    assert isinstance(cause(clash), AlreadyExists)
    assert {a.metadata.slug for a in client.list("agent")} == {"lead", "good"}


def test_callers_in_one_group_keep_their_own_roles(client: Client) -> None:
    client.grant("bob", "viewer", org="local")
    rest = [("bob", new_agent("Bobs")), ("alice", new_agent("Alices"))]
    _, (bobs, alices) = grouped(client, new_agent("Lead"), rest)
    assert isinstance(cause(bobs), Forbidden)
    assert isinstance(alices, Result) and alices.ok
    assert alices.object is not None
    assert alices.object.status.audit.spec_audit.created_by.id == "alice"
    assert {a.metadata.slug for a in client.list("agent")} == {"lead", "alices"}


def test_creates_and_updates_are_grouped_with_their_own_semantics(client: Client) -> None:
    first, again = new_agent("Parrot"), new_agent("Parrot")
    _, (made, taken) = grouped(
        client, new_agent("Lead"), [("alice", first), ("alice", again)], verb="create"
    )
    assert isinstance(made, Result) and made.outcome == Outcome.CREATED
    assert isinstance(cause(taken), AlreadyExists)  # a create never updates, even in a group
    assert isinstance(made, Result) and isinstance(made.object, Agent)
    changed = Agent()
    changed.CopyFrom(made.object)
    changed.spec.instructions = "You answer like a parrot, twice."
    stale = Agent()
    stale.CopyFrom(made.object)
    stale.spec.instructions = "You answer like a crow."  # from the same version: now stale
    nameless = new_agent("Nobody")
    nameless.metadata.id = "agt-01m8wz2sz4snfyvyhhcpyd2270"  # no such agent
    _, (updated, conflict, missing) = grouped(
        client,
        new_agent("Lead 2"),
        [("alice", changed), ("alice", stale), ("alice", nameless)],
        verb="update",
    )
    assert isinstance(updated, Result) and updated.outcome == Outcome.CONFIGURED
    assert isinstance(cause(conflict), Conflict)
    assert isinstance(cause(missing), NotFound)
    (parrot,) = [a for a in client.list("agent") if a.metadata.slug == "parrot"]
    assert parrot.spec.instructions == "You answer like a parrot, twice."  # type: ignore[union-attr]


def test_a_callers_several_writes_run_in_one_batch_of_its_group(client: Client) -> None:
    # An instance listed before the agent it names: one batch applies agents first.
    writes = [
        WRITES["apply"](new_instance("Helper Extra", "helper")),
        WRITES["apply"](new_agent("Helper")),
    ]
    _, (mine, alone) = grouped_writes(
        client,
        new_agent("Lead"),
        [("alice", writes), ("alice", [WRITES["apply"](new_agent("Solo"))])],
    )
    assert isinstance(mine, list) and [r.outcome for r in mine] == [Outcome.CREATED] * 2
    assert isinstance(alone, list) and alone[0].ok
    assert created_at(mine[0]) == created_at(alone[0])  # the two callers, in one transaction
    assert {i.metadata.slug for i in client.list("agentinstance")} == {
        "lead-default",
        "helper-default",
        "helper-extra",
        "solo-default",
    }
