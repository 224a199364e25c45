"""Running pipelines: one request, or a batch in one transaction per chunk.

In a batch every document succeeds or fails alone while the batch still
commits once (one fsync per chunk, never one per object). ``atomic`` makes
the batch all-or-nothing, and ``dry_run`` runs every step and then commits
nothing.

Each document could run in a nested transaction of its own, which undoes its
writes when it fails; but nesting costs an eighth of the pipeline, and almost
every failure comes before the first write (bad input, access, a missing
agent). So a chunk runs its documents directly in its transaction, and only
when one fails after writing is the chunk aborted and run again with every
document nested.

A document whose run raises something other than a Stigmer error (a store
refusing a value, a bug) aborts its chunk's transaction as a crash would, and
the store sees the exception first (it may grow its map and retry). When it
still escapes, that document alone is marked failed and its chunk is run
again without it, so one bad document never costs the others their apply.
"""

from __future__ import annotations

import functools
import itertools
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from stigmer.api import kinds, naming
from stigmer.api.v1.event_pb2 import Event
from stigmer.errors import StepFailed, StigmerError
from stigmer.reconcilers import prefetching, steps
from stigmer.reconcilers.authz import AllowAll, Authorizer, Remembering
from stigmer.reconcilers.catalog import pipeline_for
from stigmer.reconcilers.events import Change
from stigmer.reconcilers.framework import Context, Outcome, Request, Result
from stigmer.reconcilers.history import HISTORY_LIMIT

if TYPE_CHECKING:
    from stigmer.store import Store, WriteTxn

log = logging.getLogger("stigmer.reconcilers")


@dataclass(slots=True)
class Session:
    """Who is asking, and how: the same for every request of a batch."""

    actor: str
    authorizer: Authorizer = field(default_factory=AllowAll)
    org: str = naming.DEFAULT_ORG
    show_secrets: bool = False
    trace: bool = False  # time each step of each pipeline into its Result (apply -v)
    history_limit: int = HISTORY_LIMIT
    # Told a chunk's events just before its commit: each was written by a pipeline that
    # ran to completion, so a controller in this process need not reconcile it again.
    committing: Callable[[list[Event]], None] | None = None


@dataclass(slots=True)
class Batch:
    """What a batch did: a Result per request, and the changes to announce."""

    results: list[Result] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    committed: bool = False


class NotApplied(StigmerError):
    """A valid document of an atomic batch that was rolled back with the rest."""


class _Rollback(Exception):
    """Aborts the transaction of a dry run or a failed atomic batch, keeping results."""

    def __init__(self, batch: Batch) -> None:
        self.batch = batch


def run(txn: WriteTxn, request: Request, session: Session, *, now_ns: int | None = None) -> Context:
    """Runs one request's pipeline in ``txn``; raises StepFailed."""
    if not request.org:
        request.org = session.org
    ctx = Context(
        request=request,
        txn=txn,
        actor=session.actor,
        authorizer=session.authorizer,
        now_ns=now_ns if now_ns is not None else time.time_ns(),
        show_secrets=session.show_secrets,
        history_limit=session.history_limit,
        event_mark=len(txn.events),
        trace=[] if session.trace else None,
    )
    try:
        pipeline_for(request.kind, request.verb).run(ctx)
    except StepFailed as e:
        e.steps = ctx.trace or []
        raise
    if ctx.trace is not None and ctx.result is not None:
        ctx.result.steps = ctx.trace
    return ctx


def failure(request: Request, error: StigmerError) -> Result:
    """The Result of a failed request, located at the offending field when known."""
    obj = request.desired
    name = request.name or (obj.metadata.slug or naming.slugify(obj.metadata.name) if obj else "")
    org = (obj.metadata.org if obj else "") or request.org
    steps = error.steps if isinstance(error, StepFailed) else []
    return Result(
        request.kind,
        name,
        org,
        Outcome.ERROR,
        error=error,
        source=_locate(request, error),
        steps=steps,
    )


def _locate(request: Request, error: StigmerError) -> str:
    cause = error.cause if isinstance(error, StepFailed) else error
    path = getattr(cause, "path", "")
    if not path or request.document is None:
        return request.source
    steps = tuple(
        int(p) if p.isdigit() else p for p in path.replace("[", ".").replace("]", "").split(".")
    )
    line, column = request.document.position(steps)
    return f"{request.document.source}:{line}:{column}"


def _order(requests: Sequence[Request]) -> list[Request]:
    """Agents before the instances that refer to them; deletes the other way round."""
    rank = {k.key: i for i, k in enumerate(kinds.KINDS)}
    return sorted(
        requests, key=lambda r: -rank[r.kind.key] if r.verb == "delete" else rank[r.kind.key]
    )


def _run_nested(txn: WriteTxn, request: Request, session: Session, now_ns: int) -> Context:
    """Runs one request in a nested transaction: its failure undoes only its writes."""

    def one(t: WriteTxn) -> Context:
        return run(t, request, session, now_ns=now_ns)

    return txn.nested(one)


class _Redo(Exception):
    """A document run without nesting failed after writing: run its chunk again, nested."""


def _run_direct(txn: WriteTxn, request: Request, session: Session, now_ns: int) -> Context:
    """Runs one request straight in ``txn``; raises _Redo if it fails after writing."""
    before = txn.writes
    try:
        return run(txn, request, session, now_ns=now_ns)
    except StepFailed:
        if txn.writes != before:
            raise _Redo from None  # its writes cannot be undone alone
        raise


Progress = Callable[[int], None]  # called with the number of requests just done


@dataclass(slots=True)
class _Isolation:
    """The documents of one chunk that raised an unexpected error, and the last suspect."""

    failed: dict[int, StepFailed] = field(default_factory=dict)  # by id() of the request
    suspect: Request | None = None  # the request running when an exception last escaped


def _unexpected(error: Exception) -> StepFailed:
    """A document's unexpected error as its own terminal failure, in one line."""
    cause = StigmerError(f"internal error: {type(error).__name__}: {error}")
    return StepFailed("Run", cause, terminal=True)


def _run_chunk(
    txn: WriteTxn,
    requests: Iterable[Request],
    session: Session,
    isolation: _Isolation,
    *,
    atomic: bool,
    dry_run: bool,
    nest: bool,
) -> Batch:
    batch, now_ns = Batch(), time.time_ns()
    run_one = _run_nested if nest else _run_direct
    isolation.suspect = None
    for request in requests:
        known = isolation.failed.get(id(request))
        if known is not None:
            batch.results.append(failure(request, known))
            continue
        try:
            ctx = run_one(txn, request, session, now_ns)
        except StepFailed as e:
            batch.results.append(failure(request, e))
            continue
        except _Redo:
            raise
        except Exception:
            isolation.suspect = request  # re-raised: the store may want it (a full map)
            raise
        assert ctx.result is not None
        if dry_run:
            steps.hide_secret_changes(ctx)
        batch.results.append(ctx.result)
        batch.changes += ctx.outbox
    if dry_run or (atomic and any(not r.ok for r in batch.results)):
        raise _Rollback(batch)
    if session.committing is not None:
        session.committing([c.event for c in batch.changes])
    batch.committed = True
    return batch


def run_batch(
    store: Store,
    requests: Sequence[Request],
    session: Session,
    *,
    dry_run: bool = False,
    atomic: bool = False,
    chunk: int | None = None,
    progress: Progress | None = None,
) -> Batch:
    """Runs every request; one transaction per ``chunk`` (all of them when atomic).

    ``chunk`` defaults to the one the store's backend declares (its limits).

    Requests run agents first (see ``_order``); the results come back in the
    order of ``requests``.
    """
    size = len(requests) if atomic else (chunk or store.limits.chunk)
    ready = iter(_order(requests))
    return _run_chunks(
        store, ready, requests, session, size, atomic=atomic, dry_run=dry_run, progress=progress
    )


def run_stream(
    store: Store,
    requests: Iterable[Request],
    session: Session,
    *,
    dry_run: bool = False,
    chunk: int | None = None,
    progress: Progress | None = None,
) -> Batch:
    """``run_batch`` (not atomic) for requests that are still arriving, such as a parse's.

    Applies of the kinds marked ``streamed`` (agents, and the kinds agents and
    instances name) run as they arrive; every other request waits for the end
    of the stream and then runs in ``_order``, so instances still come after them.
    """
    arrived: list[Request] = []

    def ready() -> Iterator[Request]:
        waiting: list[Request] = []
        for request in requests:
            arrived.append(request)
            if request.verb != "delete" and request.kind.streamed:
                yield request
            else:
                waiting.append(request)
        yield from _order(waiting)

    size = chunk or store.limits.chunk
    return _run_chunks(
        store, ready(), arrived, session, size, atomic=False, dry_run=dry_run, progress=progress
    )


def _run_chunks(
    store: Store,
    ready: Iterator[Request],
    inputs: Sequence[Request],
    session: Session,
    size: int,
    *,
    atomic: bool,
    dry_run: bool,
    progress: Progress | None,
) -> Batch:
    """Runs ``ready`` in transactions of ``size`` requests; results in the order of ``inputs``.

    ``inputs`` may still be filling while ``ready`` is drawn from; it is read at the end.
    """
    session = replace(session, authorizer=Remembering(session.authorizer))
    total, done = Batch(committed=True), []
    if progress is not None:
        ready = _ticking(ready, progress)
    while (first := next(ready, None)) is not None:
        batch, taken = _transact_chunk(
            store, first, ready, session, size, atomic=atomic, dry_run=dry_run
        )
        done += taken
        total.results += batch.results
        total.changes += batch.changes if batch.committed else []
        total.committed = total.committed and batch.committed
    position = {id(r): i for i, r in enumerate(done)}
    total.results = [total.results[position[id(r)]] for r in inputs]
    return total


def _ticking(ready: Iterator[Request], progress: Progress) -> Iterator[Request]:
    """``ready``, telling ``progress`` of each request as it is taken (once, even if replayed)."""
    for request in ready:
        progress(1)
        yield request


def _transact_chunk(
    store: Store,
    first: Request,
    ready: Iterator[Request],
    session: Session,
    size: int,
    *,
    atomic: bool,
    dry_run: bool,
) -> tuple[Batch, list[Request]]:
    """One chunk, ``first`` and what follows it in ``ready``: its Batch and its requests.

    A transaction that is run again (after map growth, or nested after a
    _Redo) replays the requests it took before pulling more.
    """
    taken = [first]

    def requests() -> Iterator[Request]:
        replay = list(taken)
        yield from replay
        for request in itertools.islice(ready, max(size, 1) - len(replay)):
            taken.append(request)
            yield request

    isolation = _Isolation()
    ahead = store.limits.prefetch

    def chunk(txn: WriteTxn, *, nest: bool) -> Batch:
        todo: Iterable[Request] = requests()
        if ahead:  # the whole chunk now, so the store reads what it needs at once
            todo = list(todo)
            txn.prefetch(prefetching.slugs(todo, session.org))
        return _run_chunk(txn, todo, session, isolation, atomic=atomic, dry_run=dry_run, nest=nest)

    while True:
        try:
            return _transact(store, chunk, session, atomic=atomic, dry_run=dry_run), taken
        except StigmerError:
            raise
        except Exception as e:
            suspect = isolation.suspect
            if suspect is None or id(suspect) in isolation.failed:
                raise  # not one document's doing (a commit that failed)
            log.debug("%s failed; running its chunk again without it", suspect.source, exc_info=e)
            isolation.failed[id(suspect)] = _unexpected(e)


def _transact(
    store: Store, chunk: Callable[..., Batch], session: Session, *, atomic: bool, dry_run: bool
) -> Batch:
    """Runs ``chunk`` in one transaction: direct first, nested if a document must be undone."""
    for nest in (False, True):
        try:
            batch = store.transact(functools.partial(chunk, nest=nest), actor=session.actor)
        except _Redo:
            continue
        except _Rollback as rollback:
            batch = rollback.batch
            if atomic and not dry_run:
                batch.results = [_not_applied(r) for r in batch.results]
        return batch
    raise AssertionError("a nested run never raises _Redo")


def plan(
    store: Store, requests: Sequence[Request], session: Session
) -> list[tuple[Request, Context | StigmerError]]:
    """What each request would do: its pipeline's context, or its error. Commits nothing."""

    def dry(txn: WriteTxn) -> None:
        # outcomes is made afresh on every run: the store may run dry again.
        outcomes: list[tuple[Request, Context | StigmerError]] = []
        now_ns = time.time_ns()
        for request in _order(requests):
            try:
                ctx = _run_nested(txn, request, session, now_ns)
            except StepFailed as e:
                outcomes.append((request, e))
                continue
            outcomes.append((request, ctx))
        raise _Planned(outcomes)

    try:
        store.transact(dry, actor=session.actor)
    except _Planned as planned:
        return planned.outcomes
    raise AssertionError("dry always raises _Planned")


class _Planned(Exception):
    """Aborts a plan's transaction, carrying out what its last run found."""

    def __init__(self, outcomes: list[tuple[Request, Context | StigmerError]]) -> None:
        self.outcomes = outcomes


def _not_applied(result: Result) -> Result:
    if not result.ok:
        return result
    error = NotApplied("not applied: another document failed and --atomic is set")
    return Result(
        result.kind, result.name, result.org, Outcome.ERROR, error=error, source=result.source
    )
