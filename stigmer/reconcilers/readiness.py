"""ResolvedRefs and Ready for the kinds that make references, and an instance's environment.

An object's ``Ready`` is False while its ``ResolvedRefs`` is, with the same
reason (``EnvironmentNotFound``, ``SkillNotFound``, ``RefNotPermitted``), as
the Kubernetes Gateway API does. An instance's environment is its agent's
``envSpec``, then each referenced Environment in order, later ones winning
(upstream's merge rule); an ``envSpec`` key with no value is one the agent
requires, and one that nothing provides makes the instance not Ready
(``MissingEnvironmentValue``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from stigmer.api.kinds import Resource
from stigmer.api.v1.environment_pb2 import Environment
from stigmer.reconcilers import conditions
from stigmer.reconcilers.references import (
    ENVIRONMENT,
    RESOLVED,
    RESOLVED_REFS,
    Ref,
    RefState,
    Resolver,
    Verdict,
    judge,
)

if TYPE_CHECKING:
    from stigmer.store import Reader

MISSING_VALUE = "MissingEnvironmentValue"
FROM_AGENT = "agent envSpec"


# A NamedTuple, not a frozen dataclass: every apply defines it, and a frozen
# dataclass costs ~3.4 M instructions to define, a NamedTuple ~0.4 M (bench/README.md, wave 7).
class EnvEntry(NamedTuple):
    """One variable of an instance's effective environment, and where its value comes from."""

    name: str
    value: str
    secret: bool
    source: str  # FROM_AGENT, or environment/<slug> (environment/<org>/<slug> across orgs)
    required: bool  # the agent's envSpec lists it with no value


def effective_environment(agent: Any, states: list[RefState], org: str) -> list[EnvEntry]:
    """The merged environment, by name: agent envSpec, then each resolved Environment.

    A value once secret stays secret: an Environment that sets a variable the
    agent marks secret cannot make it printable.
    """
    merged: dict[str, EnvEntry] = {}
    if agent is not None:
        for name, v in agent.spec.env_spec.data.items():
            merged[name] = EnvEntry(name, v.value, v.is_secret, FROM_AGENT, not v.value)
    for s in states:
        if s.ref.kind != ENVIRONMENT or s.state != RESOLVED or s.found is None:
            continue
        source = f"environment/{s.ref.slug}" if s.ref.org == org else f"environment/{s.ref.target}"
        spec: Any = s.found.spec
        for name, v in spec.data.items():
            before = merged.get(name)
            secret = v.is_secret or (before is not None and before.secret)
            required = before is not None and before.required
            merged[name] = EnvEntry(name, v.value, secret, source, required)
    return [merged[k] for k in sorted(merged)]


def missing_values(entries: list[EnvEntry]) -> list[str]:
    """The required variables that end with no value."""
    return [e.name for e in entries if e.required and not e.value]


def _missing(agent: Any, states: list[RefState]) -> list[str]:
    """``missing_values`` of the effective environment, without building it.

    A thousand instances are re-evaluated when an Environment they share
    changes; most agents require nothing, and this costs them one test.
    """
    if not agent.spec.HasField("env_spec"):
        return []
    required = [k for k, v in agent.spec.env_spec.data.items() if not v.value]
    if not required:
        return []
    envs = [
        s.found.spec.data  # type: ignore[union-attr]
        for s in states
        if s.ref.kind == ENVIRONMENT and s.state == RESOLVED and s.found is not None
    ]
    final = dict.fromkeys(required, "")
    for data in envs:
        for k in required:
            if k in data:
                final[k] = data[k].value
    return sorted(k for k, v in final.items() if not v)


def provided(obj: Resource) -> frozenset[tuple[str, bool]]:
    """What of an Environment its referrers' Ready reads: each variable, and whether it has a value.

    Empty for other kinds. An update of an Environment that keeps this (a
    value changed for another) leaves every instance's Ready as it was.
    """
    if not isinstance(obj, Environment):
        return frozenset()
    return frozenset((name, bool(v.value)) for name, v in obj.spec.data.items())


def _set(
    status: Any,
    type_: str,
    verdict: tuple[bool, str, str],
    *,
    generation: int,
    now_ns: int,
    found: dict[str, Any] | None = None,
) -> bool:
    """Sets one condition from (ok, reason, message); True when it changed."""
    ok, reason, message = verdict
    value = conditions.TRUE if ok else conditions.FALSE
    return conditions.set_condition(
        status, type_, value, reason, message, generation=generation, now_ns=now_ns, found=found
    )


def set_resolved(
    obj: Resource, refs: Verdict, *, now_ns: int, found: dict[str, Any] | None = None
) -> bool:
    """Sets the ResolvedRefs condition; True when it changed.

    An object that never made a reference gets none, so objects without
    references (most of them) stay as they were. ``found``: the status's
    ``conditions.by_type``, when the caller has it.
    """
    status: Any = obj.status
    found = conditions.by_type(status) if found is None else found
    if not refs.total and RESOLVED_REFS not in found:
        return False
    verdict = (refs.resolved, refs.reason, refs.message)
    generation = obj.metadata.generation
    return _set(status, RESOLVED_REFS, verdict, generation=generation, now_ns=now_ns, found=found)


def instance_status(
    reader: Reader,
    inst: Any,
    agent: Any,
    *,
    now_ns: int,
    resolver: Resolver | None = None,
    refs: list[Ref] | None = None,
) -> bool:
    """Sets an instance's observed generation, ResolvedRefs and Ready; True when any changed.

    ``refs`` are the instance's references when the caller has them already.
    """
    states, resolved = judge(reader, inst, refs, resolver)
    status, generation = inst.status, inst.metadata.generation
    changed = status.observed_generation != generation
    if changed:  # a write to a message field costs as much as a read: only when it differs
        status.observed_generation = generation
    found = conditions.by_type(status)  # one walk for both conditions
    changed = set_resolved(inst, resolved, now_ns=now_ns, found=found) or changed
    if agent is None:
        org = inst.metadata.org
        ready = (False, "AgentNotFound", f'agent "{inst.spec.agent_id}" not found in org "{org}"')
    elif not resolved.resolved:
        ready = (False, resolved.reason, resolved.message)
    elif missing := _missing(agent, states):
        ready = (False, MISSING_VALUE, "no value for " + ", ".join(missing))
    else:
        ready = (True, "AgentFound", f"agent {inst.spec.agent_id} exists")
    ready_changed = _set(
        status, conditions.READY, ready, generation=generation, now_ns=now_ns, found=found
    )
    return ready_changed or changed
