"""The pipeline framework: named steps over a request context.

A pipeline runs its steps in order. The first error stops it and comes out
as ``StepFailed`` naming the step and saying whether retrying could help:
a step raises ``TerminalError`` (or any error about bad input or access)
when it cannot, and ``RetryableError`` (or a store ``Conflict``) when the
world may change. Errors that are not Stigmer's own (a full LMDB map, a bug)
are not wrapped: they abort the whole transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple, cast

from stigmer.api import kinds
from stigmer.api.kinds import Kind, Resource
from stigmer.errors import AlreadyExists, Conflict, NotFound, StepFailed, StigmerError, StoreError
from stigmer.reconcilers.authz import Authorizer
from stigmer.reconcilers.events import Change
from stigmer.reconcilers.history import HISTORY_LIMIT

if TYPE_CHECKING:
    from stigmer.manifests.loading import Document
    from stigmer.manifests.reading import Manifest
    from stigmer.reconcilers.references import Ref
    from stigmer.store import WriteTxn


class Outcome(StrEnum):
    """What one request did to its object, in words that finish "agent/foo ...".

    A StrEnum, so it prints as the word and a caller may compare it with one.
    """

    CREATED = "created"
    CONFIGURED = "configured"
    UNCHANGED = "unchanged"
    DELETED = "deleted"
    ERROR = "error"  # the request failed; Result.error says why


class TerminalError(StigmerError):
    """A step failed in a way no retry can fix."""


class RetryableError(StigmerError):
    """A step failed in a way a later retry may fix."""


def is_terminal(error: BaseException) -> bool:
    """False for errors the world may fix by itself: conflicts, missing referents, store trouble."""
    if isinstance(error, AlreadyExists):
        return True  # a taken identity stays taken
    return not isinstance(error, RetryableError | Conflict | NotFound | StoreError)


@dataclass(slots=True)
class Request:
    """What the caller asked for.

    ``verb`` is apply (create or update), create, update, delete or reconcile.
    ``desired`` is the resource to apply; ``name`` (a slug or id) selects the
    object for delete and reconcile. ``validated`` says the manifest layer has
    checked ``desired`` against the schema already.
    """

    verb: str
    kind: Kind
    desired: Resource | None = None
    name: str = ""
    org: str = ""
    validated: bool = False
    source: str = ""  # FILE:LINE:COL of the manifest, for messages
    document: Document | None = None  # the manifest's, to locate field errors
    # A manifest's metadata.id and resourceVersion (from ``get -o yaml``): the live
    # object must still have them, or the apply is a Conflict. 0 and "" check nothing.
    expected_id: str = ""
    expected_version: int = 0


@dataclass(slots=True)
class Context:
    """Everything a step can see: the input, the state, the transaction, the actor."""

    request: Request
    txn: WriteTxn
    actor: str
    authorizer: Authorizer
    now_ns: int
    show_secrets: bool = False
    history_limit: int = HISTORY_LIMIT  # revisions Persist keeps per object
    event_mark: int = 0  # len(txn.events) when the pipeline started
    live: Resource | None = None  # the stored object before this request
    new: Resource | None = None  # the state this request leads to
    outcome: Outcome = Outcome.UNCHANGED
    default_instance: Resource | None = None  # the Agent pipeline's child
    parent: Resource | None = None  # the AgentInstance pipeline's agent
    # The references ctx.new makes, once IndexReferences read them: the status steps
    # after it reuse them instead of reading the spec again.
    refs: list[Ref] | None = None
    # False once SetDefaults found no secret in the spec ctx.new takes: its response
    # then needs no masking walk (secrets live only in the spec).
    secrets: bool = True
    live_bytes: bytes = b""  # ctx.live serialized, once SetDefaults did, for its history
    # True once SetDefaults replaced the live spec and moved the generation, the one
    # step that moves it: the steps after it (Persist's history, IndexReferences,
    # ConvergeInstances) need not read both objects' generations to know.
    spec_changed: bool = False
    deleted: list[Resource] = field(default_factory=list)
    recreated: list[Resource] = field(default_factory=list)  # what a delete's owner put back
    written: dict[str, Resource] = field(default_factory=dict)  # by id: referrers rewritten
    outbox: list[Change] = field(default_factory=list)  # for the bus, after commit
    warnings: list[str] = field(default_factory=list)  # said to the user; the request succeeded
    response: Resource | None = None
    result: Result | None = None
    trace: list[tuple[str, int]] | None = None  # (step, ns) for apply -v; None: untimed


@dataclass(slots=True)
class Result:
    """What happened to one object: a value for the CLI to print.

    ``outcome`` is created, configured, unchanged or deleted; on failure it is
    ``Outcome.ERROR`` and ``error`` says why. ``object`` has its secrets masked unless
    they were asked for and allowed.
    """

    kind: Kind
    name: str  # the slug
    org: str
    outcome: Outcome
    object: Resource | None = None
    error: StigmerError | None = None
    source: str = ""
    deleted: list[Resource] = field(default_factory=list)  # a delete's target, then what it owned
    recreated: list[Resource] = field(default_factory=list)  # a default instance put back
    warnings: list[str] = field(default_factory=list)  # e.g. a deleted target still referenced
    steps: list[tuple[str, int]] = field(default_factory=list)  # (step, ns) when timed

    @property
    def ok(self) -> bool:
        return self.error is None


Step = Callable[[Context], None]


# A NamedTuple, not a frozen dataclass: every apply defines it, and a frozen
# dataclass costs ~3.4 M instructions to define, a NamedTuple ~0.4 M (bench/README.md, wave 7).
class Pipeline(NamedTuple):
    """An ordered list of (name, step)."""

    name: str
    steps: tuple[tuple[str, Step], ...]

    def run(self, ctx: Context) -> None:
        if ctx.trace is not None:
            self._run_timed(ctx, ctx.trace)
            return
        for name, step in self.steps:
            try:
                step(ctx)
            except StepFailed:
                raise
            except StigmerError as e:
                raise StepFailed(name, e, terminal=is_terminal(e)) from e

    def _run_timed(self, ctx: Context, trace: list[tuple[str, int]]) -> None:
        """``run``, timing each step into ``trace``, the failing one too (``apply -v``).

        A loop of its own, so that an untimed run pays one test per request and
        nothing per step.
        """
        for name, step in self.steps:
            start = time.perf_counter_ns()
            try:
                step(ctx)
            except StepFailed:
                raise
            except StigmerError as e:
                raise StepFailed(name, e, terminal=is_terminal(e)) from e
            finally:
                trace.append((name, time.perf_counter_ns() - start))

    @property
    def step_names(self) -> list[str]:
        return [name for name, _ in self.steps]


def apply_request(item: Resource | Manifest, *, expect_version: bool = False) -> Request:
    """The request to apply a resource, or a manifest (validated, located in its file).

    ``expect_version``: a message's ``metadata.resource_version`` (when not 0) must
    still be the live object's, or its Result is a Conflict; a manifest's system
    fields are always such preconditions.
    """
    doc = getattr(item, "document", None)  # a Manifest; a message has no such field
    if doc is not None:
        assert not isinstance(item, Resource)
        md = item.resource.metadata
        expected_id, expected_version = md.id, md.resource_version
        if expected_id or expected_version:  # usually neither: a hand-written manifest
            md.ClearField("id")  # a manifest's system fields are preconditions, never values
            md.ClearField("resource_version")
        return Request(
            "apply",
            item.kind,
            desired=item.resource,
            validated=True,
            source=f"{doc.source}:{doc.line}:{doc.column}",
            document=doc,
            expected_id=expected_id,
            expected_version=expected_version,
        )
    resource = cast("Resource", item)
    version = resource.metadata.resource_version if expect_version else 0
    return Request("apply", kinds.of(resource), desired=resource, expected_version=version)


def create_request(obj: Resource) -> Request:
    """The request to create an object; AlreadyExists if its (kind, org, slug) is taken."""
    return Request("create", kinds.of(obj), desired=obj)


def update_request(obj: Resource, *, expect_version: bool = False) -> Request:
    """The request to update the object with ``metadata.id`` (a Conflict, with
    ``expect_version``, if it changed since its ``metadata.resource_version``)."""
    version = obj.metadata.resource_version if expect_version else 0
    return Request("update", kinds.of(obj), desired=obj, expected_version=version)


def delete_request(obj: Resource) -> Request:
    """The request to delete an object (by id, in its org)."""
    return Request("delete", kinds.of(obj), name=obj.metadata.id, org=obj.metadata.org)
