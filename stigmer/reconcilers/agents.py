"""The Agent's own steps: its default AgentInstance and its status.

Level-triggered: given an Agent, ``ensure_default_instance`` and
``converge_status`` make everything true whatever the store holds, and do
nothing when it already is. The default instance's slug derives from the
agent's (``<slug>-default``), so a retry after a crash finds the child it
half-made instead of making a second one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stigmer.api import kinds, naming
from stigmer.api.kinds import AGENT_INSTANCE
from stigmer.api.v1.agent_instance_pb2 import AgentInstance
from stigmer.api.v1.agent_pb2 import Agent
from stigmer.reconcilers import audits, conditions, readiness, references
from stigmer.reconcilers.framework import Context, Outcome, TerminalError

if TYPE_CHECKING:
    from stigmer.store import WriteTxn

DEFAULT_DESCRIPTION = "Default instance (auto-created, no custom configuration)"


def default_slug(agent: Agent) -> str:
    return naming.default_instance_slug(agent.metadata.slug)


def _agent(ctx: Context) -> Agent:
    assert isinstance(ctx.new, Agent)
    return ctx.new


def link_owner(inst: AgentInstance, agent: Agent, *, controller: bool) -> None:
    """Makes ``agent`` the one owner of ``inst``."""
    md = agent.metadata
    _link(inst, md.id, md.slug, controller=controller)


def _link(inst: AgentInstance, agent_id: str, agent_slug: str, *, controller: bool) -> None:
    """``link_owner`` with the agent's id and slug in hand."""
    refs = inst.metadata.owner_references
    del refs[:]
    refs.add(kind=kinds.AGENT.name, id=agent_id, slug=agent_slug, controller=controller)


def _template() -> AgentInstance:
    """What every new default instance starts from."""
    inst = AgentInstance(api_version=AGENT_INSTANCE.api_version, kind=AGENT_INSTANCE.name)
    inst.metadata.generation = 1
    inst.spec.description = DEFAULT_DESCRIPTION
    return inst


# Copying a finished message costs a third of building it field by field, once per agent.
_TEMPLATE = _template()


def _new_default(org: str, slug: str, actor: str, now_ns: int) -> AgentInstance:
    inst = AgentInstance()
    inst.CopyFrom(_TEMPLATE)
    md = inst.metadata
    md.id = naming.new_id(AGENT_INSTANCE.id_prefix)
    md.org, md.slug = org, slug
    audits.created(inst.status, actor, now_ns)
    return inst


def ensure_default_instance(
    txn: WriteTxn, agent: Agent, *, actor: str, now_ns: int
) -> AgentInstance:
    """Creates, adopts or repairs the agent's default instance; returns it.

    An instance with the default slug that belongs to another agent is a
    conflict no retry can fix: TerminalError.
    """
    # The agent's fields are read once each: a message field read costs ~1,000 instructions.
    amd = agent.metadata
    agent_id, agent_slug, org = amd.id, amd.slug, amd.org
    slug = naming.default_instance_slug(agent_slug)
    live = txn.find_by_slug(AGENT_INSTANCE.key, org, slug)
    assert live is None or isinstance(live, AgentInstance)
    if live is not None and live.spec.agent_id != agent_id:
        raise TerminalError(
            f'agentinstance "{slug}" in org "{org}" belongs to agent {live.spec.agent_id}; '
            "delete it or give this agent another slug"
        )
    if live is None:
        inst = _new_default(org, slug, actor, now_ns)
    else:
        inst = AgentInstance()
        inst.CopyFrom(live)
        inst.spec.description = inst.spec.description or DEFAULT_DESCRIPTION
    md, spec = inst.metadata, inst.spec
    md.name = amd.name + naming.DEFAULT_INSTANCE_SUFFIX
    md.owner_scope = amd.owner_scope
    spec.agent_id = agent_id
    _link(inst, agent_id, agent_slug, controller=True)
    # A default instance made here names no Environment: no references to read.
    refs: list[references.Ref] | None = [] if live is None else None
    readiness.instance_status(txn, inst, agent, now_ns=now_ns, refs=refs)
    if live is None or inst != live:
        txn.put(inst, expected_version=0 if live is None else live.metadata.resource_version)
    return inst


def converge_status(
    agent: Agent,
    inst: AgentInstance | None,
    *,
    reason: str,
    message: str,
    now_ns: int,
    refs: references.Verdict,
) -> bool:
    """Sets default_instance_id, observed_generation, ResolvedRefs and Ready; True if any changed.

    Ready is False while a reference does not resolve, with its reason.
    """
    status, generation = agent.status, agent.metadata.generation
    instance_id = inst.metadata.id if inst is not None else ""
    changed = (status.default_instance_id, status.observed_generation) != (instance_id, generation)
    if changed:  # a write to a message field costs as much as a read: only when it differs
        status.default_instance_id, status.observed_generation = instance_id, generation
    found = conditions.by_type(status)  # one walk for both conditions
    changed = readiness.set_resolved(agent, refs, now_ns=now_ns, found=found) or changed
    ready = conditions.TRUE if inst is not None else conditions.FALSE
    if not refs.resolved:
        ready, reason, message = conditions.FALSE, refs.reason, refs.message
    ready_changed = conditions.set_condition(
        status,
        conditions.READY,
        ready,
        reason,
        message,
        generation=generation,
        now_ns=now_ns,
        found=found,
    )
    return ready_changed or changed


# -- steps --------------------------------------------------------------------


def create_default_instance(ctx: Context) -> None:
    """Step 8: the agent's default AgentInstance exists, points at it and is owned by it."""
    agent = _agent(ctx)
    ctx.default_instance = ensure_default_instance(
        ctx.txn, agent, actor=ctx.actor, now_ns=ctx.now_ns
    )
    ctx.authorizer.record(ctx.txn, ctx.default_instance, ctx.actor)


def update_agent_status(ctx: Context) -> None:
    """Step 9: status.default_instance_id, observed_generation and Ready."""
    agent, inst = _agent(ctx), ctx.default_instance
    assert inst is None or isinstance(inst, AgentInstance)
    # What is stored is ctx.new as it was before this step (Persist wrote it,
    # or it equals the live object), so only a status change needs a write.
    _write_status(ctx.txn, agent, inst, now_ns=ctx.now_ns, refs=ctx.refs)
    if ctx.outcome == Outcome.UNCHANGED and len(ctx.txn.events) > ctx.event_mark:
        ctx.outcome = Outcome.CONFIGURED  # the apply repaired something: it did write


def _write_status(
    txn: WriteTxn,
    agent: Agent,
    inst: AgentInstance | None,
    *,
    now_ns: int,
    resolver: references.Resolver | None = None,
    refs: list[references.Ref] | None = None,
) -> None:
    """Converges the agent's status to ``inst`` and its references; writes it if that changed it.

    ``refs``: the agent's references, when the caller has read them already.
    """
    _, verdict = references.judge(txn, agent, refs, resolver)
    changed = converge_status(
        agent,
        inst,
        reason="DefaultInstanceReady" if inst is not None else "DefaultInstanceMissing",
        message=f"default instance {inst.metadata.slug} is ready"
        if inst
        else "no default instance",
        now_ns=now_ns,
        refs=verdict,
    )
    if changed:
        txn.put(agent, expected_version=agent.metadata.resource_version)


def repair_owner(ctx: Context) -> None:
    """After a delete: the agent whose default instance it was gets a new one at once.

    As a Deployment replaces a deleted pod. The agent's status then never
    names an instance that is gone, and no controller needs to run for that.
    """
    gone = ctx.live
    if not isinstance(gone, AgentInstance):
        return
    owner = next((r for r in gone.metadata.owner_references if r.controller), None)
    agent = ctx.txn.find(kinds.AGENT.key, owner.id) if owner is not None else None
    if not isinstance(agent, Agent) or default_slug(agent) != gone.metadata.slug:
        return
    inst = ensure_default_instance(ctx.txn, agent, actor=ctx.actor, now_ns=ctx.now_ns)
    ctx.authorizer.record(ctx.txn, inst, ctx.actor)
    _write_status(ctx.txn, agent, inst, now_ns=ctx.now_ns)
    ctx.recreated.append(inst)


def refresh_status(
    txn: WriteTxn, agent: Agent, *, now_ns: int, resolver: references.Resolver
) -> None:
    """Re-reads the agent's references and default instance into its status (a target changed)."""
    inst = txn.find(AGENT_INSTANCE.key, agent.status.default_instance_id)
    assert inst is None or isinstance(inst, AgentInstance)
    _write_status(txn, agent, inst, now_ns=now_ns, resolver=resolver)
