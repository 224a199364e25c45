"""stigmer explain: field documentation from the committed schema and the proto comments."""

from __future__ import annotations

import re
from typing import Any

import pytest

from stigmer.api import kinds
from stigmer.errors import UsageError
from stigmer.manifests import validation
from stigmer.manifests.explaining import explain
from tests.manifests._common import ROOT


def test_explain_a_list_of_objects() -> None:
    text = explain("agent.spec.mcpServers")
    assert text.startswith(
        "KIND:       Agent\n"
        "VERSION:    agentic.stigmer.ai/v1\n"
        "\n"
        "FIELD: spec.mcpServers <list of object McpServerDefinition>\n"
        "\n"
        "DESCRIPTION:\n"
        "    MCP servers the agent can use.\n"
    )
    assert (
        "CONSTRAINTS:\n    each item: exactly one of: stdio, http, docker, mcpServerRef\n" in text
    )
    fields = text.split("FIELDS:\n", 1)[1].splitlines()
    assert fields == [
        "  name          <string> -required-",
        "    Name of the server, unique within the agent.",
        "  stdio         <object StdioServer>",
        "    A server started as a subprocess speaking over stdin/stdout.",
        "  http          <object HttpServer>",
        "    A remote server reached over HTTP.",
        "  docker        <object DockerServer>",
        "    A server run in a Docker container.",
        "  mcpServerRef  <object ApiResourceReference>",
        "    A shared McpServer resource, named by its slug.",
        "  enabledTools  <list of string>",
        "    Tools to enable from this server; empty enables all.",
    ]


@pytest.mark.parametrize(
    "target",
    ["agent.spec", "agents.spec", "ag.spec", "Agent.spec", "AG.SPEC", " agent.spec "],
)
def test_any_cli_name_of_a_kind_works(target: str) -> None:
    assert explain(target) == explain("agent.spec")
    assert "FIELD: spec <object AgentSpec>" in explain(target)


def test_a_kind_alone_lists_its_top_level_fields() -> None:
    for name in ("agentinstance", "agentinstances", "ai"):
        text = explain(name)
        assert text.startswith("KIND:       AgentInstance\nVERSION:    agentic.stigmer.ai/v1\n")
        assert "FIELD:" not in text
        assert "AgentInstance is a configured deployment of an agent." in text
        assert "  spec        <object AgentInstanceSpec> -required-" in text
        assert "system-managed, ignored on apply: status" in text


@pytest.mark.parametrize(
    ("target", "field_line", "constraints"),
    [
        (
            "agent.apiVersion",
            "apiVersion <string>",
            ["required", 'must be "agentic.stigmer.ai/v1"'],
        ),
        (
            "agent.metadata.ownerScope",
            "metadata.ownerScope <string>",
            ["one of: platform, organization, identity_account"],
        ),
        (
            "agent.metadata.org",
            "metadata.org <string>",
            ["at most 63 characters", "pattern: ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ (lowercase"],
        ),
        (
            "agent.metadata.name",
            "metadata.name <string>",
            ["required", "must not be empty", "at most 253"],
        ),
        ("agent.metadata.labels", "metadata.labels <map of string to string>", []),
        ("agent.spec.instructions", "spec.instructions <string>", ["required", "at least 10"]),
        (
            "agent.spec.mcp_servers.docker.ports.container_port",
            "spec.mcpServers.docker.ports.containerPort <integer>",
            ["required", "minimum: 1", "maximum: 65535"],
        ),
        (
            "agent.spec.mcpServers.docker.volumes.readOnly",
            "spec.mcpServers.docker.volumes.readOnly <boolean>",
            [],
        ),
        (
            "agent.spec.envSpec.data",
            "spec.envSpec.data <map of string to object EnvironmentValue>",
            [],
        ),
        ("ai.spec.agentId", "spec.agentId <string>", ["required", "must not be empty"]),
    ],
)
def test_types_and_constraints(target: str, field_line: str, constraints: list[str]) -> None:
    text = explain(target)
    assert f"\nFIELD: {field_line}\n" in text
    if constraints:
        block = text.split("CONSTRAINTS:\n", 1)[1].split("\n\n", 1)[0]
        rules = [line.strip() for line in block.splitlines()]
        assert len(rules) == len(constraints), rules
        for rule, expected in zip(rules, constraints, strict=True):
            assert rule.startswith(expected)
    else:
        assert "CONSTRAINTS:" not in text


def proto_comment(proto: str, field: str) -> str:
    """The comment above ``field`` in a .proto file, joined into one line."""
    source = (ROOT / "protos" / "stigmer" / "api" / "v1" / proto).read_text()
    match = re.search(rf"((?:\s*//[^\n]*\n)+)\s*[\w.<>, ]+ {field} = \d+;", source)
    assert match, field
    return " ".join(line.strip().removeprefix("// ") for line in match[1].strip().splitlines())


@pytest.mark.parametrize(
    ("target", "proto", "field"),
    [
        ("agent.spec.instructions", "agent.proto", "instructions"),
        ("agent.spec.mcpServers.http.headers", "agent.proto", "headers"),
        ("agent.metadata.slug", "commons.proto", "slug"),
        ("agent.spec.envSpec.data.isSecret", "environment.proto", "is_secret"),
        ("agentinstance.spec.agentId", "agent_instance.proto", "agent_id"),
    ],
)
def test_descriptions_are_the_proto_comments(target: str, proto: str, field: str) -> None:
    description = explain(target).split("DESCRIPTION:\n", 1)[1].split("\n\n", 1)[0]
    assert " ".join(description.split()) == proto_comment(proto, field)


def all_paths(root: dict[str, Any]) -> list[tuple[str, ...]]:
    """Every field path of a schema, through lists and maps, as explain walks them."""
    found: list[tuple[str, ...]] = []

    def element(node: dict[str, Any]) -> dict[str, Any]:
        while True:
            if "$ref" in node:
                node = root["$defs"][node["$ref"].rsplit("/", 1)[-1]]
            elif node.get("type") == "array":
                node = node["items"]
            elif isinstance(node.get("additionalProperties"), dict):
                node = node["additionalProperties"]
            else:
                return node

    def visit(node: dict[str, Any], path: tuple[str, ...]) -> None:
        for name, prop in element(node).get("properties", {}).items():
            found.append((*path, name))
            visit(prop, (*path, name))

    visit(root, ())
    return found


@pytest.mark.parametrize("kind", kinds.KINDS, ids=lambda k: k.name)
def test_every_field_of_the_schema_can_be_explained(kind: kinds.Kind) -> None:
    paths = all_paths(validation.schema(kind))
    assert len(paths) >= 10
    for path in paths:
        text = explain(".".join((kind.singular, *path)))
        assert f"\nFIELD: {'.'.join(path)} <" in text
        description = text.split("DESCRIPTION:\n", 1)[1].split("\n\n", 1)[0].strip()
        assert description and description != "(no description)", path


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("", 'unknown kind "" (expected one of: environment, environments, env, skill,'),
        ("workflow.spec", 'unknown kind "workflow" (expected one of: environment, environments,'),
        (
            "agent.spec.instruction",
            'field "instruction" does not exist in agent.spec (did you mean "instructions"?); '
            "its fields: description, iconUrl, instructions,",
        ),
        ("agent.spek", 'field "spek" does not exist in agent (did you mean "spec"?)'),
        ("agent.status", 'field "status" of agent is system-managed: apply ignores it'),
        ("agent.metadata.resourceVersion", 'field "resourceVersion" of agent.metadata is system'),
        (
            "agent.spec.instructions.length",
            'agent.spec.instructions is of type string and has no fields; "length" does not exist',
        ),
        ("agent..spec", 'field "" does not exist in agent;'),
    ],
)
def test_unknown_kinds_and_fields_are_usage_errors(target: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        explain(target)
    assert str(caught.value).startswith(message)
