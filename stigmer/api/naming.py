"""Identity rules (docs/architecture.md, "Identity and IAM"): slugs, org names and ids."""

from __future__ import annotations

import functools
import os
import re
import time

from stigmer.errors import UsageError

ORG_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
ORG_MAX_LENGTH = 63
SKILL_TAG_PATTERN = r"^$|^[a-zA-Z0-9._-]+$"  # upstream's rule for a Skill's spec.tag
SLUG_MAX_LENGTH = 63  # a DNS label, like org
NAME_MAX_LENGTH = 253  # a DNS subdomain, Kubernetes' limit for object names
USER_MAX_LENGTH = 253
DEFAULT_ORG = "local"
DEFAULT_INSTANCE_SUFFIX = "-default"  # an agent's default instance is "<agent slug>-default"
# Characters that forge output: C0 and C1 controls, and the bidi overrides and isolates.
# Annotations that ``stigmer sync`` sets and owns (stigmer.gitops.syncing).
SYNC_ANNOTATION_PREFIX = "stigmer.ai/sync-"
_ORG_RE = re.compile(ORG_PATTERN)
_NOT_SLUG = re.compile(r"[^a-z0-9-]")
_DASHES = re.compile(r"-{2,}")
_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


# An apply derives each name's slug four times (the name's checks, the duplicate
# check, the pipeline's lookup and its result); the cache spans a chunk of documents.
@functools.lru_cache(maxsize=4096)
def slugify(name: str) -> str:
    """Upstream's slug rule: lowercase, spaces to "-", drop the rest, collapse, trim.

    "My Agent" -> "my-agent"; "Agent@123!" -> "agent123"; "Agent 你好" -> "agent".
    """
    slug = _NOT_SLUG.sub("", name.lower().replace(" ", "-"))
    return _DASHES.sub("-", slug).strip("-")


def default_instance_slug(agent_slug: str) -> str:
    """The slug of the default instance of the agent with ``agent_slug``."""
    return agent_slug + DEFAULT_INSTANCE_SUFFIX


def default_instance_agent(slug: str) -> str | None:
    """The agent slug a default instance's ``slug`` names; None for any other slug."""
    if not slug.endswith(DEFAULT_INSTANCE_SUFFIX):
        return None
    return slug[: -len(DEFAULT_INSTANCE_SUFFIX)]


def is_valid_org(org: str) -> bool:
    """DNS-label-like: lowercase letters, digits and inner dashes, at most 63."""
    return len(org) <= ORG_MAX_LENGTH and _ORG_RE.match(org) is not None


def is_valid_slug(slug: str) -> bool:
    """An explicit slug must already be in the form the slug rule produces, and fit a label."""
    return bool(slug) and len(slug) <= SLUG_MAX_LENGTH and slugify(slug) == slug


@functools.cache
def _unsafe() -> re.Pattern[str]:
    """Control and bidi characters; compiled on first use (~0.6 ms), as few texts need it."""
    return re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def unsafe_char(text: str) -> str | None:
    """Why ``text`` may not be a name, key or user: the first control or bidi character in it.

    A newline in a label key prints a fake table row; U+202E reverses what follows.
    """
    if text.isascii() and text.isprintable():
        return None  # the usual text, told without a regex search: C1 and bidi are not ASCII
    found = _unsafe().search(text)
    if found is None:
        return None
    return (
        f"must not contain control characters or bidi overrides "
        f"(U+{ord(found.group()):04X} at character {found.start() + 1})"
    )


def check_identifier(what: str, text: str, limit: int) -> str:
    """``text`` if it may be ``what`` (a user, a name looked up); else a UsageError that says why.

    Checked before any store sees it: at most ``limit`` characters, so every store
    can key on it, and no control characters or bidi overrides, so a message that
    quotes it prints as what it is. The message never repeats the text itself.
    """
    if len(text) > limit:
        raise UsageError(f"{what} of {len(text)} characters: the limit is {limit}")
    if bad := unsafe_char(text):
        raise UsageError(f"{what} {bad}")
    return text


def check_org(org: str) -> str:
    """``org`` if it is a valid org (a DNS label); else a UsageError before any store sees it."""
    if is_valid_org(org):
        return org
    check_identifier("org", org, ORG_MAX_LENGTH)
    raise UsageError(f'"{org}" is not a valid org: use lowercase letters, digits and "-"')


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
