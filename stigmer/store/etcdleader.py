"""Leadership of an etcd store: a key held under a lease, with Kubernetes' timings.

A replica campaigns by creating ``PREFIX/leader`` under a 15 s lease, in a
transaction that compares its create_revision with 0, so exactly one replica
holds it. A thread renews the lease every 2 s (the retry period); when no
renewal succeeded for 10 s (the renew deadline) the replica no longer leads,
before its lease can expire and another replica take over. The fence is the
key's create_revision: the store compares it in every write transaction
while it leads, so a replica that lost the key (a SIGSTOP longer than the
lease, a partition) has its writes refused, even before it notices
(docs/architecture.md, "The controller, and a leader").

``resign`` deletes the key and revokes the lease at once, so a SIGTERMed
leader is replaced without waiting for the lease. A SIGKILLed one is
replaced once its lease expires: ``wait`` sleeps until then, or the retry
period, whichever comes first.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from typing import TYPE_CHECKING

from stigmer.errors import StoreError, StoreLocked
from stigmer.store import etcdclient as ec

if TYPE_CHECKING:
    from stigmer.store.etcdstore import EtcdStore

LEASE_S = 15  # how long a leader's key outlives its last renewal
RENEW_DEADLINE_S = 10.0  # a leader that could not renew for this long steps down
RETRY_S = 2.0  # how often a leader renews, and a follower tries again


class EtcdLeader:
    """A campaign for the ``PREFIX/leader`` key of one etcd store."""

    def __init__(self, store: EtcdStore, identity: str = "") -> None:
        self.store = store
        self.key = store.keys.leader
        self.identity = identity or f"{os.getpid()} {socket.gethostname()}"  # "PID HOST"
        self._lease = 0
        self._term = 0
        self._renewed = 0.0  # time.monotonic() of the last renewal
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def acquire(self) -> None:
        if self._term:
            return
        client = self.store.client
        lease = client.grant(LEASE_S)
        response = client.txn(
            [ec.created_at(self.key, 0)],
            [ec.put(self.key, self.identity.encode(), lease)],
            [ec.get(self.key)],
        )
        if not response.succeeded:
            client.revoke(lease)
            kvs = response.responses[0].response_range.kvs
            pid, _, host = (kvs[0].value.decode() if kvs else "? ?").partition(" ")
            raise StoreLocked(
                f"another stigmer serve (pid {pid}) on {host} leads {self.store.url}; "
                "only one controller may run per store"
            )
        self._lease, self._term = lease, response.header.revision
        self._renewed = time.monotonic()
        self.store.fence = (self.key, self._term)
        self._stop.clear()
        self._thread = threading.Thread(target=self._renew, name="stigmer-lease", daemon=True)
        self._thread.start()

    def _renew(self) -> None:
        """Renews the lease every RETRY_S until resigned, or until it is lost."""
        while not self._stop.wait(RETRY_S):
            try:
                ttl = self.store.client.keepalive(self._lease, timeout=RETRY_S)
            except StoreError:
                ttl = -1 if self._expired() else None  # type: ignore[assignment]
            if ttl is not None and ttl > 0:
                self._renewed = time.monotonic()
            elif ttl is not None or self._expired():
                return  # lost: is_leader says so from now on

    def _expired(self) -> bool:
        return time.monotonic() - self._renewed > RENEW_DEADLINE_S

    def is_leader(self) -> bool:
        # Time-based, so a leader that was paused knows it may have lost before
        # its renewing thread runs again.
        return (
            bool(self._term)
            and not self._expired()
            and (self._thread is None or self._thread.is_alive())
        )

    @property
    def fence(self) -> int:
        return self._term if self.is_leader() else 0

    def holder(self) -> str:
        kvs = self.store.client.range(self.key).kvs
        if not kvs:
            return ""
        pid, _, host = kvs[0].value.decode().partition(" ")
        return f"pid {pid} on {host}"

    def campaign(self, stop: threading.Event) -> bool:
        while not stop.is_set():
            try:
                self.acquire()
                return True
            except StoreLocked:
                self.wait(stop)
        return False

    def wait(self, stop: threading.Event) -> None:
        """Sleeps until the holder's lease may have expired, or RETRY_S, whichever is first."""
        kvs = self.store.client.range(self.key).kvs
        left = self.store.client.ttl(kvs[0].lease) if kvs and kvs[0].lease else 0
        stop.wait(min(RETRY_S, max(left, 0) + 0.1))

    def resign(self) -> None:
        if not self._term:
            return
        self._stop.set()
        term, lease = self._term, self._lease
        self._term = self._lease = 0
        self.store.fence = None
        try:
            client = self.store.client
            client.txn([ec.created_at(self.key, term)], [ec.delete(self.key)], [])
            client.revoke(lease)
        except StoreError:
            pass  # etcd is gone: the lease expires by itself
