"""The AgentInstance's own steps: its agent reference and owner link."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from stigmer.api import kinds
from stigmer.api.v1.agent_instance_pb2 import AgentInstance
from stigmer.api.v1.agent_pb2 import Agent
from stigmer.errors import NotFound
from stigmer.reconcilers import readiness, references
from stigmer.reconcilers.agents import default_slug, link_owner
from stigmer.reconcilers.framework import Context

if TYPE_CHECKING:
    from stigmer.store import Reader


def find_agent(reader: Reader, ref: str, org: str) -> Agent | None:
    """The agent ``ref`` names in ``org``: by id, or else by slug."""
    agent = reader.find(kinds.AGENT.key, ref) if ref else None
    if agent is None or agent.metadata.org != org:
        agent = reader.find_by_slug(kinds.AGENT.key, org, ref) if ref else None
    assert agent is None or isinstance(agent, Agent)
    return agent


def resolve_agent_ref(ctx: Context) -> None:
    """spec.agentId must name an Agent in the same org; it is stored as the agent's id.

    The id goes into a copy of the request's object, never the caller's: a
    re-run of the transaction may find another id (an agent made by the
    aborted run is gone), and must read the reference as it was written.
    """
    want = ctx.request.desired
    assert isinstance(want, AgentInstance)
    org = want.metadata.org
    agent = find_agent(ctx.txn, want.spec.agent_id, org)
    if agent is None:
        message = f'agent "{want.spec.agent_id}" not found in org "{org}"'
        raise NotFound(message, path="spec.agentId")
    if want.spec.agent_id != agent.metadata.id:
        want = AgentInstance.FromString(want.SerializeToString())
        want.spec.agent_id = agent.metadata.id
        ctx.request = replace(ctx.request, desired=want)
    ctx.parent = agent


def set_owner_reference(ctx: Context) -> None:
    """The instance is owned by its agent: a controller link for the default one."""
    inst, agent = ctx.new, ctx.parent
    assert isinstance(inst, AgentInstance) and isinstance(agent, Agent)
    link_owner(inst, agent, controller=inst.metadata.slug == default_slug(agent))
    ctx.refs = references.refs_of(inst)  # IndexReferences, after Persist, reuses them
    readiness.instance_status(ctx.txn, inst, agent, now_ns=ctx.now_ns, refs=ctx.refs)


def check_agent(ctx: Context) -> None:
    """For reconcile: Ready=False when the instance's agent is gone (an orphan)."""
    inst = ctx.new
    assert isinstance(inst, AgentInstance)
    agent = find_agent(ctx.txn, inst.spec.agent_id, inst.metadata.org)
    if agent is not None:
        ctx.parent = agent
        set_owner_reference(ctx)
        return
    readiness.instance_status(ctx.txn, inst, None, now_ns=ctx.now_ns)
