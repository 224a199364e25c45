"""The new kinds' protos are upstream's on the wire (docs/architecture.md, "Resources")."""

from __future__ import annotations

from typing import Any

import pytest

from stigmer.api import kinds
from stigmer.api.v1.agent_pb2 import McpServerDefinition
from stigmer.api.v1.environment_pb2 import Environment
from stigmer.api.v1.mcp_server_pb2 import McpServer
from stigmer.api.v1.skill_pb2 import Skill
from tests.migrate.test_importing_kinds import ENVIRONMENT, MCP_SERVER, SKILL
from tests.test_protos import f_bytes, f_varint, msg


@pytest.mark.parametrize(
    ("message", "raw"),
    [(Environment, ENVIRONMENT), (Skill, SKILL), (McpServer, MCP_SERVER)],
    ids=["Environment", "Skill", "McpServer"],
)
def test_upstream_bytes_round_trip_unchanged(message: Any, raw: bytes) -> None:
    obj = message.FromString(raw)
    obj.DiscardUnknownFields()  # so every byte must be a field we know, by upstream's number
    assert obj.SerializeToString(deterministic=True) == raw


def test_the_server_types_and_docker_fields_have_upstreams_numbers() -> None:
    docker = msg(
        f_bytes(1, "ghcr.io/x:1"),
        f_bytes(2, "--ro"),
        f_bytes(3, msg(f_bytes(1, "/h"), f_bytes(2, "/c"), f_varint(3, 1))),
        f_bytes(4, "bridge"),
        f_bytes(5, msg(f_varint(1, 18080), f_varint(2, 8080), f_bytes(3, "tcp"))),
        f_bytes(6, "db"),
    )
    spec = msg(f_bytes(6, docker), f_bytes(8, msg(f_bytes(1, "needs"))))
    server = McpServer.FromString(f_bytes(4, spec))
    d = server.spec.docker
    assert (d.image, list(d.args), d.network, d.container_name) == (
        "ghcr.io/x:1",
        ["--ro"],
        "bridge",
        "db",
    )
    assert (d.volumes[0].container_path, d.volumes[0].read_only) == ("/c", True)
    assert (d.ports[0].host_port, d.ports[0].container_port) == (18080, 8080)
    assert server.spec.env_spec.description == "needs"
    stdio = McpServer.FromString(f_bytes(4, f_bytes(4, msg(f_bytes(1, "npx"), f_bytes(3, "/srv")))))
    assert (stdio.spec.stdio.command, stdio.spec.stdio.working_dir) == ("npx", "/srv")


@pytest.mark.parametrize(
    "kind", [kinds.ENVIRONMENT, kinds.SKILL, kinds.MCP_SERVER], ids=lambda k: k.name
)
def test_our_status_additions_use_numbers_upstream_does_not(kind: kinds.Kind) -> None:
    status = kind.message.DESCRIPTOR.fields_by_name["status"].message_type
    assert status is not None
    ours = {f.name for f in status.fields if f.number > 100}
    assert ours == {"observed_generation", "conditions"}
    assert status.fields_by_name["audit"].number == 99


def test_a_server_reference_in_an_agent_is_our_addition() -> None:
    field = McpServerDefinition.DESCRIPTOR.fields_by_name["mcp_server_ref"]
    assert field.number > 100 and field.containing_oneof is not None
    assert field.containing_oneof.name == "server_type"
