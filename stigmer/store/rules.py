"""The rules every backend's writes follow, and the errors that say a rule was broken.

Both backends raise these, so a user sees the same message whichever one holds the store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stigmer.api import kinds
from stigmer.api.kinds import Resource
from stigmer.errors import (
    AlreadyExists,
    Conflict,
    KeyTooLong,
    NoStore,
    NotFound,
    StoreError,
    StoreVersionError,
)

# MAX_KEY_BYTES is LMDB's compiled-in key limit (MDB_MAXKEYSIZE). Every
# backend refuses longer keys, so a store that takes one can be copied to any.
MAX_KEY_BYTES = 511


def missing(kind: str, name: str, org: str | None = None) -> NotFound:
    """The NotFound for an id (or, with ``org``, a slug) that names nothing."""
    where = "" if org is None else f' in org "{org}"'
    return NotFound(f'{kinds.by_key(kind).singular} "{name}" not found{where}')


def slug_taken(kind: str, slug: str, org: str) -> AlreadyExists:
    """The AlreadyExists for a put whose (kind, org, slug) another object holds."""
    return AlreadyExists(f'{kinds.by_key(kind).singular} "{slug}" already exists in org "{org}"')


def schema_too_new(path: Path, found: int, supported: int) -> StoreVersionError:
    """The refusal to open a store that a newer Stigmer wrote."""
    return StoreVersionError(
        f"store at {path} has schema version {found}, but this Stigmer "
        f"understands up to {supported}; upgrade Stigmer to open it"
    )


def no_store(path: Path) -> NoStore:
    """The refusal of a read to open (and so create) a store that does not exist."""
    return NoStore(f"no store at {path} (check --data-dir; a first apply creates it)")


def check_identity(kind: str, obj: Resource) -> None:
    """Refuses identities that would make index keys ambiguous, or too long to store."""
    kinds.by_key(kind)  # KeyError for an unknown kind
    md = obj.metadata
    check_names(kind, md.id, md.org, md.slug, owner_ids(md))


def owner_ids(md: Any) -> tuple[str, ...]:
    """The ids of an object's owners, from its metadata (most objects have none)."""
    refs = md.owner_references  # by index: a for loop over a upb list ends in an IndexError
    return tuple([refs[i].id for i in range(len(refs))]) if refs else ()


def check_names(kind: str, id_: str, org: str, slug: str, owners: tuple[str, ...]) -> None:
    """``check_identity`` of values in hand: a known kind's id, org, slug and owners' ids.

    A backend's put has read them already (each read of a message field costs
    about a thousand instructions), so it checks them here without reading again.
    """
    if not id_ or "\0" in id_:
        raise StoreError(f"{kind} id {id_!r} is empty or contains NUL")
    if not org or not slug or "/" in org or "/" in slug or "\0" in org or "\0" in slug:
        what, value = ("org", org) if not org or "/" in org or "\0" in org else ("slug", slug)
        raise StoreError(f'{kind}/{id_}: {what} "{value}" is empty or contains "/" or NUL')
    # A character takes at most 4 bytes in UTF-8: keys this short in characters
    # fit, and the usual put skips building and encoding them (~4 per put).
    if 4 * (len(kind) + len(org) + max(len(slug), len(id_)) + 2) > MAX_KEY_BYTES:
        check_key_size(f"{kind}/{org}/{slug}", "name and org")
        check_key_size(f"{kind}/{org}/{id_}", "id and org")
    owned = len(kind) + len(id_) + 2  # an owner reference's key, less the owner's id
    for owner in owners:  # an owned object (an instance): its owners' keys too
        if 4 * (owned + len(owner)) > MAX_KEY_BYTES:
            check_key_size(f"{owner}\0{kind}/{id_}", "owner reference")


def check_key_size(key: str, what: str) -> None:
    """Raises KeyTooLong when ``key`` is longer than MAX_KEY_BYTES in UTF-8."""
    if 4 * len(key) <= MAX_KEY_BYTES:
        return  # the usual key: short enough in characters, so no need to encode it
    size = len(key.encode())
    if size > MAX_KEY_BYTES:
        shown = key.replace("\0", " -> ")[:40]
        raise KeyTooLong(
            f'store key "{shown}..." ({what}) is {size} bytes, above the limit of '
            f"{MAX_KEY_BYTES}; use a shorter {what}"
        )


def check_version(kind: str, id: str, old: Resource | None, expected: int) -> None:
    """Raises Conflict unless the stored resource_version is ``expected`` (0: absent)."""
    check_revision(
        kind, id, old is not None, 0 if old is None else old.metadata.resource_version, expected
    )


def check_revision(kind: str, id: str, exists: bool, actual: int, expected: int) -> None:
    """Raises Conflict unless ``actual`` is ``expected``; ``exists`` words the message."""
    if actual != expected:
        what = f"is at resource_version {actual}" if exists else "does not exist"
        if expected == 0:
            what = "already exists"
        raise Conflict(
            f"{kinds.by_key(kind).singular} {id} {what}, expected {expected}; "
            "re-read it and try again"
        )
