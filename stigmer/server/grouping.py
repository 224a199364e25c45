"""Group commit: concurrent applies share one transaction, and so one fsync.

An apply alone spends most of its time in its commit's fsync, and the store
takes one writer at a time, so concurrent applies would wait for each
other's fsync in turn. Instead, the first apply to arrive while no group is
committing leads: it takes every apply waiting (its own among them), runs
them as one batch of ``Client.apply`` (one transaction per chunk, as a
manifest's documents are), and hands each caller its own Result. Applies
that arrive meanwhile wait, and the first of them leads the next group.

A batch keeps each document's semantics: each succeeds or fails alone (a
bad one never fails the others), two applies of one slug run one after the
other in the transaction (one creates, the other updates what it made),
and the changes are announced once committed. Callers acting as different
users are batched per user, so roles and audit stay each caller's.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from stigmer.api.kinds import Resource
from stigmer.client import Client
from stigmer.reconcilers.framework import Result


@dataclass(eq=False, slots=True)
class _Slot:
    """One caller's apply, and what became of it once its group ran."""

    client: Client  # the caller's view (client.as_user)
    obj: Resource
    result: Result | None = None
    error: BaseException | None = None  # the whole transaction failed (a closed store)
    done: bool = field(default=False)


class GroupedApply:
    """Runs ``Client.apply([obj], expect_version=True)`` for concurrent callers in groups."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._waiting: list[_Slot] = []
        self._leading = False  # a group is running now

    def apply(self, client: Client, obj: Resource) -> Result:
        """``obj`` applied as ``client.actor``, in whatever group it joins; its Result."""
        slot = _Slot(client, obj)
        with self._cond:
            self._waiting.append(slot)
            self._cond.notify_all()  # for queued(); a follower woken early waits again
            while self._leading and not slot.done:
                self._cond.wait()
            if not slot.done:  # nobody took it: this caller leads the next group
                group, self._waiting, self._leading = self._waiting, [], True
        if not slot.done:
            try:
                _run(group)
            finally:
                with self._cond:
                    self._leading = False
                    self._cond.notify_all()
        if slot.error is not None:
            raise slot.error
        assert slot.result is not None
        return slot.result

    def queued(self, n: int, timeout: float | None = None) -> bool:
        """Waits until a group runs and ``n`` applies wait behind it (tests build groups so)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._leading and len(self._waiting) >= n, timeout)


def _run(group: list[_Slot]) -> None:
    """Applies a group, one batch per user; marks each slot done (never raises)."""
    by_user: dict[str, list[_Slot]] = {}
    for slot in group:
        by_user.setdefault(slot.client.actor, []).append(slot)
    for slots in by_user.values():
        try:
            results = slots[0].client.apply([s.obj for s in slots], expect_version=True)
        except BaseException as e:  # handed to each caller, who reports it as its status
            for s in slots:
                s.error, s.done = e, True
            continue
        for s, result in zip(slots, results, strict=True):
            s.result, s.done = result, True
