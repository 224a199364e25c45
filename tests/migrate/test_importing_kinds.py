"""Importing upstream's Environment, Skill and McpServer rows (issue 15, item 1).

The rows are encoded by hand from upstream's field numbers, so the test does
not trust our protos to be upstream's.
"""

from __future__ import annotations

from stigmer.api.v1.environment_pb2 import Environment
from stigmer.api.v1.mcp_server_pb2 import McpServer, ValidationState
from stigmer.api.v1.skill_pb2 import Skill, SkillState
from stigmer.client import Client
from stigmer.store import Store
from tests.migrate.conftest import Import
from tests.migrate.upstream import UpstreamDb
from tests.test_protos import audit_info, entry, f_bytes, f_varint, msg

SECRET_VALUE = "sk-upstream-secret-1"
SECRET_HEADER = "Bearer ghp_upstream_secret"


def metadata(name: str, slug: str, id_: str) -> bytes:
    return msg(f_bytes(1, name), f_bytes(2, slug), f_bytes(3, id_), f_bytes(4, "acme"))


def audit() -> bytes:
    return f_bytes(99, msg(f_bytes(1, audit_info("bob", "created"))))


def resource(kind: str, md: bytes, spec: bytes, status: bytes) -> bytes:
    head = msg(f_bytes(1, "agentic.stigmer.ai/v1"), f_bytes(2, kind), f_bytes(3, md))
    return msg(head, f_bytes(4, spec), f_bytes(5, status))


ENVIRONMENT = resource(
    "Environment",
    metadata("Prod", "prod", "env-01prod"),
    msg(
        f_bytes(1, "Production values"),
        f_bytes(
            2,
            msg(
                f_bytes(1, "API_KEY"),
                f_bytes(2, msg(f_bytes(1, SECRET_VALUE), f_varint(2, 1), f_bytes(3, "key"))),
            ),
        ),
        f_bytes(2, msg(f_bytes(1, "API_URL"), f_bytes(2, msg(f_bytes(1, "https://api"))))),
    ),
    audit(),
)
SKILL = resource(
    "Skill",
    metadata("Style Guide", "style-guide", "skl-01style"),
    msg(f_bytes(1, "# Style guide\nShort functions."), f_bytes(2, "v2")),
    msg(f_bytes(1, "sha256:abc"), f_bytes(2, "skills/style-guide/v2"), f_varint(3, 2), audit()),
)
MCP_SERVER = resource(
    "McpServer",
    metadata("GitHub", "github", "mcp-01github"),
    msg(
        f_bytes(1, "GitHub's server"),
        f_bytes(3, "code"),
        f_bytes(5, msg(f_bytes(1, "https://mcp.github.com/sse"), entry(2, "Auth", SECRET_HEADER))),
        f_bytes(7, "search"),
    ),
    msg(f_varint(1, 1), audit()),
)


def test_environments_skills_and_mcp_servers_come_in_field_by_field(
    upstream: UpstreamDb, run_import: Import, lmdb_store: Store
) -> None:
    upstream.add_raw("environment", "env-01prod", ENVIRONMENT)
    upstream.add_raw("skill", "skl-01style", SKILL)
    upstream.add_raw("mcp_server", "mcp-01github", MCP_SERVER)

    report = run_import()

    assert report.ok and report.notes == []
    assert {(e.kind.name, e.slug, e.outcome) for e in report.entries} == {
        ("Environment", "prod", "imported"),
        ("Skill", "style-guide", "imported"),
        ("McpServer", "github", "imported"),
    }
    env = lmdb_store.find("environment", "env-01prod")
    assert isinstance(env, Environment) and env.metadata.org == "acme"
    assert env.spec.data["API_KEY"].value == SECRET_VALUE and env.spec.data["API_KEY"].is_secret
    skill = lmdb_store.find("skill", "skl-01style")
    assert isinstance(skill, Skill) and skill.spec.tag == "v2"
    assert (skill.status.version_hash, skill.status.state) == (
        "sha256:abc",
        SkillState.SKILL_STATE_READY,
    )
    server = lmdb_store.find("mcp_server", "mcp-01github")
    assert isinstance(server, McpServer) and server.spec.http.headers["Auth"] == SECRET_HEADER
    assert server.status.validation_state == ValidationState.VALIDATION_STATE_VALID
    for obj in (env, skill, server):  # the reconcile after the import made them Ready
        assert [(c.type, c.status) for c in obj.status.conditions] == [("Ready", "True")]
        assert obj.status.audit.spec_audit.created_by.id == "bob"  # upstream's audit stays


def test_a_second_import_changes_nothing_and_secrets_stay_out_of_the_report(
    upstream: UpstreamDb, run_import: Import, lmdb_store: Store
) -> None:
    upstream.add_raw("environment", "env-01prod", ENVIRONMENT)
    upstream.add_raw("mcp_server", "mcp-01github", MCP_SERVER)
    run_import()
    revision = lmdb_store.revision()

    again = run_import()

    assert {e.outcome for e in again.entries} == {"unchanged"}
    assert lmdb_store.revision() == revision
    with Client(lmdb_store.url, actor="alice") as client:
        shown = [client.get("env", "prod", org="acme"), client.get("mcp", "github", org="acme")]
    text = "".join(str(o) for o in shown)
    assert SECRET_VALUE not in text and SECRET_HEADER not in text and "******" in text
