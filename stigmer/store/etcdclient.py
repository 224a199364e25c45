"""A small etcd v3 client: the one module that imports grpc and etcd's generated stubs.

The stubs are python3-etcd3's (``etcd3.etcdrpc``), which load under protobuf 7;
its client class is not used: it reads ``min_create_revision`` into the wrong
field and parks a failed endpoint for five minutes, and the store needs raw
ranges, transactions, leases and watches anyway.

Every call goes to one endpoint of the cluster; when etcd is unavailable
(restarted, or a member down) the call moves to the next endpoint and is
retried with a short backoff for up to ``retry_s``. A retried transaction is
safe: every write the store sends is guarded by compares, so a transaction
that did commit before the connection dropped fails its compares the second
time, and the store runs its callback again on what etcd now holds.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import grpc
from etcd3 import etcdrpc

from stigmer.errors import StoreError

T = TypeVar("T")

# The generated messages, under the names the store uses.
KeyValue = Any  # etcdrpc's mvccpb.KeyValue: key, value, create_revision, mod_revision
TxnResponse = Any
RequestOp = Any
Compare = Any

_RETRIED = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
_CALL_TIMEOUT_S = 10.0
_SORT = {"key": etcdrpc.RangeRequest.KEY, "create": etcdrpc.RangeRequest.CREATE}
_ORDER = {"ascend": etcdrpc.RangeRequest.ASCEND, "descend": etcdrpc.RangeRequest.DESCEND}


class Compacted(Exception):
    """A watch's start revision was compacted by etcd; ``revision`` is where history starts."""

    def __init__(self, revision: int) -> None:
        super().__init__(revision)
        self.revision = revision


@dataclass(frozen=True, slots=True)
class Tls:
    """Client TLS and auth: file paths of a CA, a client cert and its key; a user and password."""

    ca: str = ""
    cert: str = ""
    key: str = ""
    user: str = ""
    password: str = ""


def prefix_end(prefix: bytes) -> bytes:
    """The range end that covers every key starting with ``prefix``."""
    end = bytearray(prefix)
    while end and end[-1] == 0xFF:
        end.pop()
    if not end:
        return b"\0"
    end[-1] += 1
    return bytes(end)


def put(key: bytes, value: bytes, lease: int = 0) -> RequestOp:
    return etcdrpc.RequestOp(request_put=etcdrpc.PutRequest(key=key, value=value, lease=lease))


def delete(key: bytes) -> RequestOp:
    return etcdrpc.RequestOp(request_delete_range=etcdrpc.DeleteRangeRequest(key=key))


def get(key: bytes, end: bytes = b"", *, revision: int = 0) -> RequestOp:
    """A read of one key, or of the keys from ``key`` to ``end``, at ``revision`` (0: now)."""
    request = etcdrpc.RangeRequest(key=key, range_end=end, revision=revision)
    return etcdrpc.RequestOp(request_range=request)


def mod_is(key: bytes, revision: int) -> Compare:
    """The key's mod_revision is ``revision`` (0: the key does not exist)."""
    return etcdrpc.Compare(
        key=key,
        result=etcdrpc.Compare.EQUAL,
        target=etcdrpc.Compare.MOD,
        mod_revision=revision,
    )


def range_unchanged_since(prefix: bytes, revision: int) -> Compare:
    """No key under ``prefix`` was written after ``revision`` (deletes are not seen)."""
    return etcdrpc.Compare(
        key=prefix,
        range_end=prefix_end(prefix),
        result=etcdrpc.Compare.LESS,
        target=etcdrpc.Compare.MOD,
        mod_revision=revision + 1,
    )


def range_empty(prefix: bytes) -> Compare:
    """No key under ``prefix`` exists (etcd compares an empty range as one absent key)."""
    return etcdrpc.Compare(
        key=prefix,
        range_end=prefix_end(prefix),
        result=etcdrpc.Compare.EQUAL,
        target=etcdrpc.Compare.MOD,
        mod_revision=0,
    )


def created_at(key: bytes, revision: int) -> Compare:
    """The key's create_revision is ``revision``: it is the same key, never re-made."""
    return etcdrpc.Compare(
        key=key,
        result=etcdrpc.Compare.EQUAL,
        target=etcdrpc.Compare.CREATE,
        create_revision=revision,
    )


class EtcdClient:
    """Calls on one etcd cluster, over one gRPC channel at a time; safe across fork()."""

    def __init__(self, endpoints: list[str], tls: Tls, *, retry_s: float = 30.0) -> None:
        self.endpoints = endpoints
        self.tls = tls
        self.retry_s = retry_s
        self._lock = threading.Lock()
        self._at = 0
        self._pid = os.getpid()
        self._channel: grpc.Channel | None = None
        self._token: tuple[tuple[str, str], ...] | None = None

    # -- the channel ------------------------------------------------------------

    def _open(self) -> grpc.Channel:
        target = self.endpoints[self._at % len(self.endpoints)]
        if not self.tls.ca:
            return grpc.insecure_channel(target)

        def read(path: str, option: str) -> bytes | None:
            try:
                return Path(path).read_bytes() if path else None
            except OSError as e:  # which of the three files, in the option's words
                raise StoreError(f"cannot read {option} {path}: {e.strerror}") from None

        creds = grpc.ssl_channel_credentials(
            read(self.tls.ca, "--etcd-ca"),
            read(self.tls.key, "--etcd-key"),
            read(self.tls.cert, "--etcd-cert"),
        )
        return grpc.secure_channel(target, creds)

    def channel(self) -> grpc.Channel:
        with self._lock:
            if self._pid != os.getpid():  # a forked child: never touch the parent's channel
                self._channel, self._token, self._pid = None, None, os.getpid()
            if self._channel is None:
                self._channel = self._open()
            return self._channel

    def _metadata(self) -> tuple[tuple[str, str], ...] | None:
        if not self.tls.user or self._token is not None:
            return self._token
        stub = etcdrpc.AuthStub(self.channel())
        request = etcdrpc.AuthenticateRequest(name=self.tls.user, password=self.tls.password)
        self._token = (("token", stub.Authenticate(request, timeout=_CALL_TIMEOUT_S).token),)
        return self._token

    def _next_endpoint(self) -> None:
        with self._lock:
            if self._channel is not None:
                self._channel.close()
            self._channel, self._token = None, None
            self._at += 1

    def call(self, fn: Callable[[grpc.Channel, Any], T]) -> T:
        """``fn(channel, metadata)``, retried on another endpoint while etcd is unavailable."""
        deadline = time.monotonic() + self.retry_s
        delay = 0.05
        while True:
            try:
                return fn(self.channel(), self._metadata())
            except grpc.RpcError as e:
                code = e.code()
                if code not in _RETRIED or time.monotonic() > deadline:
                    raise StoreError(f"etcd at {','.join(self.endpoints)}: {e.details()}") from e
                self._next_endpoint()
                time.sleep(delay)
                delay = min(delay * 2, 1.0)

    def close(self) -> None:
        with self._lock:
            if self._channel is not None and self._pid == os.getpid():
                self._channel.close()
            self._channel = None

    # -- key-value --------------------------------------------------------------

    def range(
        self,
        key: bytes,
        end: bytes = b"",
        *,
        revision: int = 0,
        limit: int = 0,
        count_only: bool = False,
        keys_only: bool = False,
        sort: str = "key",
        order: str = "ascend",
        min_create: int = 0,
        max_create: int = 0,
    ) -> Any:
        request = etcdrpc.RangeRequest(
            key=key,
            range_end=end,
            revision=revision,
            limit=limit,
            count_only=count_only,
            keys_only=keys_only,
            sort_target=_SORT[sort],
            sort_order=_ORDER[order],
            min_create_revision=min_create,
            max_create_revision=max_create,
        )
        return self.call(
            lambda ch, md: etcdrpc.KVStub(ch).Range(request, timeout=_CALL_TIMEOUT_S, metadata=md)
        )

    def txn(
        self, compare: list[Compare], success: list[RequestOp], failure: list[RequestOp]
    ) -> TxnResponse:
        request = etcdrpc.TxnRequest(compare=compare, success=success, failure=failure)
        return self.call(
            lambda ch, md: etcdrpc.KVStub(ch).Txn(request, timeout=_CALL_TIMEOUT_S, metadata=md)
        )

    def compact(self, revision: int) -> None:
        request = etcdrpc.CompactionRequest(revision=revision)
        try:
            self.call(
                lambda ch, md: etcdrpc.KVStub(ch).Compact(
                    request, timeout=_CALL_TIMEOUT_S, metadata=md
                )
            )
        except StoreError as e:
            if "compacted" not in str(e):  # another process compacted further already
                raise

    # -- leases -----------------------------------------------------------------

    def grant(self, ttl: int) -> int:
        request = etcdrpc.LeaseGrantRequest(TTL=ttl)
        response = self.call(
            lambda ch, md: etcdrpc.LeaseStub(ch).LeaseGrant(
                request, timeout=_CALL_TIMEOUT_S, metadata=md
            )
        )
        return int(response.ID)

    def keepalive(self, lease: int, timeout: float) -> int:
        """Renews ``lease`` once; its TTL now, or 0 when it has expired."""

        def once(ch: grpc.Channel, md: Any) -> int:
            replies = etcdrpc.LeaseStub(ch).LeaseKeepAlive(
                iter([etcdrpc.LeaseKeepAliveRequest(ID=lease)]), timeout=timeout, metadata=md
            )
            for reply in replies:
                return int(reply.TTL)
            return 0

        try:
            return once(self.channel(), self._metadata())
        except grpc.RpcError as e:
            raise StoreError(f"etcd lease {lease}: {e.details()}") from e

    def ttl(self, lease: int) -> int:
        """The seconds ``lease`` has left; -1 once it has expired."""
        request = etcdrpc.LeaseTimeToLiveRequest(ID=lease)
        response = self.call(
            lambda ch, md: etcdrpc.LeaseStub(ch).LeaseTimeToLive(
                request, timeout=_CALL_TIMEOUT_S, metadata=md
            )
        )
        return int(response.TTL)

    def revoke(self, lease: int) -> None:
        request = etcdrpc.LeaseRevokeRequest(ID=lease)
        self.call(
            lambda ch, md: etcdrpc.LeaseStub(ch).LeaseRevoke(
                request, timeout=_CALL_TIMEOUT_S, metadata=md
            )
        )

    # -- watches ----------------------------------------------------------------

    def watch(self, prefix: bytes, start: int, stop: threading.Event) -> Watch:
        """A watch of every key under ``prefix`` from revision ``start``."""
        return Watch(self, prefix, start, stop)


class Watch:
    """One etcd watch stream; ``responses`` yields its responses, None on a quiet tick.

    On a disconnect it watches again from the revision after the last one it
    delivered, so nothing is lost and nothing comes twice; when etcd has
    compacted that revision it raises Compacted.
    """

    def __init__(self, client: EtcdClient, prefix: bytes, start: int, stop: threading.Event):
        self.client, self.prefix, self.next, self.stop = client, prefix, start, stop
        self._call: Any = None
        self._requests: queue.Queue[Any] = queue.Queue()

    def _open(self) -> Iterator[Any]:
        create = etcdrpc.WatchCreateRequest(
            key=self.prefix, range_end=prefix_end(self.prefix), start_revision=self.next
        )
        self._requests = requests = queue.Queue[Any]()
        requests.put(etcdrpc.WatchRequest(create_request=create))

        def feed() -> Iterator[Any]:
            while (item := requests.get()) is not None:
                yield item

        self._call = etcdrpc.WatchStub(self.client.channel()).Watch(
            feed(), metadata=self.client._metadata()
        )
        return iter(self._call)

    def responses(self, tick: float) -> Iterator[Any]:
        """Watch responses with events, in order; None after ``tick`` seconds of quiet."""
        out: queue.Queue[Any] = queue.Queue()
        thread = threading.Thread(target=self._pump, args=(out,), daemon=True)
        thread.start()
        try:
            while not self.stop.is_set():
                try:
                    item = out.get(timeout=tick)
                except queue.Empty:
                    yield None
                    continue
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self.stop.set()
            self.close()

    def _pump(self, out: queue.Queue[Any]) -> None:
        """Reads the stream into ``out``, reconnecting after a disconnect."""
        delay = 0.05
        while not self.stop.is_set():
            try:
                for response in self._open():
                    delay = 0.05
                    if response.compact_revision:
                        out.put(Compacted(response.compact_revision))
                        return
                    if response.events:
                        self.next = response.events[-1].kv.mod_revision + 1
                        out.put(response)
            except grpc.RpcError:
                if self.stop.is_set():
                    return
                self.client._next_endpoint()
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
            except Exception as e:  # a bug: the watcher must hear of it, not hang
                out.put(e)
                return

    def close(self) -> None:
        self._requests.put(None)
        if self._call is not None:
            self._call.cancel()
