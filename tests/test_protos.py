"""The protos: generated code is fresh, and the wire format matches upstream Stigmer."""

from __future__ import annotations

from pathlib import Path

from stigmer.api.v1.agent_instance_pb2 import AgentInstance
from stigmer.api.v1.agent_pb2 import Agent
from stigmer.api.v1.commons_pb2 import ApiResourceKind, ApiResourceOwnerScope
from tests.generated import assert_fresh, load_tool

ROOT = Path(__file__).resolve().parents[1]


def test_generated_modules_match_the_protos(tmp_path: Path) -> None:
    gen = load_tool("gen_protos")
    written = gen.generate(tmp_path)
    assert len(written) == 2 * len(gen.proto_files()) >= 10
    assert_fresh(written, lambda fresh: ROOT / fresh.relative_to(tmp_path), "gen_protos")


# -- a hand-written encoder, so the expected bytes do not come from protobuf itself --


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def f_varint(num: int, value: int) -> bytes:
    return varint(num << 3) + varint(value)


def f_bytes(num: int, payload: bytes | str) -> bytes:
    data = payload.encode() if isinstance(payload, str) else payload
    return varint(num << 3 | 2) + varint(len(data)) + data


def msg(*fields: bytes) -> bytes:
    return b"".join(fields)


def entry(num: int, key: str, value: bytes | str) -> bytes:
    """One map entry: a nested message with key=1 and value=2."""
    return f_bytes(num, msg(f_bytes(1, key), f_bytes(2, value)))


def timestamp(seconds: int, nanos: int) -> bytes:
    return msg(f_varint(1, seconds), f_varint(2, nanos))


def ref(scope: int, org: str, kind: int, slug: str, version: str = "") -> bytes:
    """A reference; an empty version is left out, as proto3 leaves out defaults."""
    fields = [f_varint(1, scope), f_bytes(2, org), f_varint(3, kind), f_bytes(4, slug)]
    return msg(*fields, *([f_bytes(5, version)] if version else []))


def audit_info(who: str, event: str) -> bytes:
    actor = msg(f_bytes(1, who), f_bytes(2, f"https://a/{who}.png"))
    return msg(
        f_bytes(1, actor),
        f_bytes(2, timestamp(1700000000, 5)),
        f_bytes(3, actor),
        f_bytes(4, timestamp(1700000100, 6)),
        f_bytes(5, event),
    )


UPSTREAM_METADATA = msg(
    f_bytes(1, "Code Reviewer"),
    f_bytes(2, "code-reviewer"),
    f_bytes(3, "agt-01arz3ndektsv4rrffq69g5fav"),
    f_bytes(4, "acme"),
    f_varint(5, 2),  # organization
    entry(6, "team", "platform"),
    entry(6, "tier", "gold"),
    entry(7, "note", "ünïcode ✓"),
    f_bytes(8, "review"),
    f_bytes(8, "python"),
    f_bytes(9, msg(f_bytes(1, "v2"), f_bytes(2, "tighter prompt"), f_bytes(3, "v1"))),
)

UPSTREAM_SPEC = msg(
    f_bytes(1, "Reviews pull requests"),
    f_bytes(2, "https://icons/reviewer.svg"),
    f_bytes(3, "You review code carefully."),
    f_bytes(
        4,
        msg(
            f_bytes(1, "github"),
            f_bytes(
                2,
                msg(
                    f_bytes(1, "npx"),
                    f_bytes(2, "-y"),
                    f_bytes(2, "@mcp/github"),
                    entry(3, "GITHUB_TOKEN", "${GITHUB_TOKEN}"),
                    f_bytes(4, "/srv"),
                ),
            ),
            f_bytes(5, "list_prs"),
            f_bytes(5, "get_diff"),
        ),
    ),
    f_bytes(
        4,
        msg(
            f_bytes(1, "search"),
            f_bytes(
                3,
                msg(
                    f_bytes(1, "https://search.example/mcp"),
                    entry(2, "Authorization", "Bearer s3cret"),
                    entry(3, "region", "eu"),
                    f_varint(4, 30),
                ),
            ),
        ),
    ),
    f_bytes(
        4,
        msg(
            f_bytes(1, "db"),
            f_bytes(
                4,
                msg(
                    f_bytes(1, "ghcr.io/acme/db-mcp:1.0"),
                    f_bytes(2, "--ro"),
                    entry(3, "DB_URL", "${DB_URL}"),
                    f_bytes(4, msg(f_bytes(1, "/data"), f_bytes(2, "/mnt/data"), f_varint(3, 1))),
                    f_bytes(5, "bridge"),
                    f_bytes(6, msg(f_varint(1, 8080), f_varint(2, 80), f_bytes(3, "tcp"))),
                    f_bytes(7, "db-mcp"),
                ),
            ),
        ),
    ),
    f_bytes(5, ref(2, "acme", 43, "style-guide", "stable")),
    f_bytes(
        6,
        msg(
            f_bytes(1, "security"),
            f_bytes(2, "Looks for vulnerabilities"),
            f_bytes(3, "Find security problems."),
            f_bytes(4, "github"),
            f_bytes(5, msg(f_bytes(1, "github"), f_bytes(2, msg(f_bytes(1, "get_diff"))))),
            f_bytes(6, ref(1, "stigmer", 43, "owasp")),
        ),
    ),
    f_bytes(
        7,
        msg(
            f_bytes(1, "review env"),
            f_bytes(
                2,
                msg(
                    f_bytes(1, "API_KEY"),
                    f_bytes(2, msg(f_bytes(1, "sk-123"), f_varint(2, 1), f_bytes(3, "the key"))),
                ),
            ),
        ),
    ),
)

UPSTREAM_STATUS = msg(
    f_bytes(1, "ain-01arz3ndektsv4rrffq69g5fav"),
    f_bytes(
        99,
        msg(f_bytes(1, audit_info("alice", "created")), f_bytes(2, audit_info("bob", "updated"))),
    ),
)

UPSTREAM_AGENT = msg(
    f_bytes(1, "agentic.stigmer.ai/v1"),
    f_bytes(2, "Agent"),
    f_bytes(3, UPSTREAM_METADATA),
    f_bytes(4, UPSTREAM_SPEC),
    f_bytes(5, UPSTREAM_STATUS),
)


def test_an_upstream_agent_parses_field_by_field() -> None:
    a = Agent.FromString(UPSTREAM_AGENT)
    assert (a.api_version, a.kind) == ("agentic.stigmer.ai/v1", "Agent")
    md = a.metadata
    assert (md.name, md.slug, md.id, md.org) == (
        "Code Reviewer",
        "code-reviewer",
        "agt-01arz3ndektsv4rrffq69g5fav",
        "acme",
    )
    assert md.owner_scope == ApiResourceOwnerScope.organization
    assert dict(md.labels) == {"team": "platform", "tier": "gold"}
    assert dict(md.annotations) == {"note": "ünïcode ✓"}
    assert list(md.tags) == ["review", "python"]
    assert (md.version.id, md.version.message, md.version.previous_version_id) == (
        "v2",
        "tighter prompt",
        "v1",
    )
    s = a.spec
    assert (s.description, s.icon_url, s.instructions) == (
        "Reviews pull requests",
        "https://icons/reviewer.svg",
        "You review code carefully.",
    )
    gh, search, db = s.mcp_servers
    assert gh.name == "github" and gh.WhichOneof("server_type") == "stdio"
    assert (gh.stdio.command, list(gh.stdio.args), gh.stdio.working_dir) == (
        "npx",
        ["-y", "@mcp/github"],
        "/srv",
    )
    assert dict(gh.stdio.env_placeholders) == {"GITHUB_TOKEN": "${GITHUB_TOKEN}"}
    assert list(gh.enabled_tools) == ["list_prs", "get_diff"]
    assert search.WhichOneof("server_type") == "http"
    assert search.http.url == "https://search.example/mcp"
    assert dict(search.http.headers) == {"Authorization": "Bearer s3cret"}
    assert dict(search.http.query_params) == {"region": "eu"}
    assert search.http.timeout_seconds == 30
    d = db.docker
    assert db.WhichOneof("server_type") == "docker"
    assert (d.image, list(d.args), d.network, d.container_name) == (
        "ghcr.io/acme/db-mcp:1.0",
        ["--ro"],
        "bridge",
        "db-mcp",
    )
    assert dict(d.env_placeholders) == {"DB_URL": "${DB_URL}"}
    assert (d.volumes[0].host_path, d.volumes[0].container_path, d.volumes[0].read_only) == (
        "/data",
        "/mnt/data",
        True,
    )
    assert (d.ports[0].host_port, d.ports[0].container_port, d.ports[0].protocol) == (
        8080,
        80,
        "tcp",
    )
    (skill,) = s.skill_refs
    assert (skill.scope, skill.org, skill.kind, skill.slug, skill.version) == (
        ApiResourceOwnerScope.organization,
        "acme",
        ApiResourceKind.skill,
        "style-guide",
        "stable",
    )
    (sub,) = s.sub_agents
    assert (sub.name, sub.description, sub.instructions) == (
        "security",
        "Looks for vulnerabilities",
        "Find security problems.",
    )
    assert list(sub.mcp_servers) == ["github"]
    assert list(sub.mcp_tool_selections["github"].enabled_tools) == ["get_diff"]
    assert (sub.skill_refs[0].scope, sub.skill_refs[0].org) == (
        ApiResourceOwnerScope.platform,
        "stigmer",
    )
    assert s.env_spec.description == "review env"
    key = s.env_spec.data["API_KEY"]
    assert (key.value, key.is_secret, key.description) == ("sk-123", True, "the key")
    st = a.status
    assert st.default_instance_id == "ain-01arz3ndektsv4rrffq69g5fav"
    created = st.audit.spec_audit
    assert (created.created_by.id, created.created_by.avatar) == ("alice", "https://a/alice.png")
    assert created.created_at.seconds == 1700000000 and created.created_at.nanos == 5
    assert created.updated_by.id == "alice" and created.updated_at.seconds == 1700000100
    assert created.event == "created"
    assert st.audit.status_audit.event == "updated"
    assert st.audit.status_audit.created_by.id == "bob"


def test_our_bytes_for_upstream_fields_are_upstreams_bytes() -> None:
    a = Agent.FromString(UPSTREAM_AGENT)
    assert a.SerializeToString(deterministic=True) == UPSTREAM_AGENT


def test_an_upstream_agent_instance_round_trips() -> None:
    raw = msg(
        f_bytes(1, "agentic.stigmer.ai/v1"),
        f_bytes(2, "AgentInstance"),
        f_bytes(3, msg(f_bytes(1, "bot-default"), f_bytes(2, "bot-default"), f_bytes(3, "ain-1"))),
        f_bytes(
            4,
            msg(
                f_bytes(1, "agt-1"),
                f_bytes(2, "Default instance"),
                f_bytes(3, ref(2, "acme", 53, "prod-env")),
            ),
        ),
        f_bytes(5, f_bytes(99, f_bytes(1, audit_info("alice", "created")))),
    )
    i = AgentInstance.FromString(raw)
    assert (i.spec.agent_id, i.spec.description) == ("agt-1", "Default instance")
    assert i.spec.environment_refs[0].kind == ApiResourceKind.environment
    assert i.status.audit.spec_audit.created_by.id == "alice"
    assert i.SerializeToString(deterministic=True) == raw


def test_our_additions_use_numbers_upstream_does_not() -> None:
    additions = {
        "ApiResourceMetadata": {"generation", "resource_version", "owner_references"},
        "AgentStatus": {"observed_generation", "conditions"},
        "AgentInstanceStatus": {"observed_generation", "conditions"},
    }
    descriptors = {
        "ApiResourceMetadata": Agent.DESCRIPTOR.fields_by_name["metadata"].message_type,
        "AgentStatus": Agent.DESCRIPTOR.fields_by_name["status"].message_type,
        "AgentInstanceStatus": AgentInstance.DESCRIPTOR.fields_by_name["status"].message_type,
    }
    for name, ours in additions.items():
        descriptor = descriptors[name]
        assert descriptor is not None
        for field in descriptor.fields:
            assert (field.number > 100) == (field.name in ours), f"{name}.{field.name}"


def test_the_hand_encoder_is_sound() -> None:
    assert varint(300) == b"\xac\x02"
    assert f_varint(1, 150) == b"\x08\x96\x01"  # the protobuf encoding guide's example
