"""Identity rules (docs/architecture.md, "Identity and IAM"): slugs, org names and ids."""

from __future__ import annotations

import os
import re
import time

ORG_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
ORG_MAX_LENGTH = 63
DEFAULT_ORG = "local"
_ORG_RE = re.compile(ORG_PATTERN)
_NOT_SLUG = re.compile(r"[^a-z0-9-]")
_DASHES = re.compile(r"-{2,}")
_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


def slugify(name: str) -> str:
    """Upstream's slug rule: lowercase, spaces to "-", drop the rest, collapse, trim.

    "My Agent" -> "my-agent"; "Agent@123!" -> "agent123"; "Agent 你好" -> "agent".
    """
    slug = _NOT_SLUG.sub("", name.lower().replace(" ", "-"))
    return _DASHES.sub("-", slug).strip("-")


def is_valid_org(org: str) -> bool:
    """DNS-label-like: lowercase letters, digits and inner dashes, at most 63."""
    return len(org) <= ORG_MAX_LENGTH and _ORG_RE.match(org) is not None


def is_valid_slug(slug: str) -> bool:
    """An explicit slug must already be in the form the slug rule produces."""
    return bool(slug) and slugify(slug) == slug


# Two base32 digits per 10 bits: 13 lookups make the 26 characters of a ULID.
_PAIRS = [a + b for a in _CROCKFORD for b in _CROCKFORD]
_SHIFTS = tuple(range(120, -10, -10))


def encode_ulid(value: int) -> str:
    """The 26 lowercase Crockford base32 characters of a 128-bit value."""
    return "".join([_PAIRS[(value >> shift) & 0x3FF] for shift in _SHIFTS])  # a list joins faster


def new_ulid() -> str:
    """A lowercase ULID: 48 bits of milliseconds, then 80 random bits, base32."""
    return encode_ulid((time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big"))


def new_id(prefix: str) -> str:
    """``<prefix>-<lowercase ULID>``, for example agt-01arz3ndektsv4rrffq69g5fav."""
    return f"{prefix}-{new_ulid()}"
