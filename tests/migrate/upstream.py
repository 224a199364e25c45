"""Upstream Stigmer databases, built as upstream builds them, for the migrate tests.

The DDL is upstream's own: the first two migrations of its SQLite store
(the Go project stigmer/stigmer), which create ``schema_version``,
``resources`` and ``resource_audit``. Every upstream database has these
three tables. Blobs are built with the generated protobuf classes, which
share upstream's wire format, setting only upstream's fields (numbers below
100). ``tests.test_protos`` holds hand-encoded bytes that prove the
import does not depend on our own encoder.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from stigmer.api.kinds import AGENT, AGENT_INSTANCE, Resource
from stigmer.api.v1.agent_instance_pb2 import AgentInstance
from stigmer.api.v1.agent_pb2 import Agent
from stigmer.api.v1.commons_pb2 import ApiResourceAuditInfo, ApiResourceOwnerScope
from tests.reconcilers.helpers import add_secret

SCHEMA_VERSION = 2

UPSTREAM_DDL = (
    """CREATE TABLE IF NOT EXISTS schema_version (
        version INTEGER PRIMARY KEY,
        applied_at TEXT NOT NULL DEFAULT (datetime('now'))
    )""",
    # v1: the resources table. WITHOUT ROWID clusters it on (kind, id).
    """CREATE TABLE IF NOT EXISTS resources (
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        data BLOB NOT NULL,
        updated_at TEXT NOT NULL DEFAULT (datetime('now')),
        PRIMARY KEY (kind, id)
    ) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS idx_resources_kind_id ON resources(kind, id)",
    # v2: the version history, one snapshot per archived version.
    """CREATE TABLE IF NOT EXISTS resource_audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        resource_id TEXT NOT NULL,
        data BLOB NOT NULL,
        archived_at TEXT NOT NULL DEFAULT (datetime('now')),
        version_hash TEXT,
        tag TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS idx_audit_resource ON resource_audit(kind, resource_id)",
    "CREATE INDEX IF NOT EXISTS idx_audit_hash ON resource_audit(kind, resource_id, version_hash)",
    "CREATE INDEX IF NOT EXISTS idx_audit_tag"
    " ON resource_audit(kind, resource_id, tag, archived_at DESC)",
)


class UpstreamDb:
    """An upstream database file, with helpers to add rows as upstream writes them."""

    def __init__(self, path: Path, *, wal: bool = False) -> None:
        self.path = path
        # Closed here, not left to the garbage collector: a connection's last close
        # checkpoints the WAL, which would touch the file in the middle of a test.
        with contextlib.closing(self._connect()) as db:
            if wal:
                db.execute("PRAGMA journal_mode = WAL")
            for ddl in UPSTREAM_DDL:
                db.execute(ddl)
            for version in range(1, SCHEMA_VERSION + 1):
                db.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, isolation_level=None)

    def add_raw(self, kind: str, id: str, data: object) -> None:
        """A row as given: ``data`` may be hand-encoded bytes, or anything at all."""
        db = self._connect()
        try:
            db.execute(
                "INSERT OR REPLACE INTO resources (kind, id, data, updated_at)"
                " VALUES (?, ?, ?, '2025-11-02T10:00:00Z')",
                (kind, id, data),
            )
        finally:
            db.close()

    def add(self, *objs: Resource) -> None:
        """Rows for objects, keyed by upstream's kind name and the object's id."""
        db = self._connect()
        try:
            db.execute("BEGIN")
            db.executemany(
                "INSERT OR REPLACE INTO resources (kind, id, data) VALUES (?, ?, ?)",
                [(_kind(o), o.metadata.id, o.SerializeToString()) for o in objs],
            )
            db.execute("COMMIT")
        finally:
            db.close()

    def archive(self, obj: Resource, *, tag: str = "") -> None:
        """A version-history row, as upstream archives a version."""
        db = self._connect()
        try:
            db.execute(
                "INSERT INTO resource_audit (kind, resource_id, data, version_hash, tag)"
                " VALUES (?, ?, ?, ?, ?)",
                (_kind(obj), obj.metadata.id, obj.SerializeToString(), "h", tag),
            )
        finally:
            db.close()

    def fingerprint(self) -> tuple[bytes, int]:
        """The file's bytes and mtime: what a read-only import must leave alone."""
        return self.path.read_bytes(), self.path.stat().st_mtime_ns


def _kind(obj: Resource) -> str:
    return AGENT.key if isinstance(obj, Agent) else AGENT_INSTANCE.key


def _audit(info: ApiResourceAuditInfo, who: str, event: str, seconds: int) -> None:
    info.created_by.id = info.updated_by.id = who
    info.created_by.avatar = f"https://avatars.example/{who}.png"
    info.created_at.FromSeconds(seconds)
    info.updated_at.FromSeconds(seconds + 60)
    info.event = event


def upstream_agent(
    id: str,
    name: str,
    *,
    org: str = "acme",
    slug: str | None = None,
    default_instance_id: str = "",
    instructions: str = "You review pull requests with care.",
    labels: dict[str, str] | None = None,
    secret: str | None = None,
) -> Agent:
    """An Agent as upstream stores it: upstream's fields only, audit included."""
    a = Agent(api_version=AGENT.api_version, kind=AGENT.name)
    md = a.metadata
    md.id, md.name, md.org = id, name, org
    md.slug = name.lower().replace(" ", "-") if slug is None else slug
    md.owner_scope = ApiResourceOwnerScope.organization
    md.labels.update(labels or {})
    a.spec.description = f"{name}, from upstream"
    a.spec.instructions = instructions
    if secret is not None:
        add_secret(a, secret)
    a.status.default_instance_id = default_instance_id
    _audit(a.status.audit.spec_audit, "alice", "created", 1_700_000_000)
    _audit(a.status.audit.status_audit, "alice", "updated", 1_700_000_100)
    return a


def upstream_instance(
    id: str, agent: Agent | str, *, slug: str | None = None, org: str | None = None
) -> AgentInstance:
    """An AgentInstance as upstream stores it; by default the agent's default instance."""
    i = AgentInstance(api_version=AGENT_INSTANCE.api_version, kind=AGENT_INSTANCE.name)
    md = i.metadata
    if isinstance(agent, Agent):
        agent_id, agent_slug = agent.metadata.id, agent.metadata.slug
        md.org = agent.metadata.org if org is None else org
        md.name = f"{agent.metadata.name}-default"
    else:
        agent_id, agent_slug, md.org, md.name = agent, "gone", org or "acme", "left behind"
    md.id = id
    md.slug = f"{agent_slug}-default" if slug is None else slug
    md.owner_scope = ApiResourceOwnerScope.organization
    i.spec.agent_id = agent_id
    i.spec.description = "Default instance (auto-created, no custom configuration)"
    _audit(i.status.audit.spec_audit, "bob", "created", 1_700_000_200)
    return i


def agent_with_default(n: int, *, org: str = "acme") -> tuple[Agent, AgentInstance]:
    """Agent number ``n`` and its default instance, linked both ways as upstream links them."""
    inst_id = f"ain-{n:026d}"
    agent = upstream_agent(f"agt-{n:026d}", f"Agent {n}", org=org, default_instance_id=inst_id)
    return agent, upstream_instance(inst_id, agent)
