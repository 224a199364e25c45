"""The JSON Schemas: fresh from the protos, well formed, and enforced alike by both validators."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from stigmer.api import kinds
from stigmer.manifests import conversion, loading, validation
from tests.generated import assert_fresh, load_tool
from tests.manifests._common import (
    CORPUS,
    EVERY_FIELD_AGENT,
    EVERY_FIELD_INSTANCE,
    EXAMPLES,
    SCHEMAS,
)


def test_committed_schemas_match_the_generator(tmp_path: Path) -> None:
    written = load_tool("gen_schemas").generate(tmp_path)
    assert sorted(p.name for p in written) == sorted(p.name for p in SCHEMAS.glob("*.json"))
    assert len(written) == len(kinds.KINDS)
    assert_fresh(written, lambda fresh: SCHEMAS / fresh.name, "gen_schemas")


@pytest.mark.parametrize("kind", kinds.KINDS, ids=lambda k: k.name)
def test_each_schema_is_valid_draft_2020_12_and_closed(kind: kinds.Kind) -> None:
    schema = validation.schema(kind)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    objects = [schema, *schema["$defs"].values()]
    for node in objects:
        assert node["additionalProperties"] is False
    assert schema["properties"]["apiVersion"] == {
        "description": "API version of the resource.",
        "const": "agentic.stigmer.ai/v1",
    }
    assert schema["properties"]["kind"]["const"] == kind.name
    assert schema["x-system-fields"] == ["status"]
    metadata = schema["$defs"]["ApiResourceMetadata"]
    assert {"id", "generation", "resourceVersion"} <= set(metadata["x-system-fields"])
    assert not set(metadata["x-system-fields"]) & set(metadata["properties"])
    assert metadata["required"] == ["name"]


def test_the_agent_schema_states_the_constraints_of_the_issue() -> None:
    defs = validation.schema(kinds.AGENT)["$defs"]
    assert defs["AgentSpec"]["properties"]["instructions"]["minLength"] == 10
    assert defs["SubAgent"]["properties"]["instructions"]["minLength"] == 10
    mcp = defs["McpServerDefinition"]
    one_of = ("stdio", "http", "docker", "mcpServerRef")
    assert mcp["oneOf"] == [{"required": [t]} for t in one_of]
    assert [defs[d]["required"] for d in ("StdioServer", "HttpServer", "DockerServer")] == [
        ["command"],
        ["url"],
        ["image"],
    ]
    ports = defs["PortMapping"]["properties"]
    assert ports["containerPort"]["minimum"] == ports["hostPort"]["minimum"] == 1
    assert defs["ApiResourceMetadata"]["properties"]["ownerScope"]["enum"] == [
        "platform",
        "organization",
        "identity_account",
    ]
    instance = validation.schema(kinds.AGENT_INSTANCE)["$defs"]["AgentInstanceSpec"]
    assert instance["required"] == ["agentId"]


# -- the fast validator agrees with the reference, document by document --------------


def corpus_documents() -> list[tuple[str, Any]]:
    """(label, data) of every mapping document in the corpus and the examples."""
    found = []
    files = sorted(CORPUS.iterdir()) + sorted(EXAMPLES.iterdir())
    for path in files:
        if path.suffix not in loading.EXTENSIONS:
            continue
        for doc in loading.load_file(path, max_bytes=1 << 30).documents:
            found.append((f"{path.name}:{doc.line}", doc.data))
    for text in (EVERY_FIELD_AGENT, EVERY_FIELD_INSTANCE):
        for doc in loading.load_text(text, "every-field.yaml").documents:
            found.append((f"every-field:{doc.data['kind']}", doc.data))
    return found


DOCUMENTS = corpus_documents()


def test_the_agreement_check_covers_many_documents() -> None:
    assert len(DOCUMENTS) >= 40


@pytest.mark.parametrize(("label", "data"), DOCUMENTS, ids=[label for label, _ in DOCUMENTS])
def test_fast_and_reference_validators_agree(label: str, data: Any) -> None:
    checked = 0
    for kind in kinds.KINDS:
        for candidate in (data, conversion.normalize(kind.message.DESCRIPTOR, data)):
            fast = validation.is_valid(kind, candidate)
            assert fast == validation.reference_is_valid(kind, candidate), label
            # Errors are reported exactly when the document is invalid.
            assert (validation.errors(kind, candidate) == []) == fast, label
            checked += 1
    assert checked == 2 * len(kinds.KINDS)


def test_patterns_anchor_at_the_true_end_of_the_string() -> None:
    data = json.loads(
        '{"apiVersion": "agentic.stigmer.ai/v1", "kind": "Agent", '
        '"metadata": {"name": "a", "org": "acme\\n"}, '
        '"spec": {"instructions": "0123456789"}}'
    )
    # Plain jsonschema, with Python's "$", would let the newline through.
    assert jsonschema.Draft202012Validator(validation.schema(kinds.AGENT)).is_valid(data)
    assert not validation.is_valid(kinds.AGENT, data)
    assert not validation.reference_is_valid(kinds.AGENT, data)
    assert validation.errors(kinds.AGENT, data) == [
        (
            ("metadata", "org"),
            '"acme\\n" is not valid: must be lowercase letters, digits and "-", '
            'starting and ending with a letter or digit (did you mean "acme"?)',
        )
    ]
