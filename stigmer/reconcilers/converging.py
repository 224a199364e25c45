"""Steps that keep references and their referrers' status converged, inline.

When an Environment, Skill or McpServer is created, changed or deleted, every
object that names it is reconciled again in the same transaction, found
through the target -> referrers index (stigmer.reconcilers.references): the
cost is O(referrers), never a scan. When an agent's ``envSpec`` changes, its
instances are, since what they require changed. The controller does the same
for writes it sees on the feed (docs/architecture.md, "References").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stigmer.api import kinds
from stigmer.api.kinds import Resource
from stigmer.api.v1.agent_instance_pb2 import AgentInstance
from stigmer.api.v1.agent_pb2 import Agent
from stigmer.reconcilers import readiness, references
from stigmer.reconcilers.agents import refresh_status
from stigmer.reconcilers.framework import Context, Outcome
from stigmer.reconcilers.instances import find_agent

if TYPE_CHECKING:
    from stigmer.store import Reader


def index_references(ctx: Context) -> None:
    """Keeps the target -> referrers index in step with the object written.

    The references it reads stay on the context for the status steps after it.
    """
    new, live = ctx.new, ctx.live
    refs = ctx.refs = references.refs_of(new) if ctx.refs is None else ctx.refs
    # Only SetDefaults changes a spec, and it says so (ctx.spec_changed): without
    # that, the live object made the same references, and there are none to drop.
    same = new is not None and live is not None and not ctx.spec_changed
    references.index(ctx.txn, new, live, refs=refs, same_spec=same)


def unindex_deleted(ctx: Context) -> None:
    """Drops the index entries of everything a delete removed."""
    for gone in ctx.deleted:
        references.index(ctx.txn, None, gone)


def referrers_of(reader: Reader, obj: Resource) -> list[tuple[Resource, list[references.Ref]]]:
    """The objects whose status depends on ``obj``, each with the references it makes.

    Those naming it, or an agent's instances.
    """
    kind, md = kinds.of(obj).key, obj.metadata
    if kind in references.TARGET_KINDS:
        return references.referring(reader, kind, md.org, md.slug)
    if kind == kinds.AGENT.key:
        owned = reader.list_owned(md.id, kinds.AGENT_INSTANCE.key)
        return [(inst, references.refs_of(inst)) for inst in owned]
    return []


class Refresher:
    """Re-evaluates referrers in one transaction, reading each target and each agent once.

    The instances of one agent share its read, as they share their targets'
    (through the Resolver).
    """

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.resolver = references.Resolver(ctx.txn)
        self._agents: dict[tuple[str, str], Agent | None] = {}

    def refresh(self, obj: Resource, refs: list[references.Ref]) -> None:
        """Re-evaluates one referrer's conditions and writes it if they changed.

        ``obj`` is this transaction's own copy, read for this, so it is changed
        in place: only a changed one is written, and Publish sends it as written.
        """
        txn, now_ns = self.ctx.txn, self.ctx.now_ns
        if isinstance(obj, Agent):
            refresh_status(txn, obj, now_ns=now_ns, resolver=self.resolver)
            return
        if not isinstance(obj, AgentInstance):
            return
        agent = self._agent(obj.spec.agent_id, obj.metadata.org)
        version = obj.metadata.resource_version
        if readiness.instance_status(
            txn, obj, agent, now_ns=now_ns, resolver=self.resolver, refs=refs
        ):
            self.ctx.written[obj.metadata.id] = txn.put(obj, expected_version=version)

    def _agent(self, ref: str, org: str) -> Agent | None:
        key = (ref, org)
        if key not in self._agents:
            self._agents[key] = find_agent(self.ctx.txn, ref, org)
        return self._agents[key]


def converge_referrers(ctx: Context) -> None:
    """After a target's apply or delete: every referrer's ResolvedRefs and Ready follow.

    Deleting a target still in use succeeds, with a warning naming its users.
    """
    target = ctx.new if ctx.new is not None else ctx.live
    if target is None or ctx.outcome == Outcome.UNCHANGED:
        return  # an unchanged target leaves its referrers as they were
    if ctx.live is not None and ctx.new is not None and unseen(ctx.live, ctx.new):
        return  # nor does a change they cannot see (a value swapped for another)
    found = referrers_of(ctx.txn, target)
    refresher = Refresher(ctx)
    for obj, refs in found:
        refresher.refresh(obj, refs)
    if ctx.new is None and found and kinds.of(target).key in references.TARGET_KINDS:
        names = ", ".join(f"{kinds.of(o).singular}/{o.metadata.slug}" for o, _ in found)
        ctx.warnings.append(
            f"{kinds.of(target).singular} {target.metadata.slug} is still referenced by {names}"
        )


def unseen(live: Resource, new: Resource) -> bool:
    """Whether a target's update leaves every referrer's conditions as they were.

    A referrer's ResolvedRefs reads of its target only that it exists and the
    versions a reference may name; an instance's Ready also reads which of an
    Environment's variables have a value (readiness.provided).
    """
    same_versions = references.versions(live) == references.versions(new)
    return same_versions and readiness.provided(live) == readiness.provided(new)


def converge_instances(ctx: Context) -> None:
    """After an agent's apply: its instances follow a change of what it requires (envSpec)."""
    live, new = ctx.live, ctx.new
    if not isinstance(live, Agent) or not isinstance(new, Agent):
        return
    if not ctx.spec_changed or live.spec.env_spec == new.spec.env_spec:
        return
    refresher = Refresher(ctx)
    for inst, refs in referrers_of(ctx.txn, new):
        refresher.refresh(inst, refs)
