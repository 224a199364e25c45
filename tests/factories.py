"""Builders for test objects, so tests state only what they care about."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from stigmer.api.kinds import AGENT, AGENT_INSTANCE, Resource
from stigmer.api.v1.agent_instance_pb2 import AgentInstance
from stigmer.api.v1.agent_pb2 import Agent
from stigmer.store.protocol import Record, WriteTxn


def agent(
    id: str,
    *,
    org: str = "local",
    slug: str | None = None,
    labels: dict[str, str] | None = None,
    instructions: str = "You are a helpful agent.",
) -> Agent:
    obj = AGENT.new()
    assert isinstance(obj, Agent)
    md = obj.metadata
    md.id, md.org, md.slug, md.name = id, org, slug or id.replace("agt-", "a"), slug or id
    md.labels.update(labels or {})
    md.generation = 1
    obj.spec.instructions = instructions
    return obj


def instance(id: str, agent_obj: Agent, *, slug: str | None = None) -> AgentInstance:
    obj = AGENT_INSTANCE.new()
    assert isinstance(obj, AgentInstance)
    md = obj.metadata
    md.id, md.org, md.slug, md.name = id, agent_obj.metadata.org, slug or id, slug or id
    md.owner_references.add(
        kind="Agent", id=agent_obj.metadata.id, slug=agent_obj.metadata.slug, controller=True
    )
    obj.spec.agent_id = agent_obj.metadata.id
    return obj


def putting(*objs: Resource) -> Callable[[WriteTxn], None]:
    """A transact callback writing ``objs``, bound now (a loop's lambda would see later ones)."""

    def put(w: WriteTxn) -> None:
        for obj in objs:
            w.put(obj)

    return put


def restoring(records: Iterable[Record]) -> Callable[[WriteTxn], None]:
    """A transaction callback that restores ``records`` (a copy's, or a store's own)."""
    kept = list(records)  # read once: the callback may run again

    def restore(w: WriteTxn) -> None:
        for record in kept:
            w.restore(record)

    return restore


def as_agent(obj: Resource | None) -> Agent:
    """``obj``, typed as the Agent the test expects it to be."""
    assert isinstance(obj, Agent), obj
    return obj


def as_instance(obj: Resource | None) -> AgentInstance:
    """``obj``, typed as the AgentInstance the test expects it to be."""
    assert isinstance(obj, AgentInstance), obj
    return obj
