"""Upstream's Agent and AgentInstance services, over a real server, with their status codes."""

from __future__ import annotations

import signal

import grpc

from stigmer.api.v1.agent_instance_pb2 import AgentInstance
from stigmer.api.v1.agent_instance_service_pb2 import (
    AgentInstanceId,
    GetAgentInstancesByAgentRequest,
)
from stigmer.api.v1.agent_service_pb2 import AgentId
from stigmer.api.v1.commons_pb2 import ApiResourceReference
from stigmer.api.v1.upstream_rpc_pb2 import PageInfo
from stigmer.client import Client
from tests.server.conftest import Server, Stubs, bearer, code_of, make_token, new_agent


def test_apply_creates_the_agent_and_its_default_instance_then_updates(
    server: Server, stubs: Stubs
) -> None:
    md = bearer(make_token(server.data_dir, "alice"))
    cmd = stubs.agent.AgentCommandControllerStub(server.channel())
    created = cmd.apply(new_agent("Pirate"), metadata=md)
    assert created.metadata.id.startswith("agt-") and created.metadata.slug == "pirate"
    assert created.status.default_instance_id.startswith("ain-")
    changed = new_agent("Pirate", instructions="You answer like a parrot.")
    again = cmd.apply(changed, metadata=md)
    assert again.metadata.id == created.metadata.id
    assert again.spec.instructions == "You answer like a parrot."
    with Client(server.data_dir, actor="alice") as local:  # the same store the CLI reads
        assert local.get("agent", "pirate").spec.instructions == "You answer like a parrot."  # type: ignore[union-attr]


def test_create_of_a_taken_slug_is_already_exists(server: Server, stubs: Stubs) -> None:
    md = bearer(make_token(server.data_dir, "alice"))
    cmd = stubs.agent.AgentCommandControllerStub(server.channel())
    cmd.create(new_agent("Pirate"), metadata=md)
    code, details = code_of(lambda: cmd.create(new_agent("Pirate"), metadata=md))
    assert code == grpc.StatusCode.ALREADY_EXISTS
    assert details == 'agent "pirate" already exists in org "local"'


def test_get_and_get_by_reference_find_the_agent(server: Server, stubs: Stubs) -> None:
    md = bearer(make_token(server.data_dir, "alice"))
    channel = server.channel()
    created = stubs.agent.AgentCommandControllerStub(channel).apply(
        new_agent("Pirate"), metadata=md
    )
    query = stubs.agent.AgentQueryControllerStub(channel)
    assert query.get(AgentId(value=created.metadata.id), metadata=md) == created
    ref = ApiResourceReference(org="local", slug="pirate")
    assert query.getByReference(ref, metadata=md).metadata.id == created.metadata.id
    code, details = code_of(lambda: query.get(AgentId(value="agt-nothing"), metadata=md))
    assert (code, details) == (grpc.StatusCode.NOT_FOUND, 'agent "agt-nothing" not found')
    missing = ApiResourceReference(org="local", slug="nobody")
    assert code_of(lambda: query.getByReference(missing, metadata=md))[0] == (
        grpc.StatusCode.NOT_FOUND
    )


def test_delete_returns_the_agent_and_cascades_to_its_instance(
    server: Server, stubs: Stubs
) -> None:
    md = bearer(make_token(server.data_dir, "alice"))
    channel = server.channel()
    created = stubs.agent.AgentCommandControllerStub(channel).apply(
        new_agent("Pirate"), metadata=md
    )
    deleted = stubs.agent.AgentCommandControllerStub(channel).delete(
        AgentId(value=created.metadata.id), metadata=md
    )
    assert deleted.metadata.id == created.metadata.id
    instances = stubs.instance.AgentInstanceQueryControllerStub(channel)
    gone = AgentInstanceId(value=created.status.default_instance_id)
    assert code_of(lambda: instances.get(gone, metadata=md))[0] == grpc.StatusCode.NOT_FOUND


def test_instances_by_agent_come_in_pages_with_the_total(server: Server, stubs: Stubs) -> None:
    md = bearer(make_token(server.data_dir, "alice"))
    channel = server.channel()
    agent = stubs.agent.AgentCommandControllerStub(channel).apply(new_agent("Pirate"), metadata=md)
    cmd = stubs.instance.AgentInstanceCommandControllerStub(channel)
    for name in ("one", "two", "three"):
        inst = AgentInstance(api_version="agentic.stigmer.ai/v1", kind="AgentInstance")
        inst.metadata.name = name
        inst.spec.agent_id = agent.metadata.id
        cmd.create(inst, metadata=md)
    query = stubs.instance.AgentInstanceQueryControllerStub(channel)
    whole = query.getByAgent(
        GetAgentInstancesByAgentRequest(agent_id=agent.metadata.id), metadata=md
    )
    assert whole.total_count == 4  # three, and the default instance
    page = query.getByAgent(
        GetAgentInstancesByAgentRequest(
            agent_id=agent.metadata.id, page_info=PageInfo(num=2, size=3)
        ),
        metadata=md,
    )
    assert page.total_count == 4 and len(page.items) == 1
    assert {i.metadata.slug for i in whole.items} == {"pirate-default", "one", "two", "three"}


def test_bad_input_is_invalid_argument_naming_the_field(server: Server, stubs: Stubs) -> None:
    md = bearer(make_token(server.data_dir, "alice"))
    cmd = stubs.agent.AgentCommandControllerStub(server.channel())
    code, details = code_of(
        lambda: cmd.apply(new_agent("Pirate", instructions="short"), metadata=md)
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert details.startswith("spec.instructions: ")
    assert "Traceback" not in details


def test_a_reference_to_a_missing_agent_is_failed_precondition(
    server: Server, stubs: Stubs
) -> None:
    md = bearer(make_token(server.data_dir, "alice"))
    inst = AgentInstance(api_version="agentic.stigmer.ai/v1", kind="AgentInstance")
    inst.metadata.name = "orphan"
    inst.spec.agent_id = "agt-01m8wz2sz4snfyvyhhcpyd227q"
    cmd = stubs.instance.AgentInstanceCommandControllerStub(server.channel())
    code, details = code_of(lambda: cmd.apply(inst, metadata=md))
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert details.startswith("spec.agentId: "), details


def test_a_stale_resource_version_is_aborted(server: Server, stubs: Stubs) -> None:
    md = bearer(make_token(server.data_dir, "alice"))
    cmd = stubs.agent.AgentCommandControllerStub(server.channel())
    first = cmd.apply(new_agent("Pirate"), metadata=md)
    cmd.apply(new_agent("Pirate", instructions="Somebody else changed it."), metadata=md)
    stale = type(first).FromString(first.SerializeToString())
    stale.spec.instructions = "My change, on what I read."
    code, details = code_of(lambda: cmd.update(stale, metadata=md))
    assert code == grpc.StatusCode.ABORTED
    assert "resourceVersion" in details or "resource_version" in details


def test_update_of_an_unknown_id_is_not_found(server: Server, stubs: Stubs) -> None:
    md = bearer(make_token(server.data_dir, "alice"))
    cmd = stubs.agent.AgentCommandControllerStub(server.channel())
    ghost = new_agent("Ghost")
    ghost.metadata.id = "agt-01m8wz2sz4snfyvyhhcpyd227q"
    assert code_of(lambda: cmd.update(ghost, metadata=md))[0] == grpc.StatusCode.NOT_FOUND


def test_roles_apply_per_call(server: Server, stubs: Stubs) -> None:
    with Client(server.data_dir, actor="alice") as local:
        local.grant("bob", "viewer", org="local")
    bob = bearer(make_token(server.data_dir, "bob"))
    alice = bearer(make_token(server.data_dir, "alice"))
    channel = server.channel()
    cmd = stubs.agent.AgentCommandControllerStub(channel)
    code, details = code_of(lambda: cmd.apply(new_agent("Pirate"), metadata=bob))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert details == 'forbidden: user "bob" cannot apply agents in org "local"'
    created = cmd.apply(new_agent("Pirate"), metadata=alice)
    query = stubs.agent.AgentQueryControllerStub(channel)
    assert query.get(AgentId(value=created.metadata.id), metadata=bob).metadata.slug == "pirate"


def test_an_oversize_message_is_resource_exhausted(server: Server, stubs: Stubs) -> None:
    md = bearer(make_token(server.data_dir, "alice"))
    cmd = stubs.agent.AgentCommandControllerStub(server.channel())
    huge = new_agent("Huge", instructions="x" * (5 * 1024 * 1024))
    assert code_of(lambda: cmd.apply(huge, metadata=md))[0] == grpc.StatusCode.RESOURCE_EXHAUSTED


def test_a_stopped_server_is_unavailable(server: Server, stubs: Stubs) -> None:
    md = bearer(make_token(server.data_dir, "alice"))
    assert server.stop(signal.SIGTERM) == 0
    query = stubs.agent.AgentQueryControllerStub(server.channel())
    code, _ = code_of(lambda: query.get(AgentId(value="agt-x"), metadata=md, timeout=10))
    assert code == grpc.StatusCode.UNAVAILABLE
