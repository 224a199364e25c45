"""Building resources the way a library user would."""

from __future__ import annotations

from stigmer.api.kinds import AGENT, AGENT_INSTANCE
from stigmer.api.v1.agent_instance_pb2 import AgentInstance
from stigmer.api.v1.agent_pb2 import Agent
from stigmer.store import Store


def new_agent(
    name: str,
    *,
    org: str = "",
    slug: str = "",
    instructions: str = "You are a careful assistant.",
    labels: dict[str, str] | None = None,
    secret: str | None = None,
) -> Agent:
    a = AGENT.new()
    assert isinstance(a, Agent)
    a.metadata.name, a.metadata.org, a.metadata.slug = name, org, slug
    a.metadata.labels.update(labels or {})
    a.spec.instructions = instructions
    if secret is not None:
        add_secret(a, secret)
    return a


def add_secret(a: Agent, secret: str) -> None:
    """A secret env value and an HTTP server whose bearer token is the secret."""
    a.spec.env_spec.data["API_KEY"].value = secret
    a.spec.env_spec.data["API_KEY"].is_secret = True
    server = a.spec.mcp_servers.add(name="search")
    server.http.url = "https://search.example/mcp"
    server.http.headers["Authorization"] = f"Bearer {secret}"


def new_instance(name: str, agent_ref: str, *, org: str = "") -> AgentInstance:
    i = AGENT_INSTANCE.new()
    assert isinstance(i, AgentInstance)
    i.metadata.name, i.metadata.org = name, org
    i.spec.agent_id = agent_ref
    return i


def default_instances(store: Store, agent: Agent) -> list[AgentInstance]:
    """The instances that are the agent's default: controller-owned by it.

    Read through the owner index, which ``store.check()`` cross-checks against the objects.
    """
    found = []
    for inst in store.list_owned(agent.metadata.id, "agent_instance"):
        assert isinstance(inst, AgentInstance)
        refs = inst.metadata.owner_references
        if any(r.id == agent.metadata.id and r.controller for r in refs):
            found.append(inst)
    return found


def assert_converged(store: Store) -> None:
    """The store is consistent and every Agent has exactly one, linked, default instance."""
    assert store.check() == []
    for agent in store.list("agent"):
        assert isinstance(agent, Agent)
        defaults = default_instances(store, agent)
        assert len(defaults) == 1, f"{agent.metadata.slug}: {len(defaults)} default instances"
        inst = defaults[0]
        assert agent.status.default_instance_id == inst.metadata.id
        assert inst.metadata.slug == f"{agent.metadata.slug}-default"
        assert inst.spec.agent_id == agent.metadata.id
        assert agent.status.observed_generation == agent.metadata.generation
        ready = [c for c in agent.status.conditions if c.type == "Ready"]
        refs = [c for c in agent.status.conditions if c.type == "ResolvedRefs"]
        assert len(ready) == 1 and len(refs) <= 1
        if refs and refs[0].status == "False":  # converged too: Ready says why it is not
            assert (ready[0].status, ready[0].reason) == ("False", refs[0].reason)
        else:
            assert ready[0].status == "True"
