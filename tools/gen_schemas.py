"""Generate the JSON Schemas of the manifest kinds from the protos.

Usage: python tools/gen_schemas.py [OUT_DIR]

The schema of each kind (draft 2020-12) is derived from the proto messages,
their comments (as descriptions) and the table of constraints below, which
says what the proto types cannot: required fields, lengths, ranges, enums and
the one-of of MCP server types. OUT_DIR defaults to
stigmer/manifests/schemas; the freshness test passes a temporary directory.
Then run tools/gen_checks.py, which compiles the schemas into Python.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from google.protobuf import descriptor_pb2  # noqa: E402
from google.protobuf.descriptor import Descriptor, FieldDescriptor  # noqa: E402

from stigmer.api import kinds, naming  # noqa: E402
from tools.gen_protos import PROTO_DIR, proto_files  # noqa: E402

SCHEMA_DIR = ROOT / "stigmer" / "manifests" / "schemas"
DRAFT = "https://json-schema.org/draft/2020-12/schema"

# -- the constraints the proto types cannot express -----------------------------

REQUIRED = {
    "ApiResourceMetadata": ["name"],
    "AgentSpec": ["instructions"],
    "McpServerDefinition": ["name"],
    "StdioServer": ["command"],
    "HttpServer": ["url"],
    "DockerServer": ["image"],
    "SubAgent": ["name", "instructions"],
    "AgentInstanceSpec": ["agentId"],
    "VolumeMount": ["hostPath", "containerPath"],
    "PortMapping": ["containerPort"],
    "SkillSpec": ["skillMd"],
    "StdioServerConfig": ["command"],
    "HttpServerConfig": ["url"],
    "DockerServerConfig": ["image"],
}
FIELD_CONSTRAINTS: dict[tuple[str, str], dict[str, Any]] = {
    ("ApiResourceMetadata", "name"): {"minLength": 1, "maxLength": naming.NAME_MAX_LENGTH},
    ("ApiResourceMetadata", "slug"): {
        "pattern": naming.ORG_PATTERN,
        "maxLength": naming.SLUG_MAX_LENGTH,
    },
    ("ApiResourceMetadata", "org"): {"pattern": naming.ORG_PATTERN, "maxLength": 63},
    ("AgentSpec", "instructions"): {"minLength": 10},
    ("SubAgent", "instructions"): {"minLength": 10},
    ("AgentInstanceSpec", "agentId"): {"minLength": 1},
    ("PortMapping", "hostPort"): {"minimum": 1, "maximum": 65535},
    ("PortMapping", "containerPort"): {"minimum": 1, "maximum": 65535},
    ("PortMapping", "protocol"): {"enum": ["tcp", "udp"]},
    ("HttpServer", "timeoutSeconds"): {"minimum": 0},
    ("HttpServerConfig", "timeoutSeconds"): {"minimum": 0},
    ("SkillSpec", "skillMd"): {"minLength": 1},
    ("SkillSpec", "tag"): {"pattern": naming.SKILL_TAG_PATTERN, "maxLength": 128},
}
# Exactly one of these must be set (proto oneofs allow zero).
ONE_OF = {
    "McpServerDefinition": ["stdio", "http", "docker", "mcpServerRef"],
    "McpServerSpec": ["stdio", "http", "docker"],
}
# Only these metadata fields belong to the user; the rest are the system's. The schema
# lists those as x-system-fields, and reading drops them before validating, so that what
# ``get -o yaml`` prints applies back (stigmer.manifests.reading.without_system_fields).
USER_METADATA = ["name", "slug", "org", "ownerScope", "labels", "annotations", "tags"]
SYSTEM_METADATA = ["id", "version", "generation", "resourceVersion", "ownerReferences"]
INT32 = {"minimum": -(2**31), "maximum": 2**31 - 1}


def comments() -> dict[str, str]:
    """Leading comments of every message, field and enum value, by full name."""
    import grpc_tools
    from grpc_tools import protoc

    include = Path(grpc_tools.__file__).parent / "_proto"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "set.pb"
        sources = [str(p.relative_to(PROTO_DIR)) for p in proto_files()]
        args = ["protoc", f"-I{PROTO_DIR}", f"-I{include}", "--include_source_info"]
        if protoc.main([*args, f"--descriptor_set_out={out}", *sources]) != 0:
            raise SystemExit("protoc failed")
        fds = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    found: dict[str, str] = {}
    for f in fds.file:
        names = _element_names(f)
        for loc in f.source_code_info.location:
            name = names.get(tuple(loc.path))
            if name and loc.leading_comments.strip():
                found[name] = " ".join(loc.leading_comments.split())
    return found


def _element_names(f: descriptor_pb2.FileDescriptorProto) -> dict[tuple[int, ...], str]:
    """Source-info paths -> full names, for messages (4), fields (2), enums (5), values (2)."""
    names: dict[tuple[int, ...], str] = {}

    def visit(msg: descriptor_pb2.DescriptorProto, path: tuple[int, ...], prefix: str) -> None:
        full = f"{prefix}.{msg.name}"
        names[path] = full
        for i, field in enumerate(msg.field):
            names[(*path, 2, i)] = f"{full}.{field.name}"
        for i, nested in enumerate(msg.nested_type):
            visit(nested, (*path, 3, i), full)

    for i, msg in enumerate(f.message_type):
        visit(msg, (4, i), f.package)
    for i, enum in enumerate(f.enum_type):
        names[(5, i)] = f"{f.package}.{enum.name}"
        for j, value in enumerate(enum.value):
            names[(5, i, 2, j)] = f"{f.package}.{value.name}"
    return names


class SchemaBuilder:
    """Builds one kind's schema, collecting message definitions in $defs."""

    def __init__(self, docs: dict[str, str]) -> None:
        self.docs = docs
        self.defs: dict[str, Any] = {}

    def field(self, msg: Descriptor, fd: FieldDescriptor) -> dict[str, Any]:
        if (
            fd.is_repeated
            and fd.message_type is not None
            and fd.message_type.GetOptions().map_entry
        ):
            value = self.single(fd.message_type.fields_by_name["value"])
            schema: dict[str, Any] = {"type": "object", "additionalProperties": value}
        elif fd.is_repeated:
            schema = {"type": "array", "items": self.single(fd)}
        else:
            schema = self.single(fd)
        schema.update(FIELD_CONSTRAINTS.get((msg.name, fd.json_name), {}))
        if doc := self.docs.get(fd.full_name):
            schema = {"description": doc, **schema}
        return schema

    def single(self, fd: FieldDescriptor) -> dict[str, Any]:
        """The schema of one value of a field (an item, for repeated fields)."""
        if fd.type == fd.TYPE_MESSAGE:
            assert fd.message_type is not None  # a message field has one; the stubs allow None
            return {"$ref": f"#/$defs/{self.message(fd.message_type)}"}
        if fd.type == fd.TYPE_ENUM:
            assert fd.enum_type is not None  # an enum field has one; the stubs allow None
            values = [v.name for v in fd.enum_type.values if v.number != 0]
            return {"type": "string", "enum": values}
        if fd.type == fd.TYPE_BOOL:
            return {"type": "boolean"}
        if fd.type == fd.TYPE_INT32:
            return {"type": "integer", **INT32}
        if fd.type == fd.TYPE_INT64:
            return {"type": "integer"}
        return {"type": "string"}

    def message(self, msg: Descriptor, only: list[str] | None = None) -> str:
        """Adds the definition of ``msg`` to $defs; returns its name."""
        if msg.name in self.defs:
            return str(msg.name)
        self.defs[msg.name] = {}  # placeholder: recursion stops here
        fields = [fd for fd in msg.fields if only is None or fd.json_name in only]
        schema: dict[str, Any] = {"type": "object"}
        if doc := self.docs.get(msg.full_name):
            schema["description"] = doc
        schema["properties"] = {fd.json_name: self.field(msg, fd) for fd in fields}
        schema["additionalProperties"] = False
        if required := REQUIRED.get(msg.name):
            schema["required"] = required
        if one_of := ONE_OF.get(msg.name):
            schema["oneOf"] = [{"required": [name]} for name in one_of]
            schema["x-one-of"] = one_of
        if only is not None:
            schema["x-system-fields"] = SYSTEM_METADATA
        self.defs[msg.name] = schema
        return str(msg.name)


def message_of(kind: kinds.Kind, field: str) -> Descriptor:
    """The type of a message field of ``kind`` (protobuf's stubs allow None and upb's types)."""
    found = kind.message.DESCRIPTOR.fields_by_name[field].message_type
    assert isinstance(found, Descriptor)
    return found


def kind_schema(kind: kinds.Kind, docs: dict[str, str]) -> dict[str, Any]:
    builder = SchemaBuilder(docs)
    desc = kind.message.DESCRIPTOR
    metadata = builder.message(message_of(kind, "metadata"), USER_METADATA)
    spec = builder.message(message_of(kind, "spec"))
    return {
        "$schema": DRAFT,
        "$id": f"https://stigmer.ai/schemas/{kind.api_version}/{kind.name}.json",
        "title": kind.name,
        "description": docs.get(desc.full_name, ""),
        "type": "object",
        "properties": {
            "apiVersion": {
                "description": "API version of the resource.",
                "const": kind.api_version,
            },
            "kind": {"description": "Kind of the resource.", "const": kind.name},
            "metadata": {
                "description": "Standard resource metadata.",
                "$ref": f"#/$defs/{metadata}",
            },
            "spec": {
                "description": docs.get(f"{desc.full_name}.spec", ""),
                "$ref": f"#/$defs/{spec}",
            },
        },
        "additionalProperties": False,
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "x-system-fields": ["status"],
        "$defs": builder.defs,
    }


def generate(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    docs = comments()
    written = []
    for kind in kinds.KINDS:
        path = out_dir / f"{kind.name.lower()}.json"
        path.write_text(json.dumps(kind_schema(kind, docs), indent=2, ensure_ascii=False) + "\n")
        written.append(path)
    return written


def main() -> None:
    for path in generate(Path(sys.argv[1]) if len(sys.argv) > 1 else SCHEMA_DIR):
        print(path)


if __name__ == "__main__":
    main()
