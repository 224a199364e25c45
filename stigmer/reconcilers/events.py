"""The in-process event bus: subscribers hear of every committed change at once.

The durable copy of every event is the store's change feed, written in the
same transaction as the change; the bus is for listeners in this process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import NamedTuple

from stigmer.api.kinds import Resource
from stigmer.api.v1.event_pb2 import Event
from stigmer.reconcilers import masking

log = logging.getLogger("stigmer.events")


# A NamedTuple, not a frozen dataclass: every apply defines it, and a frozen
# dataclass costs ~3.4 M instructions to define, a NamedTuple ~0.4 M (bench/README.md, wave 7).
class Change(NamedTuple):
    """One committed change: the feed's event and the object, secrets masked.

    ``object`` is the state after the change, or the last state for a delete.
    """

    event: Event
    object: Resource


Subscriber = Callable[[Change], None]


class EventBus:
    """Delivers changes to subscribers, in commit order, on the publishing thread."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()

    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        """Adds a subscriber; returns the function that removes it."""
        with self._lock:
            self._subscribers.append(fn)

        def unsubscribe() -> None:
            with self._lock:
                if fn in self._subscribers:
                    self._subscribers.remove(fn)

        return unsubscribe

    def publish(self, changes: list[Change]) -> None:
        """Delivers each change, its object's secrets masked; nothing to do without listeners."""
        with self._lock:
            subscribers = list(self._subscribers)
        if not subscribers:
            return
        for raw in changes:
            change = Change(raw.event, masking.masked(raw.object))
            for fn in subscribers:
                try:
                    fn(change)
                except Exception:  # a broken listener must not break the write path
                    log.exception("event subscriber %r failed", fn)
