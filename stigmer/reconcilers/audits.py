"""Audit stamps, as upstream keeps them: who created and last updated, and when."""

from __future__ import annotations

import functools
from typing import Any

from stigmer.api.v1.commons_pb2 import ApiResourceAudit

NANOS = 1_000_000_000


def stamp(ts: Any, now_ns: int) -> None:
    """Sets a Timestamp; plain assignment is cheaper than FromNanoseconds in bulk."""
    ts.seconds, ts.nanos = divmod(now_ns, NANOS)


def created(status: Any, actor: str, now_ns: int) -> None:
    """A new object's spec and status audits: created (and last updated) now by ``actor``."""
    status.audit.CopyFrom(_created(actor, now_ns))


# A batch stamps thousands of objects with one actor and one time: copying a
# finished audit costs a seventh of setting its ten fields one by one.
@functools.lru_cache(maxsize=16)
def _created(actor: str, now_ns: int) -> ApiResourceAudit:
    """The audit of an object created now by ``actor``; read-only, as it is shared."""
    audit = ApiResourceAudit()
    for info in (audit.spec_audit, audit.status_audit):
        info.created_by.id = info.updated_by.id = actor
        stamp(info.created_at, now_ns)
        stamp(info.updated_at, now_ns)
        info.event = "created"
    return audit


def updated(status: Any, actor: str, now_ns: int) -> None:
    """A spec change: ``updated_*`` move on, ``created_*`` stay."""
    audit = status.audit.spec_audit
    audit.updated_by.id = actor
    stamp(audit.updated_at, now_ns)
    audit.event = "updated"
