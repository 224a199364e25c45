"""What a target's change writes of its referrers (issue 15's Performance, kept honest).

Converging re-evaluates a target's referrers in place and skips an update they
cannot see; these pin down what they must still see, and that each rewrite is
one write: one event on the feed and the bus, with the state written, and no
history revision.
"""

from __future__ import annotations

from stigmer.api import kinds
from stigmer.api.kinds import Resource
from stigmer.api.v1.agent_instance_pb2 import AgentInstance
from stigmer.api.v1.agent_pb2 import Agent
from stigmer.api.v1.environment_pb2 import Environment
from stigmer.client import Client
from stigmer.reconcilers.events import Change


def agent_and_instance() -> list[Resource]:
    """An agent that requires REGION, and an instance naming environments base and prod."""
    agent = kinds.AGENT.new()
    assert isinstance(agent, Agent)
    agent.metadata.name = "bot"
    agent.spec.instructions = "You answer questions."
    agent.spec.env_spec.data["REGION"].description = "where the bot runs"
    inst = kinds.AGENT_INSTANCE.new()
    assert isinstance(inst, AgentInstance)
    inst.metadata.name = "bot-prod"
    inst.spec.agent_id = "bot"
    inst.spec.environment_refs.add(slug="base")
    inst.spec.environment_refs.add(slug="prod")
    return [agent, inst]


def environment(slug: str, **values: str) -> Environment:
    env = kinds.ENVIRONMENT.new()
    assert isinstance(env, Environment)
    env.metadata.name = slug
    for name, value in values.items():
        env.spec.data[name].value = value
    return env


def ready(client: Client) -> tuple[str, str]:
    inst = client.get("agentinstance", "bot-prod")
    (cond,) = [c for c in inst.status.conditions if c.type == "Ready"]
    return cond.status, cond.reason


def version(client: Client) -> int:
    return client.get("agentinstance", "bot-prod").metadata.resource_version


def test_a_value_swapped_for_another_writes_no_referrer(client: Client) -> None:
    client.apply([*agent_and_instance(), environment("base"), environment("prod", REGION="eu")])
    before = version(client)
    client.apply([environment("prod", REGION="us", LOG="debug")])
    assert version(client) == before
    assert ready(client) == ("True", "AgentFound")


def test_a_value_emptied_or_moved_reaches_the_referrers(client: Client) -> None:
    client.apply([*agent_and_instance(), environment("base"), environment("prod", REGION="eu")])
    client.apply([environment("prod", REGION="")])  # the key stays, its value goes
    assert ready(client) == ("False", "MissingEnvironmentValue")
    client.apply([environment("base", REGION="eu")])  # prod comes later: its "" wins
    assert ready(client) == ("False", "MissingEnvironmentValue")
    client.apply([environment("prod", LOG="")])  # prod drops it: base's value shows
    assert ready(client) == ("True", "AgentFound")
    client.apply([environment("base", REGION="")])
    assert ready(client) == ("False", "MissingEnvironmentValue")


def test_each_rewritten_referrer_is_one_event_with_its_state_and_no_revision(
    client: Client,
) -> None:
    client.apply([*agent_and_instance(), environment("base"), environment("prod", REGION="eu")])
    inst = client.get("agentinstance", "bot-prod")
    heard: list[Change] = []
    client.bus.subscribe(heard.append)
    client.delete("environment", "prod")
    (change,) = [c for c in heard if c.event.kind == kinds.AGENT_INSTANCE.key]
    assert change.object.metadata.resource_version == change.event.revision
    assert change.object == client.get("agentinstance", "bot-prod")
    assert ready(client) == ("False", "EnvironmentNotFound")
    assert len(client.events_for(inst)) == 2  # its creation, then this rewrite
    assert client.history("agentinstance", "bot-prod") == []  # status only: no revision
