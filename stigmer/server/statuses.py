"""Which gRPC status code each Stigmer error is, and what message it carries.

The message is the one line a local command prints: it names the field path
when there is one, and never carries a traceback or a secret value.
"""

from __future__ import annotations

import grpc

from stigmer import errors
from stigmer.tokens import Unauthenticated

# Most specific first: the first class an error is an instance of decides.
_CODES: tuple[tuple[type[BaseException], grpc.StatusCode], ...] = (
    (Unauthenticated, grpc.StatusCode.UNAUTHENTICATED),
    (errors.Forbidden, grpc.StatusCode.PERMISSION_DENIED),
    (errors.AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (errors.Conflict, grpc.StatusCode.ABORTED),
    (errors.NotFound, grpc.StatusCode.NOT_FOUND),
    (errors.Expired, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.StoreVersionError, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.NoStore, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.StoreFull, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.StoreClosed, grpc.StatusCode.UNAVAILABLE),
    (errors.StoreLocked, grpc.StatusCode.UNAVAILABLE),
    (errors.InvalidResource, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.ManifestError, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.UsageError, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.KeyTooLong, grpc.StatusCode.INVALID_ARGUMENT),
)


def status_of(error: errors.StigmerError) -> tuple[grpc.StatusCode, str]:
    """The status code and message a caller gets for ``error``.

    A missing object the request *refers to* (an instance's ``spec.agentId``)
    is FAILED_PRECONDITION, not NOT_FOUND: the object asked for is not what is
    missing, and NOT_FOUND would tell a client to create the wrong thing.
    """
    cause = error.cause if isinstance(error, errors.StepFailed) else error
    message = errors.user_message(error)
    if isinstance(cause, errors.NotFound) and cause.path:
        return grpc.StatusCode.FAILED_PRECONDITION, f"{cause.path}: {message}"
    for cls, code in _CODES:
        if isinstance(cause, cls):
            return code, message
    return grpc.StatusCode.FAILED_PRECONDITION, message


def error_trailer(error: errors.StigmerError) -> tuple[tuple[str, str], ...]:
    """The error's class, so a remote Client raises the same one (a UsageError exits 2)."""
    cause = error.cause if isinstance(error, errors.StepFailed) else error
    return (("stigmer-error", type(cause).__name__),)
