"""The pipelines: which named steps run, in which order, for each kind and verb."""

from __future__ import annotations

from stigmer.api import kinds
from stigmer.api.kinds import Kind
from stigmer.errors import UsageError
from stigmer.reconcilers import accepting, agents, converging, instances, steps
from stigmer.reconcilers.framework import Pipeline, Step

_HEAD: tuple[tuple[str, Step], ...] = (
    ("ValidateFieldConstraints", steps.validate_field_constraints),
    ("Authorize", steps.authorize),
    ("ResolveSlug", steps.resolve_slug),
    ("CheckDuplicate", steps.check_duplicate),
)
_TAIL: tuple[tuple[str, Step], ...] = (
    ("Publish", steps.publish),
    ("TransformResponse", steps.transform_response),
    ("SendResponse", steps.send_response),
)

AGENT_APPLY = Pipeline(
    "agent apply",
    (
        *_HEAD,
        ("SetDefaults", steps.set_defaults),
        ("Persist", steps.persist),
        ("IndexReferences", converging.index_references),
        ("CreateIamPolicies", steps.create_iam_policies),
        ("CreateDefaultInstance", agents.create_default_instance),
        ("UpdateAgentStatusWithDefaultInstance", agents.update_agent_status),
        ("ConvergeInstances", converging.converge_instances),
        *_TAIL,
    ),
)

INSTANCE_APPLY = Pipeline(
    "agentinstance apply",
    (
        *_HEAD,
        ("ResolveAgentRef", instances.resolve_agent_ref),
        ("SetDefaults", steps.set_defaults),
        ("SetOwnerReference", instances.set_owner_reference),
        ("Persist", steps.persist),
        ("IndexReferences", converging.index_references),
        ("CreateIamPolicies", steps.create_iam_policies),
        *_TAIL,
    ),
)

# A kind with no steps of its own (in _PIPELINES) runs these: adding a kind needs no code here.
PLAIN_APPLY = Pipeline(
    "apply",
    (
        *_HEAD,
        ("SetDefaults", steps.set_defaults),
        ("SetReady", accepting.set_ready),
        ("Persist", steps.persist),
        ("CreateIamPolicies", steps.create_iam_policies),
        ("ConvergeReferrers", converging.converge_referrers),
        *_TAIL,
    ),
)

PLAIN_RECONCILE = Pipeline(
    "reconcile",
    (
        ("Authorize", steps.authorize),
        ("LoadLive", steps.load_live),
        ("SetReady", accepting.set_ready),
        ("Persist", steps.persist),
        ("CreateIamPolicies", steps.create_iam_policies),
        ("MarkChanged", steps.mark_changed),
        *_TAIL,
    ),
)

DELETE = Pipeline(
    "delete",
    (
        ("Authorize", steps.authorize),
        ("LoadLive", steps.load_live),
        ("DeleteOwned", steps.delete_owned),
        ("DeleteObject", steps.delete_object),
        ("DeleteIamPolicies", steps.delete_iam_policies),
        ("UnindexReferences", converging.unindex_deleted),
        ("ConvergeReferrers", converging.converge_referrers),
        ("RepairOwner", agents.repair_owner),
        *_TAIL,
    ),
)

AGENT_RECONCILE = Pipeline(
    "agent reconcile",
    (
        ("Authorize", steps.authorize),
        ("LoadLive", steps.load_live),
        ("IndexReferences", converging.index_references),
        ("CreateIamPolicies", steps.create_iam_policies),
        ("CreateDefaultInstance", agents.create_default_instance),
        ("UpdateAgentStatusWithDefaultInstance", agents.update_agent_status),
        ("MarkChanged", steps.mark_changed),
        *_TAIL,
    ),
)

INSTANCE_RECONCILE = Pipeline(
    "agentinstance reconcile",
    (
        ("Authorize", steps.authorize),
        ("LoadLive", steps.load_live),
        ("CheckAgent", instances.check_agent),
        ("Persist", steps.persist),
        ("IndexReferences", converging.index_references),
        ("CreateIamPolicies", steps.create_iam_policies),
        ("MarkChanged", steps.mark_changed),
        *_TAIL,
    ),
)

_PIPELINES = {
    (kinds.AGENT.key, "apply"): AGENT_APPLY,
    (kinds.AGENT.key, "create"): AGENT_APPLY,
    (kinds.AGENT.key, "update"): AGENT_APPLY,
    (kinds.AGENT.key, "reconcile"): AGENT_RECONCILE,
    (kinds.AGENT_INSTANCE.key, "apply"): INSTANCE_APPLY,
    (kinds.AGENT_INSTANCE.key, "create"): INSTANCE_APPLY,
    (kinds.AGENT_INSTANCE.key, "update"): INSTANCE_APPLY,
    (kinds.AGENT_INSTANCE.key, "reconcile"): INSTANCE_RECONCILE,
}

_PLAIN = {"apply": PLAIN_APPLY, "create": PLAIN_APPLY, "update": PLAIN_APPLY}
_PLAIN["reconcile"] = PLAIN_RECONCILE


def pipeline_for(kind: Kind, verb: str) -> Pipeline:
    """The pipeline that serves ``verb`` on ``kind``."""
    if verb == "delete":
        return DELETE
    if verb == "diff":  # a diff is an apply that is never committed
        verb = "apply"
    found = _PIPELINES.get((kind.key, verb)) or _PLAIN.get(verb)
    if found is None:
        raise UsageError(f"no pipeline for {verb} on {kind.plural}")
    return found
