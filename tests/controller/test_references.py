"""The controller converges referrers of a target written any other way, through the index."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from stigmer.api import kinds
from stigmer.api.v1.environment_pb2 import Environment
from stigmer.client import Client
from stigmer.controller.controller import Controller
from stigmer.store import Store
from tests.processes import wait_until

MANIFESTS = """\
apiVersion: agentic.stigmer.ai/v1
kind: Agent
metadata: {name: bot}
spec: {instructions: You answer questions politely.}
---
apiVersion: agentic.stigmer.ai/v1
kind: AgentInstance
metadata: {name: bot-prod}
spec: {agentId: bot, environmentRefs: [{slug: prod}]}
"""


@pytest.fixture
def running(lmdb_store: Store) -> Iterator[Controller]:
    controller = Controller(lmdb_store, tick_seconds=0.05)
    stop = threading.Event()
    thread = threading.Thread(target=controller.run, args=(stop,))
    thread.start()
    yield controller
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()


def resolved(client: Client) -> str:
    inst = client.get("agentinstance", "bot-prod")
    return next(c.status for c in inst.status.conditions if c.type == "ResolvedRefs")


def test_an_environment_written_behind_the_pipelines_back_converges_its_referrers(
    client: Client, lmdb_store: Store, running: Controller
) -> None:
    assert client.apply_text(MANIFESTS).ok
    assert resolved(client) == "False"
    raw = kinds.ENVIRONMENT.new()
    assert isinstance(raw, Environment)
    raw.metadata.id, raw.metadata.org, raw.metadata.slug = (
        "env-01eeeeeeeeeeeeeeeeeeeeeeee",
        "local",
        "prod",
    )
    raw.metadata.name, raw.metadata.generation = "prod", 1
    lmdb_store.put(raw)  # as an import, another tool or a crash might leave it
    wait_until(lambda: resolved(client) == "True", what="the instance's ResolvedRefs")
    lmdb_store.delete("environment", raw.metadata.id)
    wait_until(lambda: resolved(client) == "False", what="the instance's ResolvedRefs again")


def test_the_controller_maps_a_targets_event_to_its_referrers(
    client: Client, lmdb_store: Store
) -> None:
    assert client.apply_text(MANIFESTS).ok
    inst = client.get("agentinstance", "bot-prod")
    event = lmdb_store.events_since(0)[-1]
    event.kind, event.org, event.slug, event.id = "environment", "local", "prod", "env-x"
    keys = Controller(lmdb_store).keys_for(event)
    assert ("agent_instance", inst.metadata.id, "local") in keys
