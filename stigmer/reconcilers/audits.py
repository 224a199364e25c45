"""Audit stamps, as upstream keeps them: who created and last updated, and when."""

from __future__ import annotations

from typing import Any

NANOS = 1_000_000_000


def stamp(ts: Any, now_ns: int) -> None:
    """Sets a Timestamp; plain assignment is cheaper than FromNanoseconds in bulk."""
    ts.seconds, ts.nanos = divmod(now_ns, NANOS)


def created(status: Any, actor: str, now_ns: int) -> None:
    """A new object's spec and status audits: created (and last updated) now by ``actor``."""
    for audit in (status.audit.spec_audit, status.audit.status_audit):
        audit.created_by.id = audit.updated_by.id = actor
        stamp(audit.created_at, now_ns)
        stamp(audit.updated_at, now_ns)
        audit.event = "created"


def updated(status: Any, actor: str, now_ns: int) -> None:
    """A spec change: ``updated_*`` move on, ``created_*`` stay."""
    audit = status.audit.spec_audit
    audit.updated_by.id = actor
    stamp(audit.updated_at, now_ns)
    audit.event = "updated"
