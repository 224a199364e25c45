"""Upstream's Environment, Skill and McpServer services over a real server, as upstream calls."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from stigmer.api.v1.commons_pb2 import ApiResourceReference
from stigmer.api.v1.environment_pb2 import Environment
from stigmer.api.v1.mcp_server_pb2 import McpServer
from stigmer.api.v1.skill_service_pb2 import PushSkillRequest, SkillId
from stigmer.api.v1.upstream_apiresource_pb2 import ApiResourceDeleteInput, ApiResourceId
from stigmer.client import Client
from stigmer.reconcilers.masking import MASK
from tests.server.conftest import Server, bearer, code_of, make_token, service_stubs

Metadata = tuple[tuple[str, str]]


@dataclass
class KindStubs:
    """The generated service stubs of the three referenced kinds' protos."""

    environment: Any
    skill: Any
    mcp_server: Any


@pytest.fixture(scope="module")
def kind_stubs(tmp_path_factory: pytest.TempPathFactory) -> KindStubs:
    out = tmp_path_factory.mktemp("kind-stubs")
    return KindStubs(*service_stubs(out, "environment", "skill", "mcp_server"))


@pytest.fixture
def md(server: Server) -> Metadata:
    return bearer(make_token(server.data_dir, "alice"))


def new_environment(name: str = "Prod", secret: str = "s3cr3t") -> Environment:
    env = Environment(api_version="agentic.stigmer.ai/v1", kind="Environment")
    env.metadata.name = name
    env.spec.data["API_KEY"].value = secret
    env.spec.data["API_KEY"].is_secret = True
    env.spec.data["REGION"].value = "eu-west-1"
    return env


def new_mcp_server(name: str = "Search", header: str = "Bearer abc123") -> McpServer:
    mcp = McpServer(api_version="agentic.stigmer.ai/v1", kind="McpServer")
    mcp.metadata.name = name
    mcp.spec.http.url = "https://mcp.example.com"
    mcp.spec.http.headers["Authorization"] = header
    return mcp


def test_the_three_kinds_services_are_served_under_upstreams_names(server: Server) -> None:
    names = set(ProtoReflectionDescriptorDatabase(server.channel()).get_services())
    for package, kind in (
        ("environment", "Environment"),
        ("skill", "Skill"),
        ("mcpserver", "McpServer"),
    ):
        for role in ("Command", "Query"):
            assert f"ai.stigmer.agentic.{package}.v1.{kind}{role}Controller" in names


def test_an_environment_round_trips_with_its_secrets_masked(
    server: Server, kind_stubs: KindStubs, md: Metadata
) -> None:
    channel = server.channel()
    cmd = kind_stubs.environment.EnvironmentCommandControllerStub(channel)
    query = kind_stubs.environment.EnvironmentQueryControllerStub(channel)
    created = cmd.apply(new_environment(), metadata=md)
    assert created.metadata.id.startswith("env-") and created.metadata.slug == "prod"
    assert created.spec.data["API_KEY"].value == MASK
    assert created.spec.data["REGION"].value == "eu-west-1"
    changed = new_environment()
    changed.spec.data["REGION"].value = "us-east-1"
    again = cmd.apply(changed, metadata=md)
    assert again.metadata.id == created.metadata.id
    got = query.get(ApiResourceId(value=created.metadata.id), metadata=md)
    assert got.spec.data["REGION"].value == "us-east-1" and got.spec.data["API_KEY"].value == MASK
    ref = ApiResourceReference(org="local", kind="environment", slug="prod")
    assert query.getByReference(ref, metadata=md).metadata.id == created.metadata.id
    with Client(server.data_dir, actor="alice") as local:  # the store keeps the real value
        stored = local.get("environment", "prod", show_secrets=True)
        assert stored.spec.data["API_KEY"].value == "s3cr3t"  # type: ignore[union-attr]
    deleted = cmd.delete(ApiResourceDeleteInput(resource_id=created.metadata.id), metadata=md)
    assert deleted.metadata.id == created.metadata.id
    assert deleted.spec.data["API_KEY"].value == MASK
    gone = ApiResourceId(value=created.metadata.id)
    code, details = code_of(lambda: query.get(gone, metadata=md))
    assert (code, details) == (
        grpc.StatusCode.NOT_FOUND,
        f'environment "{created.metadata.id}" not found',
    )


def test_create_of_a_taken_environment_slug_is_already_exists(
    server: Server, kind_stubs: KindStubs, md: Metadata
) -> None:
    cmd = kind_stubs.environment.EnvironmentCommandControllerStub(server.channel())
    made = cmd.create(new_environment(), metadata=md)
    assert made.spec.data["API_KEY"].value == MASK
    code, details = code_of(lambda: cmd.create(new_environment(secret="other"), metadata=md))
    assert code == grpc.StatusCode.ALREADY_EXISTS
    assert details == 'environment "prod" already exists in org "local"'
    assert "other" not in details


def test_an_mcp_server_round_trips_with_its_headers_masked(
    server: Server, kind_stubs: KindStubs, md: Metadata
) -> None:
    channel = server.channel()
    cmd = kind_stubs.mcp_server.McpServerCommandControllerStub(channel)
    query = kind_stubs.mcp_server.McpServerQueryControllerStub(channel)
    created = cmd.create(new_mcp_server(), metadata=md)
    assert created.metadata.id.startswith("mcp-")
    assert dict(created.spec.http.headers) == {"Authorization": MASK}
    assert created.spec.http.url == "https://mcp.example.com"
    code, details = code_of(lambda: cmd.create(new_mcp_server(), metadata=md))
    assert code == grpc.StatusCode.ALREADY_EXISTS
    assert details == 'mcpserver "search" already exists in org "local"'
    got = query.get(ApiResourceId(value=created.metadata.id), metadata=md)
    assert dict(got.spec.http.headers) == {"Authorization": MASK}
    ref = ApiResourceReference(org="local", slug="search")
    by_ref = query.getByReference(ref, metadata=md)
    assert by_ref.metadata.id == created.metadata.id
    assert dict(by_ref.spec.http.headers) == {"Authorization": MASK}
    deleted = cmd.delete(ApiResourceDeleteInput(resource_id=created.metadata.id), metadata=md)
    assert dict(deleted.spec.http.headers) == {"Authorization": MASK}
    assert code_of(lambda: query.getByReference(ref, metadata=md))[0] == grpc.StatusCode.NOT_FOUND


def test_a_reference_of_another_kind_is_invalid_argument(
    server: Server, kind_stubs: KindStubs, md: Metadata
) -> None:
    query = kind_stubs.mcp_server.McpServerQueryControllerStub(server.channel())
    ref = ApiResourceReference(org="local", kind="environment", slug="prod")
    code, details = code_of(lambda: query.getByReference(ref, metadata=md))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert details.startswith("kind: ")


def test_a_skill_is_read_and_deleted_and_push_is_unimplemented(
    server: Server, kind_stubs: KindStubs, md: Metadata, tmp_path: Path
) -> None:
    manifest = tmp_path / "skill.yaml"
    manifest.write_text(
        "apiVersion: agentic.stigmer.ai/v1\nkind: Skill\nmetadata:\n  name: Pirate Speak\n"
        "spec:\n  skillMd: '# Talk like a pirate'\n  tag: v1\n"
    )
    with Client(server.data_dir, actor="alice") as local:
        local.apply_files([manifest])
        skill_id = local.get("skill", "pirate-speak").metadata.id
    channel = server.channel()
    cmd = kind_stubs.skill.SkillCommandControllerStub(channel)
    query = kind_stubs.skill.SkillQueryControllerStub(channel)
    got = query.get(SkillId(value=skill_id), metadata=md)
    assert (got.spec.skill_md, got.spec.tag) == ("# Talk like a pirate", "v1")
    ref = ApiResourceReference(org="local", kind="skill", slug="pirate-speak")
    assert query.getByReference(ref, metadata=md).metadata.id == skill_id
    push = PushSkillRequest(name="other", artifact=b"PK")
    assert code_of(lambda: cmd.push(push, metadata=md))[0] == grpc.StatusCode.UNIMPLEMENTED
    assert cmd.delete(SkillId(value=skill_id), metadata=md).metadata.id == skill_id
    code = code_of(lambda: cmd.delete(SkillId(value=skill_id), metadata=md))[0]
    assert code == grpc.StatusCode.NOT_FOUND
