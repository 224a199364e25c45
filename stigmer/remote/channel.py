"""The gRPC channel to an API server, and its failures as Stigmer's own errors.

A server's error comes back as the class it was raised as (the
``stigmer-error`` trailer), with the server's one line as its message, so the
remote Client raises what the local one raises, and the CLI exits the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Self, TypeVar

import grpc

from stigmer import errors
from stigmer.remote import wire
from stigmer.tokens import Unauthenticated


class Sendable(Protocol):
    """A request message (only stigmer.api imports protobuf itself)."""

    def SerializeToString(self, *, deterministic: bool = ...) -> bytes: ...  # noqa: N802


class Received(Protocol):
    """A reply message type: parsed from the wire by its class."""

    @classmethod
    def FromString(cls, s: bytes) -> Self: ...  # noqa: N802


R = TypeVar("R", bound=Received)
R_co = TypeVar("R_co", bound=Received, covariant=True)
T = TypeVar("T")


class Stream(Protocol[R_co]):
    """An open server stream (grpc's call object): its messages, and a way to end it."""

    def __iter__(self) -> Iterator[R_co]: ...

    def cancel(self) -> bool: ...


class Failure(Protocol):
    """A failed call as grpc raises it: an RpcError that is also a ``grpc.Call``."""

    def code(self) -> grpc.StatusCode: ...

    def details(self) -> str | None: ...

    def trailing_metadata(self) -> tuple[tuple[str, str | bytes], ...] | None: ...


SERVICE = "stigmer.api.v1.Stigmer"
SCHEMES = {"grpc": False, "grpcs": True, "http": False, "https": True}
MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # replies (a large list) may exceed grpc's 4 MiB default

# A status without the stigmer-error trailer (a proxy's, or grpc's own) by its code.
_BY_CODE: dict[grpc.StatusCode, type[errors.StigmerError]] = {
    grpc.StatusCode.NOT_FOUND: errors.NotFound,
    grpc.StatusCode.ALREADY_EXISTS: errors.AlreadyExists,
    grpc.StatusCode.INVALID_ARGUMENT: errors.InvalidResource,
    grpc.StatusCode.PERMISSION_DENIED: errors.Forbidden,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.ABORTED: errors.Conflict,
    grpc.StatusCode.RESOURCE_EXHAUSTED: errors.StoreFull,
}


@dataclass(frozen=True, slots=True)
class Target:
    """Where the server is, and whether it speaks TLS."""

    address: str  # HOST:PORT
    tls: bool

    @classmethod
    def parse(cls, server: str, *, tls_ca: Path | None = None) -> Target:
        """``HOST:PORT`` (clear text), or ``grpc://``, ``grpcs://``, ``http://``, ``https://``.

        A CA file means TLS whatever the scheme says, as kubectl's
        ``--certificate-authority`` does.
        """
        scheme, sep, rest = server.partition("://")
        if not sep:
            scheme, rest = "grpc", server
        if scheme not in SCHEMES:
            raise errors.UsageError(
                f'server "{server}": expected HOST:PORT, grpc://HOST:PORT or grpcs://HOST:PORT'
            )
        address = rest.rstrip("/")
        host, colon, port = address.rpartition(":")
        if not colon or not host or not port.isdigit():
            raise errors.UsageError(f'server "{server}" is not HOST:PORT')
        return cls(address, SCHEMES[scheme] or tls_ca is not None)

    def url(self) -> str:
        return f"{'grpcs' if self.tls else 'grpc'}://{self.address}"


class Connection:
    """One channel, and the calls of Stigmer's own service on it."""

    def __init__(self, target: Target, *, token: str | None, tls_ca: Path | None) -> None:
        self.target = target
        options = [("grpc.max_receive_message_length", MAX_MESSAGE_BYTES)]
        if target.tls:
            roots = tls_ca.read_bytes() if tls_ca is not None else None  # None: system roots
            creds = grpc.ssl_channel_credentials(root_certificates=roots)
            self.channel = grpc.secure_channel(target.address, creds, options=options)
        else:
            self.channel = grpc.insecure_channel(target.address, options=options)
        self.metadata: tuple[tuple[str, str], ...] = (
            (("authorization", f"Bearer {token}"),) if token else ()
        )

    def close(self) -> None:
        self.channel.close()

    def call(self, method: str, request: Sendable, reply: type[R]) -> R:
        """One unary call; a failure raises the StigmerError it stands for."""
        stub = self.channel.unary_unary(
            f"/{SERVICE}/{method}",
            request_serializer=_serialize,
            response_deserializer=reply.FromString,
        )
        try:
            answer: R = stub(request, metadata=self.metadata)  # grpc's stubs are untyped
        except grpc.RpcError as e:
            raise self.error(e, method) from None
        return answer

    def stream(self, method: str, request: Sendable, reply: type[R]) -> Stream[R]:
        """A server stream, open: iterate it through ``follow``, or cancel it."""
        stub = self.channel.unary_stream(
            f"/{SERVICE}/{method}",
            request_serializer=_serialize,
            response_deserializer=reply.FromString,
        )
        opened: Stream[R] = stub(request, metadata=self.metadata)  # grpc's stubs are untyped
        return opened

    def follow(self, stream: Stream[R], method: str, convert: Callable[[R], T]) -> Iterator[T]:
        """The stream's messages, converted; ends quietly when it was cancelled here."""
        try:
            for message in stream:
                yield convert(message)
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.CANCELLED:
                raise self.error(e, method) from None

    def error(self, e: Failure, method: str) -> errors.StigmerError:
        code, details = e.code(), e.details() or ""
        trailers = dict(e.trailing_metadata() or ())
        if "stigmer-expired" in trailers:
            revision, _, compacted = str(trailers["stigmer-expired"]).partition(",")
            return errors.Expired(int(revision), int(compacted))
        if "stigmer-error" in trailers:
            return wire.make_error(str(trailers["stigmer-error"]), details)
        if code == grpc.StatusCode.UNAVAILABLE:
            return errors.StigmerError(
                f"cannot reach the API server at {self.target.address}: {details}"
            )
        if code == grpc.StatusCode.UNIMPLEMENTED:
            return errors.StigmerError(
                f"the server at {self.target.address} does not serve {SERVICE}/{method}: "
                "is it a stigmer serve of this version?"
            )
        cls = _BY_CODE.get(code, errors.StigmerError)
        return wire.make_error(cls.__name__, details)


def _serialize(message: Sendable) -> bytes:
    data: bytes = message.SerializeToString()
    return data
