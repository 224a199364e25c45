"""Steps that keep references and their referrers' status converged, inline.

When an Environment, Skill or McpServer is created, changed or deleted, every
object that names it is reconciled again in the same transaction, found
through the target -> referrers index (stigmer.reconcilers.references): the
cost is O(referrers), never a scan. When an agent's ``envSpec`` changes, its
instances are, since what they require changed. The controller does the same
for writes it sees on the feed (docs/architecture.md, "References").
"""

from __future__ import annotations

from stigmer.api import kinds
from stigmer.api.kinds import Resource
from stigmer.api.v1.agent_instance_pb2 import AgentInstance
from stigmer.api.v1.agent_pb2 import Agent
from stigmer.reconcilers import readiness, references
from stigmer.reconcilers.agents import refresh_status
from stigmer.reconcilers.framework import Context, Outcome
from stigmer.reconcilers.instances import find_agent
from stigmer.store import Reader, WriteTxn


def index_references(ctx: Context) -> None:
    """Keeps the target -> referrers index in step with the object written."""
    references.index(ctx.txn, ctx.new, ctx.live)


def unindex_deleted(ctx: Context) -> None:
    """Drops the index entries of everything a delete removed."""
    for gone in ctx.deleted:
        references.index(ctx.txn, None, gone)


def referrers_of(reader: Reader, obj: Resource) -> list[Resource]:
    """The objects whose status depends on ``obj``: those naming it, an agent's instances."""
    kind, md = kinds.of(obj).key, obj.metadata
    if kind in references.TARGET_KINDS:
        return references.referrers(reader, kind, md.org, md.slug)
    if kind == kinds.AGENT.key:
        return reader.list_owned(md.id, kinds.AGENT_INSTANCE.key)
    return []


def refresh(txn: WriteTxn, obj: Resource, *, now_ns: int, resolver: references.Resolver) -> None:
    """Re-evaluates one referrer's conditions and writes it if they changed."""
    if isinstance(obj, Agent):
        refresh_status(txn, kinds.clone(obj), now_ns=now_ns, resolver=resolver)  # type: ignore[arg-type]
        return
    if isinstance(obj, AgentInstance):
        new = kinds.clone(obj)
        agent = find_agent(txn, obj.spec.agent_id, obj.metadata.org)
        readiness.instance_status(txn, new, agent, now_ns=now_ns, resolver=resolver)
        if new != obj:
            txn.put(new, expected_version=obj.metadata.resource_version)


def converge_referrers(ctx: Context) -> None:
    """After a target's apply or delete: every referrer's ResolvedRefs and Ready follow.

    Deleting a target still in use succeeds, with a warning naming its users.
    """
    target = ctx.new if ctx.new is not None else ctx.live
    if target is None or ctx.outcome == Outcome.UNCHANGED:
        return  # an unchanged target leaves its referrers as they were
    found = referrers_of(ctx.txn, target)
    resolver = references.Resolver(ctx.txn)
    for obj in found:
        refresh(ctx.txn, obj, now_ns=ctx.now_ns, resolver=resolver)
    if ctx.new is None and found and kinds.of(target).key in references.TARGET_KINDS:
        names = ", ".join(f"{kinds.of(o).singular}/{o.metadata.slug}" for o in found)
        ctx.warnings.append(
            f"{kinds.of(target).singular} {target.metadata.slug} is still referenced by {names}"
        )


def converge_instances(ctx: Context) -> None:
    """After an agent's apply: its instances follow a change of what it requires (envSpec)."""
    live, new = ctx.live, ctx.new
    if not isinstance(live, Agent) or not isinstance(new, Agent):
        return
    if live.spec.env_spec == new.spec.env_spec:
        return
    resolver = references.Resolver(ctx.txn)
    for inst in referrers_of(ctx.txn, new):
        refresh(ctx.txn, inst, now_ns=ctx.now_ns, resolver=resolver)
