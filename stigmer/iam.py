"""IAM: who may do what, as relation tuples in the store's own "iam" sub-database.

The model, in FGA-style tuples::

    org:acme#editor@user:bob        bob is editor in org acme
    org:*#admin@user:carol          carol is admin of every org
    agent:<id>#org@org:acme         the agent lives in org acme
    agent:<id>#owner@user:alice     alice created the agent

Roles are bound per org and each includes the one before it: a ``viewer``
may get, list, describe, diff and watch; an ``editor`` may also apply,
create, update, delete, reconcile and sync; an ``admin`` may also grant,
revoke and show secrets. The store tools (``store check|dump|stats``),
``migrate`` and any verb not in that table need admin of every org.

The user who first opens a store is recorded as its owner (meta "owner") and
is admin of every org, so single-user local mode needs no setup; the
controller of ``stigmer serve`` is editor in every org. The owner
and role tuples are checked on every call: nothing is cached, so a grant or
a revoke takes effect at once, in every process.

This is the ACL of the CLI, the library and a future API server. It is not a
boundary against someone who can read the LMDB files: they can read it all.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, NamedTuple

from stigmer.api import kinds, naming
from stigmer.api.kinds import Kind, Resource
from stigmer.errors import Forbidden, NotFound, UsageError

if TYPE_CHECKING:
    from stigmer.store import Reader, Store, WriteTxn

ROLES = ("viewer", "editor", "admin")  # each includes the ones before it
EVERY_ORG = "*"  # the org of a binding that holds in every org
OWNER_KEY = "owner"  # the meta key naming the store owner
# CONTROLLER is the actor of ``stigmer serve``'s reconciles. Like Kubernetes'
# bootstrap bindings for its controllers, it is editor in every org: it only
# converges objects that authorized users wrote, and serve itself needs admin
# of every org to start.
CONTROLLER = "stigmer-controller"

_READ = ("get", "list", "describe", "diff", "watch")
_WRITE = ("apply", "create", "update", "delete", "reconcile", "sync")
_ADMIN = ("grant", "revoke", "show-secrets")
NEEDS: dict[str, str] = {
    **dict.fromkeys(_READ, "viewer"),
    **dict.fromkeys(_WRITE, "editor"),
    **dict.fromkeys(_ADMIN, "admin"),
}
# VERBS is what ``stigmer iam check`` accepts; "store" stands for every store tool.
VERBS = (*NEEDS, "migrate", "store")


# Binding and Decision are NamedTuples, not frozen dataclasses: every command imports
# this module, and making a frozen dataclass costs some 3.6 M instructions, a NamedTuple 0.7 M.
class Binding(NamedTuple):
    """One role of one user in one org; ``via`` is "grant", "owner" or "system" (built in)."""

    org: str
    role: str
    user: str
    via: str = "grant"

    @property
    def tuple(self) -> str:
        return f"org:{self.org}#{self.role}@user:{self.user}"


class Decision(NamedTuple):
    """Whether a user may do a verb in an org, and why, in words."""

    allowed: bool
    reason: str


# -- object tuples (CreateIamPolicies, DeleteIamPolicies) -------------------------


def object_key(obj: Resource) -> str:
    """The object part of a tuple: ``agent:<id>``."""
    return f"{kinds.of(obj).key}:{obj.metadata.id}"


def record_tuples(txn: WriteTxn, obj: Resource, actor: str) -> None:
    """Ensures ``<obj>#org@org:<org>``, and ``<obj>#owner@user:<actor>`` if no owner is set.

    Level-triggered: a re-apply by someone else adds no second owner, and an
    object whose tuples were lost gets them back. Writes nothing when all is there.
    """
    key = object_key(obj)
    txn.add_tuple(f"{key}#org@org:{obj.metadata.org}")
    if actor and not txn.tuples(f"{key}#owner@"):
        txn.add_tuple(f"{key}#owner@user:{actor}")


def forget_tuples(txn: WriteTxn, obj: Resource) -> None:
    """Removes every tuple about an object (it was deleted)."""
    for t in txn.tuples(f"{object_key(obj)}#"):
        txn.remove_tuple(t)


# -- the store owner ----------------------------------------------------------------


def owner(reader: Reader) -> str | None:
    """The store owner, or None before anyone has opened the store through a Client."""
    return reader.get_meta(OWNER_KEY)


def claim(store: Store, actor: str) -> str:
    """Records ``actor`` as the store owner unless one is recorded; returns the owner.

    The check is repeated inside the write transaction, so of two processes
    opening a fresh store at once exactly one becomes the owner. A store that
    has an owner costs one read and no write.
    """
    found = owner(store)
    if found is not None or not actor:
        return found or ""

    def first(txn: WriteTxn) -> str:
        current = owner(txn)
        if current is None:
            txn.set_meta(OWNER_KEY, actor)
            return actor
        return current

    return store.transact(first, actor=actor)


# -- decisions ----------------------------------------------------------------------


def _parse(t: str) -> Binding | None:
    """The binding an ``org:<org>#<role>@user:<name>`` tuple states, or None for others."""
    obj, _, rest = t.partition("#")
    role, _, subject = rest.partition("@")
    if not obj.startswith("org:") or role not in ROLES or not subject.startswith("user:"):
        return None
    return Binding(obj[4:], role, subject[5:])


def bindings(reader: Reader, *, org: str | None = None, user: str | None = None) -> list[Binding]:
    """The role bindings, built-in ones first; only those of ``org`` and ``user`` when given.

    The built-in ones are the store owner's (admin of every org) and the
    controller's (editor in every org); they are not tuples and cannot be revoked.
    """
    found = _built_in(reader)
    prefix = f"org:{org}#" if org is not None else "org:"
    found += [b for t in reader.tuples(prefix) if (b := _parse(t)) is not None]
    if org is not None:
        found = [b for b in found if b.org == org]
    return [b for b in found if user is None or b.user == user]


_CONTROLLER_BINDING = Binding(EVERY_ORG, "editor", CONTROLLER, via="system")


@functools.lru_cache(maxsize=64)
def _owner_binding(user: str) -> Binding:
    return Binding(EVERY_ORG, "admin", user, via="owner")


def _built_in(reader: Reader) -> list[Binding]:
    """The built-in bindings, the owner's first (bindings are frozen: shared, not rebuilt)."""
    first = owner(reader)
    if first is None:
        return [_CONTROLLER_BINDING]
    return [_owner_binding(first), _CONTROLLER_BINDING]


def role_of(reader: Reader, user: str, org: str) -> Binding | None:
    """The strongest binding that gives ``user`` a role in ``org`` (or in every org).

    Of equals the built-in one wins, as ``bindings`` lists it first. This runs on
    every call the API server authorizes: one read of the owner, and only the
    user's own tuples of the two orgs are parsed.
    """
    held = [b for b in _built_in(reader) if b.user == user]
    subject = f"@user:{user}"
    for o in (EVERY_ORG,) if org == EVERY_ORG else (EVERY_ORG, org):
        held += [
            b
            for t in reader.tuples(f"org:{o}#")
            if t.endswith(subject) and (b := _parse(t)) is not None and b.user == user
        ]
    return max(held, key=lambda b: ROLES.index(b.role), default=None)


def _everywhere(verb: str) -> bool:
    """Store tools, migrate and unknown verbs see across orgs: they need admin of all."""
    return verb not in NEEDS


def _held(reader: Reader, user: str, verb: str, org: str) -> tuple[Binding | None, str]:
    """The user's strongest binding that counts for ``verb`` in ``org``, and the role it needs."""
    if _everywhere(verb):
        return role_of(reader, user, EVERY_ORG), "admin"
    return role_of(reader, user, org), NEEDS[verb]


def decide(reader: Reader, user: str, verb: str, org: str) -> Decision:
    """Whether ``user`` may ``verb`` in ``org``, and why."""
    everywhere = _everywhere(verb)
    held, need = _held(reader, user, verb, org)
    scope = "every org" if everywhere else f'org "{org}"'
    if held is None:
        return Decision(False, f'user "{user}" has no role in {scope}; {verb} needs {need}')
    if held.via == "owner":
        how = f'user "{user}" is the store owner, admin of every org'
    elif held.via == "system":
        how = f'user "{user}" is the controller, {held.role} in every org'
    elif held.org == EVERY_ORG:
        how = f'user "{user}" is {held.role} in every org'
    else:
        how = f'user "{user}" is {held.role} in org "{org}"'
    allowed = ROLES.index(held.role) >= ROLES.index(need)
    return Decision(allowed, f"{how}, {'and' if allowed else 'but'} {verb} needs {need}")


def denial(user: str, verb: str, what: str, org: str) -> Forbidden:
    """The one-line refusal: ``forbidden: user "bob" cannot create agents in org "acme"``."""
    if _everywhere(verb):
        return Forbidden(f'forbidden: user "{user}" cannot run {verb}: it needs admin of every org')
    if verb == "show-secrets":
        return secrets_forbidden(user, org)
    return Forbidden(f'forbidden: user "{user}" cannot {verb} {what} in org "{org}"')


def secrets_forbidden(actor: str, org: str) -> Forbidden:
    """The refusal of --show-secrets to someone who is not an admin of the org."""
    return Forbidden(f'forbidden: user "{actor}" cannot reveal secrets in org "{org}"')


def require(reader: Reader, user: str, verb: str, what: str, org: str) -> None:
    """Raises the denial unless ``user`` may ``verb`` in ``org``.

    Not through ``decide``: every call the API server serves comes here, and only
    a refusal needs the words of why.
    """
    held, need = _held(reader, user, verb, org)
    if held is None or ROLES.index(held.role) < ROLES.index(need):
        raise denial(user, verb, what, org)


# -- grant and revoke -----------------------------------------------------------------


def check_org(org: str) -> str:
    """``org`` if it is a valid org name or "*" (every org); else a UsageError."""
    return org if org == EVERY_ORG else naming.check_org(org)


def binding(user: str, role: str, org: str) -> Binding:
    """A checked binding: a known role, a valid org (or "*"), a user name without spaces."""
    if role not in ROLES:
        raise UsageError(f'unknown role "{role}" (expected one of: {", ".join(ROLES)})')
    check_org(org)
    if not check_user(user) or not user.isprintable() or any(c.isspace() for c in user):
        raise UsageError(f'"{user}" is not a valid user name')
    return Binding(org, role, user)


def check_user(user: str) -> str:
    """``user`` if it may act or be granted a role; else a UsageError that says why.

    At most 253 characters, like a DNS name, so every store can key on it; no
    control characters or bidi overrides, so it prints as what it is. (An OS
    user name may hold a space; a granted one may not, as before.)
    """
    return naming.check_identifier("user name", user, naming.USER_MAX_LENGTH)


def grant(txn: WriteTxn, actor: str, user: str, role: str, org: str) -> bool:
    """Gives ``user`` ``role`` in ``org`` (admins of the org only); False if it was there."""
    b = binding(user, role, org)
    require(txn, actor, "grant", "roles", org)
    return txn.add_tuple(b.tuple)


def revoke(txn: WriteTxn, actor: str, user: str, role: str, org: str) -> None:
    """Takes ``role`` in ``org`` from ``user`` (admins of the org only); NotFound if not held."""
    b = binding(user, role, org)
    require(txn, actor, "revoke", "roles", org)
    if not txn.remove_tuple(b.tuple):
        note = ""
        if any(x.via != "grant" for x in bindings(txn, org=EVERY_ORG, user=user)):
            note = f'; user "{user}" holds a built-in role (iam list), which cannot be revoked'
        raise NotFound(f'user "{user}" has no role {role} in org "{org}"{note}')


# -- the Authorizer -------------------------------------------------------------------


class Iam:
    """The Authorizer the CLI uses: role checks per org, tuples recorded per object."""

    def authorize(self, reader: Reader, actor: str, verb: str, kind: Kind, org: str) -> None:
        require(reader, actor, verb, kind.plural, org)

    def may_reveal_secrets(self, reader: Reader, actor: str, org: str) -> bool:
        return decide(reader, actor, "show-secrets", org).allowed

    def record(self, txn: WriteTxn, obj: Resource, actor: str) -> None:
        record_tuples(txn, obj, actor)

    def forget(self, txn: WriteTxn, obj: Resource) -> None:
        forget_tuples(txn, obj)
