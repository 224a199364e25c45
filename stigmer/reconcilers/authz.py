"""The authorization seam the Authorize and CreateIamPolicies steps call.

``Authorizer`` is what the pipeline needs from IAM. ``AllowAll`` is the
single-user default: it permits everything, but still records real owner
and org tuples, so a store that later turns on IAM has them.
"""

from __future__ import annotations

from typing import Protocol

from stigmer.api import kinds
from stigmer.api.kinds import Kind, Resource
from stigmer.errors import Forbidden
from stigmer.store import Reader, WriteTxn


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


def secrets_forbidden(actor: str, org: str) -> Forbidden:
    """The refusal of --show-secrets to someone who is not an admin of the org."""
    return Forbidden(f'forbidden: user "{actor}" cannot reveal secrets in org "{org}"')


class Authorizer(Protocol):
    """What the pipeline asks of IAM."""

    def authorize(self, reader: Reader, actor: str, verb: str, kind: Kind, org: str) -> None:
        """Raises Forbidden unless ``actor`` may ``verb`` objects of ``kind`` in ``org``."""
        ...

    def may_reveal_secrets(self, reader: Reader, actor: str, org: str) -> bool:
        """True when ``actor`` may see unmasked secrets in ``org``."""
        ...

    def record(self, txn: WriteTxn, obj: Resource, actor: str) -> None:
        """Ensures an object's org tuple, and an owner tuple (the actor) if it has none."""
        ...

    def forget(self, txn: WriteTxn, obj: Resource) -> None:
        """Removes every tuple about a deleted object."""
        ...


class AllowAll:
    """Permits every operation; records and removes tuples for real."""

    def authorize(self, reader: Reader, actor: str, verb: str, kind: Kind, org: str) -> None:
        return None

    def may_reveal_secrets(self, reader: Reader, actor: str, org: str) -> bool:
        return True

    def record(self, txn: WriteTxn, obj: Resource, actor: str) -> None:
        record_tuples(txn, obj, actor)

    def forget(self, txn: WriteTxn, obj: Resource) -> None:
        for t in txn.tuples(f"{object_key(obj)}#"):
            txn.remove_tuple(t)
