"""The API server's life: a grpc.aio server on its own thread and event loop.

``stigmer serve`` starts it beside the controller. Calls run the synchronous
Client on worker threads, so a slow fsync never stalls the event loop. SIGTERM
stops it gracefully: calls in flight finish (within ``GRACE_SECONDS``) and
new ones are refused as UNAVAILABLE.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from stigmer.api.v1.stigmer_service_pb2 import WatchRequest
from stigmer.client import Client
from stigmer.errors import Expired, StigmerError, UsageError
from stigmer.iam import CONTROLLER
from stigmer.reconcilers.framework import Request
from stigmer.server import own, upstream
from stigmer.server.auth import Authenticator
from stigmer.server.grouping import GroupedApply
from stigmer.server.metrics import RequestMetrics
from stigmer.server.statuses import error_trailer, status_of
from stigmer.store import registry

log = logging.getLogger("stigmer.server")

DEFAULT_LISTEN = "127.0.0.1:7234"  # upstream's port
GRACE_SECONDS = 10.0
WORKERS = 64  # threads running calls (an apply takes one per group, not per caller)
# One manifest document may be at most 4 MiB (docs/architecture.md); a larger
# message is RESOURCE_EXHAUSTED before it reaches the pipeline.
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
# grpc itself refuses only above this, so that a message between the two reaches
# our deserializer, which refuses it (``_limited``) where /metrics can count it.
GRPC_RECEIVE_BYTES = 2 * MAX_MESSAGE_BYTES
UNKNOWN_METHOD = "unknown"  # what /metrics calls a method no service has


@dataclass(frozen=True, slots=True)
class Options:
    """What ``stigmer serve`` was told about the API."""

    listen: str = DEFAULT_LISTEN
    anonymous_user: str | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None


def split_listen(listen: str) -> tuple[str, int]:
    """(host, port) of ``HOST:PORT`` or ``[V6]:PORT``; a UsageError otherwise."""
    host, sep, port = listen.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise UsageError(f'--listen "{listen}" is not HOST:PORT (or none, to serve no API)')
    return host, int(port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_options(options: Options) -> None:
    """Usage errors before anything starts; the warning for clear text off this host."""
    host, _ = split_listen(options.listen)
    if (options.tls_cert is None) != (options.tls_key is None):
        raise UsageError("--tls-cert and --tls-key go together")
    for path in (options.tls_cert, options.tls_key):
        if path is not None and not path.is_file():
            raise UsageError(f"{path}: no such file")
    if options.anonymous_user == CONTROLLER:
        raise UsageError(f'--anonymous-user cannot be "{CONTROLLER}", the built-in controller')
    if options.tls_cert is None and not is_loopback(host):
        log.warning(
            "the API listens on %s without TLS: tokens and secrets cross the network "
            "in clear text; pass --tls-cert and --tls-key",
            options.listen,
        )


class ApiServer:
    """The gRPC API of one store, acting per call as the caller (``client.as_user``)."""

    def __init__(self, client: Client, options: Options) -> None:
        self.client = client
        self.options = options
        self.metrics = RequestMetrics()
        self.auth = Authenticator(client, options.anonymous_user)
        self.applies = GroupedApply()
        # Point reads run on the event loop only on a store in a local file: a remote
        # store's read (etcd's) is a network round trip, which would stall every call.
        self._inline_reads = not registry.is_remote(client.store.url)
        self.address = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._in_flight = 0
        self._draining = False
        self._idle: asyncio.Event | None = None
        self._watches: set[threading.Event] = set()  # set each to end its stream
        self._failed: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="api", daemon=True)

    def start(self) -> str:
        """Binds and starts serving; returns the address bound (port 0 picks a free one)."""
        self._thread.start()
        self._ready.wait()
        if self._failed is not None:
            raise self._failed
        return self.address

    def stop(self) -> None:
        """Graceful: refuses new calls, lets those in flight finish, ends open streams."""
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join()

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as e:  # reported by start(); never a traceback for a user
            self._failed = e
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        # Calls other than apply and the point reads each hold a worker thread while
        # they wait for the store's write lock: asyncio's default of 6 is too few.
        self._loop.set_default_executor(ThreadPoolExecutor(WORKERS, thread_name_prefix="api"))
        self._stopping = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        server = grpc.aio.server(
            options=[
                ("grpc.max_receive_message_length", GRPC_RECEIVE_BYTES),
                ("grpc.max_send_message_length", 64 * 1024 * 1024),
                # grpc shares a port between processes by default: a second serve would
                # then take half the calls of the first, silently, instead of failing.
                ("grpc.so_reuseport", 0),
            ]
        )
        names = self._add_services(server)
        checker = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(checker, server)
        for name in ["", *names]:
            await checker.set(name, health_pb2.HealthCheckResponse.SERVING)
        reflection.enable_server_reflection(
            [*names, health.SERVICE_NAME, reflection.SERVICE_NAME], server
        )
        server.add_generic_rpc_handlers([_Unknown(self.metrics)])  # last: only what none serves
        self.address = self._bind(server)
        await server.start()
        log.info("API listening on %s (%d services)", self.address, len(names))
        self._ready.set()
        await self._stopping.wait()
        await self._drain(checker)
        await server.stop(GRACE_SECONDS)

    async def _drain(self, checker: Any) -> None:
        """Refuses new calls as UNAVAILABLE and waits for those in flight to finish.

        Left to ``server.stop`` alone, a call that had reached the server but not
        yet its handler would be CANCELLED, and its client could not tell whether it
        ran; refused here, it surely did not.
        """
        self._draining = True
        await checker.enter_graceful_shutdown()  # health says NOT_SERVING
        for ends in list(self._watches):  # open watch streams end cleanly (status OK)
            ends.set()
        assert self._idle is not None
        try:
            await asyncio.wait_for(self._idle.wait(), GRACE_SECONDS)
        except TimeoutError:
            log.warning("calls still running after %.0f s are cut off", GRACE_SECONDS)

    def _bind(self, server: Any) -> str:
        host, port = split_listen(self.options.listen)
        target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        if self.options.tls_cert is not None and self.options.tls_key is not None:
            creds = grpc.ssl_server_credentials(
                [(self.options.tls_key.read_bytes(), self.options.tls_cert.read_bytes())]
            )
            bound = _bind_port(lambda: server.add_secure_port(target, creds))
        else:
            bound = _bind_port(lambda: server.add_insecure_port(target))
        if not bound:
            raise StigmerError(f"cannot listen on {self.options.listen}: the address is in use")
        return f"[{host}]:{bound}" if ":" in host else f"{host}:{bound}"

    def _add_services(self, server: Any) -> list[str]:
        by_service: dict[str, dict[str, Any]] = {}
        for m in upstream.methods():
            handler = grpc.unary_unary_rpc_method_handler(
                self._unary(m.path, m.call, inline=m.inline and self._inline_reads, write=m.write),
                request_deserializer=_limited(m.parse),
                response_serializer=_serialize,
            )
            by_service.setdefault(m.service, {})[m.name] = handler
        by_service[own.SERVICE] = {
            name: grpc.unary_unary_rpc_method_handler(
                self._unary(f"/{own.SERVICE}/{name}", call, own_apply=name == "Apply"),
                request_deserializer=_limited(message.FromString),
                response_serializer=_serialize,
            )
            for name, (message, call) in own.unary_methods().items()
        }
        by_service[own.SERVICE]["Watch"] = grpc.unary_stream_rpc_method_handler(
            self._watch,
            request_deserializer=_limited(WatchRequest.FromString),
            response_serializer=_serialize,
        )
        server.add_generic_rpc_handlers(
            [grpc.method_handlers_generic_handler(s, h) for s, h in by_service.items()]
        )
        return sorted(by_service)

    def _unary(
        self,
        path: str,
        call: upstream.Call,
        *,
        inline: bool = False,
        write: Callable[[Any], Request] | None = None,
        own_apply: bool = False,
    ) -> Callable[[Any, Any], Any]:
        def run(request: Any, metadata: Any, on_loop: bool = False) -> Any:
            user = self.auth.user(metadata, on_loop=on_loop)
            return call(self.client.as_user(user), request)

        async def hop(request: Any, metadata: Any) -> Any:
            return await asyncio.to_thread(run, request, metadata)

        async def here(request: Any, metadata: Any) -> Any:
            return run(request, metadata, on_loop=True)

        async def group(request: Any, metadata: Any) -> Any:
            assert write is not None
            user = await self._user(metadata)
            wanted = write(request)  # raises for a request that is not one (no id)
            return upstream.applied(await self.applies.write(self.client.as_user(user), wanted))

        async def group_own(request: Any, metadata: Any) -> Any:
            wanted = own.grouped(request)
            if wanted is None:
                return await hop(request, metadata)
            view = own.in_org(self.client.as_user(await self._user(metadata)), request)
            results = await self.applies.write_many(view, wanted)
            if self._inline_reads:  # the answer may read the store (a synced object's sync)
                return own.applied(view, results)
            return await asyncio.to_thread(own.applied, view, results)

        runner = group if write is not None else group_own if own_apply else here if inline else hop

        async def handle(request: Any, context: Any) -> Any:
            await self._admit(path, context, request)
            assert self._idle is not None
            started, code = time.perf_counter(), grpc.StatusCode.OK
            self._in_flight += 1
            self._idle.clear()
            try:
                return await runner(request, context.invocation_metadata())
            except StigmerError as e:
                code, message = status_of(e)
                context.set_trailing_metadata(error_trailer(e))
            except Exception:
                log.exception("%s failed", path)  # the log has the traceback; the caller not
                code, message = grpc.StatusCode.INTERNAL, "internal error: see the server's log"
            finally:
                self.metrics.observe(path, code.name, time.perf_counter() - started)
                self._in_flight -= 1
                if not self._in_flight:
                    self._idle.set()
            await context.abort(code, message)  # raises: the call ends with the status
            return None

        return handle

    async def _admit(self, path: str, context: Any, request: Any) -> None:
        """Ends a call before it runs, counted: it arrived while draining, or is oversize."""
        if self._draining:
            status = (grpc.StatusCode.UNAVAILABLE, "the server is shutting down")
        elif type(request) is Oversize:
            status = request.status()
        else:
            return
        self.metrics.observe(path, status[0].name, 0.0)
        await context.abort(*status)  # raises: the call ends with the status

    async def _user(self, metadata: Any) -> str:
        """The caller's user: checked on the loop on a local store, else on a worker."""
        if self._inline_reads:
            return self.auth.user(metadata, on_loop=True)
        return await asyncio.to_thread(self.auth.user, metadata)

    async def _watch(self, request: Any, context: Any) -> Any:
        """Watch as a server stream: each change as it commits, until the caller or SIGTERM."""
        path = f"/{own.SERVICE}/Watch"
        await self._admit(path, context, request)
        started, code = time.perf_counter(), grpc.StatusCode.OK
        ends = threading.Event()
        self._watches.add(ends)
        try:
            metadata = context.invocation_metadata()
            user = await asyncio.to_thread(self.auth.user, metadata)
            changes = own.watch(self.client.as_user(user), request, ends)
            await context.send_initial_metadata(())  # the caller knows the watch is on
            queue: asyncio.Queue[Any] = asyncio.Queue()
            loop = asyncio.get_running_loop()
            threading.Thread(target=_pump, args=(changes, loop, queue), daemon=True).start()
            while (event := await queue.get()) is not None:
                if isinstance(event, BaseException):
                    raise event
                yield event
            return
        except StigmerError as e:
            code, message = status_of(e)
            context.set_trailing_metadata(error_trailer(e) + _expired_trailer(e))
        except Exception:
            log.exception("%s failed", path)  # the log has the traceback; the caller not
            code, message = grpc.StatusCode.INTERNAL, "internal error: see the server's log"
        finally:
            ends.set()  # a caller that went away stops the feed's thread too
            self._watches.discard(ends)
            self.metrics.observe(path, code.name, time.perf_counter() - started)
        await context.abort(code, message)


@dataclass(frozen=True, slots=True)
class Oversize:
    """What ``_limited`` makes of a message over MAX_MESSAGE_BYTES, for the handler to refuse."""

    size: int

    def status(self) -> tuple[Any, str]:
        """grpc's own status and words for a message over its limit."""
        words = f"Received message larger than max ({self.size} vs. {MAX_MESSAGE_BYTES})"
        return grpc.StatusCode.RESOURCE_EXHAUSTED, words


def _limited(parse: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    """``parse``, refusing a message over MAX_MESSAGE_BYTES unread: one length check a call."""

    def limited(data: bytes) -> Any:
        return Oversize(len(data)) if len(data) > MAX_MESSAGE_BYTES else parse(data)

    return limited


class _Unknown:
    """A generic handler (grpc takes any object with ``service``) of a method no service has:
    counted, then UNIMPLEMENTED as grpc says it.

    Added after every service, so a known method never reaches it: it costs
    their calls nothing. Counted under one name, UNKNOWN_METHOD, so that
    callers cannot grow /metrics with names of their own making.
    """

    def __init__(self, metrics: RequestMetrics) -> None:
        self.metrics = metrics

    def service(self, handler_call_details: Any) -> Any:
        return grpc.stream_stream_rpc_method_handler(self._refuse)  # any shape of call

    async def _refuse(self, _requests: Any, context: Any) -> None:
        self.metrics.observe(UNKNOWN_METHOD, grpc.StatusCode.UNIMPLEMENTED.name, 0.0)
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "Method not found!")


def _pump(
    changes: Iterator[Any], loop: asyncio.AbstractEventLoop, into: asyncio.Queue[Any]
) -> None:
    """Feeds a blocking iterator into an asyncio queue from its own thread: a watch
    may block for hours, and would starve the worker threads of the unary calls.
    Ends with None, or with the exception that ended the iterator."""
    last: Any = None
    try:
        for item in changes:
            loop.call_soon_threadsafe(into.put_nowait, item)
    except BaseException as e:  # handed to the stream, which reports it as a status
        last = e
    loop.call_soon_threadsafe(into.put_nowait, last)


def _expired_trailer(e: StigmerError) -> tuple[tuple[str, str], ...]:
    """The "expired, re-list" signal a remote watcher turns back into Expired."""
    if isinstance(e, Expired):
        return (("stigmer-expired", f"{e.revision},{e.compacted}"),)
    return ()


def _bind_port(bind: Callable[[], int]) -> int:
    """The port bound, or 0: grpc raises RuntimeError (not a StigmerError) when it cannot."""
    try:
        return bind()
    except RuntimeError:
        return 0


def _serialize(message: Any) -> bytes:
    data: bytes = message.SerializeToString()
    return data
