"""dict <-> protobuf: every example and every user field survives the round trip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stigmer.api import kinds
from stigmer.api.v1.commons_pb2 import ApiResourceKind, ApiResourceOwnerScope
from stigmer.manifests import conversion, loading, reading, validation, yamlio
from tests.factories import as_agent
from tests.manifests._common import (
    EVERY_FIELD_AGENT,
    EVERY_FIELD_ENVIRONMENT,
    EVERY_FIELD_INSTANCE,
    EVERY_FIELD_MCP_SERVERS,
    EVERY_FIELD_SKILL,
    EXAMPLES,
)

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))


def parse(text: str) -> reading.Manifest:
    parsed = reading.parse_documents(loading.load_text(text, "m.yaml").documents)
    assert [str(p) for p in parsed.problems] == []
    (manifest,) = parsed.manifests
    return manifest


def round_trip(kind: kinds.Kind, data: dict[str, Any]) -> dict[str, Any]:
    """data -> message -> bytes -> message -> data."""
    message = conversion.to_message(kind, data)
    again = kind.message.FromString(message.SerializeToString())
    return conversion.to_dict(again)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_every_example_round_trips(path: Path) -> None:
    loaded = loading.load([path])
    assert loaded.problems == [] and loaded.documents
    for doc in loaded.documents:
        kind = kinds.by_name(doc.data["kind"])
        assert kind is not None
        normalized = conversion.normalize(kind.message.DESCRIPTOR, doc.data)
        assert round_trip(kind, normalized) == normalized == doc.data


def schema_fields(kind: kinds.Kind) -> set[str]:
    """Every user-settable field, as ``Def.field``, from the kind's schema."""
    schema = validation.schema(kind)
    found = {f"{kind.name}.{name}" for name in schema["properties"]}
    for name, definition in schema["$defs"].items():
        found |= {f"{name}.{field}" for field in definition.get("properties", {})}
    return found


def fields_used(kind: kinds.Kind, data: Any) -> set[str]:
    """The ``Def.field`` pairs that ``data`` sets, walking the schema alongside it."""
    schema = validation.schema(kind)
    used: set[str] = set()

    def deref(node: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        name = node["$ref"].rsplit("/", 1)[-1]
        return name, schema["$defs"][name]

    def walk(node: dict[str, Any], name: str, value: Any) -> None:
        if "$ref" in node:
            name, node = deref(node)
        if node.get("type") == "array":
            for item in value:
                walk(node["items"], name, item)
        elif isinstance(node.get("additionalProperties"), dict):
            for item in value.values():
                walk(node["additionalProperties"], name, item)
        elif "properties" in node:
            for key, item in value.items():
                used.add(f"{name}.{key}")
                walk(node["properties"][key], name, item)

    walk(schema, kind.name, data)
    return used


EVERY_FIELD = {
    "Agent": (EVERY_FIELD_AGENT,),
    "AgentInstance": (EVERY_FIELD_INSTANCE,),
    "Environment": (EVERY_FIELD_ENVIRONMENT,),
    "Skill": (EVERY_FIELD_SKILL,),
    "McpServer": EVERY_FIELD_MCP_SERVERS,
}


@pytest.mark.parametrize("kind", kinds.KINDS, ids=lambda k: k.name)
def test_a_manifest_with_every_user_field_round_trips(kind: kinds.Kind) -> None:
    used: set[str] = set()
    for text in EVERY_FIELD[kind.name]:
        manifest = parse(text)
        data = manifest.document.data
        used |= fields_used(kind, data)
        assert round_trip(kind, data) == data
        # And through YAML text again, as `get -o yaml` then `apply -f` would.
        again = parse(yamlio.dump(conversion.to_dict(manifest.resource))).resource
        assert again == manifest.resource
    assert used == schema_fields(kind), "the manifests miss a field"


def to_snake(kind: kinds.Kind, data: Any) -> Any:
    """``data`` with every field name in snake_case (map keys stay as they are)."""
    schema = validation.schema(kind)

    def walk(node: dict[str, Any], value: Any) -> Any:
        if "$ref" in node:
            node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
        if node.get("type") == "array":
            return [walk(node["items"], v) for v in value]
        if isinstance(node.get("additionalProperties"), dict):
            return {k: walk(node["additionalProperties"], v) for k, v in value.items()}
        if "properties" in node:
            return {snake(k): walk(node["properties"][k], v) for k, v in value.items()}
        return value

    return walk(schema, data)


def snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


@pytest.mark.parametrize(
    ("kind", "text"),
    [(kinds.AGENT, EVERY_FIELD_AGENT), (kinds.AGENT_INSTANCE, EVERY_FIELD_INSTANCE)],
    ids=["Agent", "AgentInstance"],
)
def test_snake_case_field_names_are_accepted(kind: kinds.Kind, text: str) -> None:
    camel = parse(text)
    snake_data = to_snake(kind, camel.document.data)
    assert "api_version" in snake_data and snake_data != camel.document.data
    from_snake = parse(yamlio.dump(snake_data))
    assert from_snake.resource == camel.resource
    assert conversion.to_dict(from_snake.resource) == camel.document.data


def test_integers_stay_integers_and_enums_print_by_name() -> None:
    manifest = parse(EVERY_FIELD_AGENT.replace("containerPort: 8080", "containerPort: 8080.0"))
    agent = as_agent(manifest.resource)
    port = agent.spec.mcp_servers[2].docker.ports[0]
    assert (port.container_port, port.host_port) == (8080, 18080)
    assert agent.metadata.owner_scope == ApiResourceOwnerScope.identity_account
    assert agent.spec.skill_refs[0].kind == ApiResourceKind.skill
    out = conversion.to_dict(agent)
    printed = out["spec"]["mcpServers"][2]["docker"]["ports"][0]
    assert printed == {"hostPort": 18080, "containerPort": 8080, "protocol": "tcp"}
    assert type(printed["containerPort"]) is int
    assert type(out["spec"]["mcpServers"][1]["http"]["timeoutSeconds"]) is int
    assert out["metadata"]["ownerScope"] == "identity_account"
    assert out["spec"]["skillRefs"][0]["kind"] == "skill"
    assert out["spec"]["subAgents"][0]["skillRefs"][0]["scope"] == "platform"
    text = yamlio.dump(out)
    assert "containerPort: 8080\n" in text and "ownerScope: identity_account\n" in text


def test_proto_defaults_are_left_out_of_the_output() -> None:
    manifest = parse(
        EVERY_FIELD_AGENT.replace("readOnly: true", "readOnly: false").replace(
            "timeoutSeconds: 30", "timeoutSeconds: 0"
        )
    )
    out = conversion.to_dict(manifest.resource)
    assert "readOnly" not in out["spec"]["mcpServers"][2]["docker"]["volumes"][0]
    assert "timeoutSeconds" not in out["spec"]["mcpServers"][1]["http"]


def test_to_dict_reads_system_fields_too() -> None:
    agent = parse(EVERY_FIELD_AGENT).resource
    agent.metadata.id, agent.metadata.generation = "agt-1", 7
    agent.status.observed_generation = 7
    agent.status.conditions.add(type="Ready", status="True").last_transition_time.FromSeconds(0)
    out = conversion.to_dict(agent)
    assert (out["metadata"]["id"], out["metadata"]["generation"]) == ("agt-1", 7)
    assert out["status"]["conditions"] == [
        {"type": "Ready", "status": "True", "lastTransitionTime": "1970-01-01T00:00:00Z"}
    ]
