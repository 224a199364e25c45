"""The Client's values as stigmer.api.v1.Stigmer messages, and back: both ends use it.

Errors travel as their class name, message and field path, so the remote
Client raises (and the CLI prints) exactly what the local one would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from stigmer import errors
from stigmer.api import kinds
from stigmer.api.kinds import Resource
from stigmer.api.v1 import stigmer_service_pb2 as pb
from stigmer.tokens import Unauthenticated

if TYPE_CHECKING:
    from stigmer.client import Diff
    from stigmer.iam import Binding, Decision
    from stigmer.reconcilers.framework import Result
    from stigmer.reconcilers.readiness import EnvEntry
    from stigmer.reconcilers.references import RefState
    from stigmer.tokens import TokenInfo

_ERRORS: dict[str, type[errors.StigmerError]] = {
    c.__name__: c
    for c in (
        *(v for v in vars(errors).values() if isinstance(v, type)),
        Unauthenticated,
    )
    if issubclass(c, errors.StigmerError)
}
# The classes whose constructor takes the field path apart from the message.
_WITH_PATH = (errors.InvalidResource, errors.Conflict)


def wrap(obj: Resource) -> pb.AnyResource:
    return pb.AnyResource(kind=kinds.of(obj).name, data=obj.SerializeToString())


def unwrap(message: pb.AnyResource) -> Resource:
    kind = kinds.by_name(message.kind)
    if kind is None:
        raise errors.StigmerError(f'the server sent an object of unknown kind "{message.kind}"')
    return kind.message.FromString(message.data)


def error_to(error: errors.StigmerError) -> pb.Error:
    """A result's error: its cause (never the pipeline step, which is for logs)."""
    cause = error.cause if isinstance(error, errors.StepFailed) else error
    path = str(getattr(cause, "path", ""))
    message = cause.message if isinstance(cause, _WITH_PATH) else str(cause)
    return pb.Error(type=type(cause).__name__, message=message, path=path)


def error_from(message: pb.Error) -> errors.StigmerError:
    """The error a local Client would have put in the Result."""
    return make_error(message.type, message.message, path=message.path)


def make_error(name: str, message: str, *, path: str = "") -> errors.StigmerError:
    """An instance of the class ``name`` whose str() is ``message`` (the server's one line)."""
    cls = _ERRORS.get(name, errors.StigmerError)
    if issubclass(cls, _WITH_PATH):
        return cls(message, path=path)
    # Built without its constructor, whose arguments (an Expired's revisions, a
    # ManifestError's problems) the one line no longer holds.
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    if isinstance(error, errors.NotFound):
        error.path = path
    if isinstance(error, errors.ManifestError):
        error.problems = []
    if isinstance(error, errors.Expired):
        error.revision = error.compacted = 0
    return error


def problem_to(p: errors.Problem) -> pb.Problem:
    return pb.Problem(file=p.file, line=p.line, column=p.column, path=p.path, message=p.message)


def problem_from(p: pb.Problem) -> errors.Problem:
    return errors.Problem(p.file, p.line, p.column, p.path, p.message)


def result_to(r: Result, synced_directory: str | None = None) -> pb.Result:
    return pb.Result(
        kind=r.kind.name,
        name=r.name,
        org=r.org,
        outcome=str(r.outcome),
        object=wrap(r.object) if r.object is not None else None,
        error=error_to(r.error) if r.error is not None else None,
        source=r.source,
        deleted=[wrap(o) for o in r.deleted],
        recreated=[wrap(o) for o in r.recreated],
        warnings=r.warnings,
        synced_directory=synced_directory or "",
    )


@dataclass(slots=True)
class Received:
    """A Result as it came over the wire, with what the server said of its sync."""

    result: Result
    synced_directory: str


def result_from(m: pb.Result) -> Received:
    from stigmer.reconcilers.framework import Outcome, Result

    kind = kinds.by_name(m.kind)
    assert kind is not None, m.kind
    result = Result(
        kind,
        m.name,
        m.org,
        Outcome(m.outcome),
        object=unwrap(m.object) if m.HasField("object") else None,
        error=error_from(m.error) if m.HasField("error") else None,
        source=m.source,
        deleted=[unwrap(o) for o in m.deleted],
        recreated=[unwrap(o) for o in m.recreated],
        warnings=list(m.warnings),
    )
    return Received(result, m.synced_directory)


def diff_to(d: Diff) -> pb.DiffItem:
    return pb.DiffItem(
        kind=d.kind.name,
        name=d.name,
        org=d.org,
        live=d.live,
        desired=d.desired,
        text=d.text,
        error=error_to(d.error) if d.error is not None else None,
    )


def diff_from(m: pb.DiffItem) -> Diff:
    from stigmer.client import Diff

    kind = kinds.by_name(m.kind)
    assert kind is not None, m.kind
    error = error_from(m.error) if m.HasField("error") else None
    return Diff(kind, m.name, m.org, m.live, m.desired, m.text, error=error)


def ref_state_to(s: RefState) -> pb.RefState:
    r = s.ref
    return pb.RefState(
        kind=r.kind, org=r.org, slug=r.slug, path=r.path, version=r.version, state=s.state
    )


def ref_state_from(m: pb.RefState) -> RefState:
    from stigmer.reconcilers.references import Ref, RefState

    return RefState(Ref(m.kind, m.org, m.slug, m.path, m.version), m.state)


def env_entry_to(e: EnvEntry) -> pb.EnvEntry:
    return pb.EnvEntry(
        name=e.name, value=e.value, secret=e.secret, source=e.source, required=e.required
    )


def env_entry_from(m: pb.EnvEntry) -> EnvEntry:
    from stigmer.reconcilers.readiness import EnvEntry

    return EnvEntry(m.name, m.value, m.secret, m.source, m.required)


def binding_to(b: Binding) -> pb.Binding:
    return pb.Binding(org=b.org, role=b.role, user=b.user, via=b.via)


def binding_from(m: pb.Binding) -> Binding:
    from stigmer.iam import Binding

    return Binding(m.org, m.role, m.user, m.via)


def decision_to(d: Decision) -> pb.Decision:
    return pb.Decision(allowed=d.allowed, reason=d.reason)


def decision_from(m: pb.Decision) -> Decision:
    from stigmer.iam import Decision

    return Decision(m.allowed, m.reason)


def token_to(t: TokenInfo) -> pb.TokenInfo:
    return pb.TokenInfo(
        id=t.id,
        user=t.user,
        created=t.created,
        expires=t.expires,
        last_used=t.last_used,
        revoked=t.revoked,
    )


def token_from(m: pb.TokenInfo) -> TokenInfo:
    from stigmer.tokens import TokenInfo

    expires = m.expires if m.HasField("expires") else None
    last_used = m.last_used if m.HasField("last_used") else None
    return TokenInfo(m.id, m.user, m.created, expires, last_used, m.revoked)
