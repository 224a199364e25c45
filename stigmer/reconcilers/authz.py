"""The authorization seam the Authorize and CreateIamPolicies steps call.

``Authorizer`` is what the pipeline needs from IAM; ``stigmer.iam.Iam`` is
the real one, which the CLI uses. ``AllowAll`` is the library's default: it
permits everything, but still records real owner and org tuples, so a store
that later turns on IAM has them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from stigmer.api.kinds import Kind, Resource
from stigmer.errors import Forbidden
from stigmer.iam import forget_tuples, record_tuples

if TYPE_CHECKING:
    from stigmer.store import Reader, WriteTxn


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
        forget_tuples(txn, obj)


class Remembering:
    """An Authorizer that asks another once per question for the life of one batch.

    A batch of 10,000 documents asks the same few questions 10,000 times;
    role tuples cannot change within it (apply grants nothing), so the
    first answer stands. Tuples are still recorded and forgotten each time.
    """

    def __init__(self, inner: Authorizer) -> None:
        self.inner = inner
        self._answers: dict[tuple[str, ...], str | None] = {}  # None: allowed; else the denial

    def authorize(self, reader: Reader, actor: str, verb: str, kind: Kind, org: str) -> None:
        key = ("authorize", actor, verb, kind.key, org)
        if key not in self._answers:
            try:
                self.inner.authorize(reader, actor, verb, kind, org)
                self._answers[key] = None
            except Forbidden as e:
                self._answers[key] = str(e)
        if (denied := self._answers[key]) is not None:
            raise Forbidden(denied)

    def may_reveal_secrets(self, reader: Reader, actor: str, org: str) -> bool:
        key = ("reveal", actor, org)
        if key not in self._answers:
            allowed = self.inner.may_reveal_secrets(reader, actor, org)
            self._answers[key] = None if allowed else "denied"
        return self._answers[key] is None

    def record(self, txn: WriteTxn, obj: Resource, actor: str) -> None:
        self.inner.record(txn, obj, actor)

    def forget(self, txn: WriteTxn, obj: Resource) -> None:
        self.inner.forget(txn, obj)
