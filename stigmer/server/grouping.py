"""Group commit: concurrent writes share one transaction, and so one fsync.

A write (an apply, a create or an update) alone spends most of its time in
its commit's fsync, and the store takes one writer at a time, so concurrent
writes would wait for each other's fsync in turn. Instead, the first write
to arrive while no group is committing leads: it takes every write waiting
(its own among them), runs them as one batch of ``Client.write`` (one
transaction per chunk, as a manifest's documents are), and hands each caller
its own Result. Writes that arrive meanwhile wait, and the first of them
leads the next group.

The callers are coroutines of the API server's event loop: each waits on a
future, and only the group's batch runs on a worker thread. So a group costs
one hop to a thread and one back, whatever its size, and no thread is held
by a caller that only waits.

A batch keeps each document's semantics: each succeeds or fails alone (a
bad one never fails the others), two writes of one slug run one after the
other in the transaction (an apply creates, the next updates what it made;
a second create is AlreadyExists), and the changes are announced once
committed. Callers acting as different users (or in different orgs) are
batched apart, so roles and audit stay each caller's.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass

from stigmer.client import Client
from stigmer.reconcilers.framework import Request, Result


@dataclass(eq=False, slots=True)
class _Slot:
    """One caller's write, and what became of it once its group ran."""

    client: Client  # the caller's view (client.as_user)
    request: Request
    result: Result | None = None
    error: BaseException | None = None  # the whole transaction failed (a closed store)


# Each caller's writes, and the future that wakes it once its group ran.
_Waiting = list[tuple[list[_Slot], "asyncio.Future[None]"]]


class GroupedApply:
    """Runs concurrent callers' writes in groups, each as its ``Client.write`` would.

    Its state is only touched on the event loop of its callers; ``queued`` may
    be called from any thread.
    """

    def __init__(self) -> None:
        self._waiting: _Waiting = []
        self._leading = False  # a group is running now
        self._changed = threading.Condition()  # for queued()
        self._watchers = 0  # threads in queued(): only they need telling of a change

    async def write(self, client: Client, request: Request) -> Result:
        """``request`` run as ``client.actor``, in whatever group it joins; its Result."""
        (result,) = await self.write_many(client, [request])
        return result

    async def write_many(self, client: Client, requests: list[Request]) -> list[Result]:
        """Several requests of one caller, all in the same group (as one batch orders them)."""
        loop = asyncio.get_running_loop()
        slots, done = [_Slot(client, r) for r in requests], loop.create_future()
        self._waiting.append((slots, done))
        if not self._leading:  # nobody is committing: this caller's group runs now
            self._lead(loop)
        if self._watchers:  # read after the change: a watcher counted later sees it itself
            with self._changed:
                self._changed.notify_all()
        await done
        results = []
        for slot in slots:
            if slot.error is not None:
                raise slot.error
            assert slot.result is not None
            results.append(slot.result)
        return results

    def _lead(self, loop: asyncio.AbstractEventLoop) -> None:
        group, self._waiting, self._leading = self._waiting, [], True
        try:
            running = loop.run_in_executor(None, _run, [s for slots, _ in group for s in slots])
        except BaseException as e:  # no worker to run it (the server is stopping)
            for slots, _ in group:
                for slot in slots:
                    slot.error = e
            self._finished(loop, group)
            return
        running.add_done_callback(lambda _: self._finished(loop, group))

    def _finished(self, loop: asyncio.AbstractEventLoop, group: _Waiting) -> None:
        """On the loop: wakes the group's callers, and starts the next group if any waits."""
        self._leading = False
        for _, done in group:
            if not done.done():  # a caller that went away cancelled its own
                done.set_result(None)
        if self._waiting:
            self._lead(loop)

    def queued(self, n: int, timeout: float | None = None) -> bool:
        """Waits until a group runs and ``n`` callers wait behind it (tests build groups so)."""
        with self._changed:
            self._watchers += 1
            try:
                return self._changed.wait_for(
                    lambda: self._leading and len(self._waiting) >= n, timeout
                )
            finally:
                self._watchers -= 1


def _run(group: list[_Slot]) -> None:
    """Applies a group, one batch per user and org; fills in each slot (never raises)."""
    by_user: dict[tuple[str, str], list[_Slot]] = {}
    for slot in group:
        by_user.setdefault((slot.client.actor, slot.client.org), []).append(slot)
    for slots in by_user.values():
        try:
            results = slots[0].client.write([s.request for s in slots])
        except BaseException as e:  # handed to each caller, who reports it as its status
            for s in slots:
                s.error = e
            continue
        for s, result in zip(slots, results, strict=True):
            s.result = result
