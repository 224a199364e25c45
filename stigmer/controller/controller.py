"""The controller behind ``stigmer serve``: keeps every resource converged.

It follows the store's change feed with ``Store.watch`` (so it sees writes
from every process), turns events into keys on a de-duplicating work queue,
and reconciles each key with the same pipelines ``apply`` uses. Failures are retried with
per-key exponential backoff; terminal ones set ``Ready=False`` with the
reason and are not retried. A periodic full resync (with jitter) catches
anything missed, such as a change made while no controller ran. A watch that
fell behind the feed's retention (Expired) is answered the same way: a full
resync, then a watch from there. The controller also compacts the feed under
its retention policy, every ``compact_seconds``.

A change that a pipeline of this process wrote, running to completion,
needs no reconcile of its own: the pipeline did the same steps in the same
transaction. Such pipelines tell the controller their events just before
they commit (``settled``), and the controller skips those events when they
reach it on the feed. Only the exact event counts (its revision, object and
commit time), so a transaction that failed to commit skips nothing; and
every other write (another process's, a store tool's, the controller's own
repairs) is reconciled as before, as is everything at each resync.

A reconcile that found nothing to do logs at DEBUG: under load, most of them
are a writer's own change echoed back, and a line each filled megabytes a
minute. What they add up to is summarized at INFO every ``summary_seconds``
and when the controller stops; work done and errors keep a line each.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from stigmer import iam
from stigmer.api import kinds, naming
from stigmer.api.v1.event_pb2 import Event, EventType
from stigmer.controller import trimming
from stigmer.controller.workqueue import WorkQueue
from stigmer.errors import Expired, NotFound, StepFailed, StigmerError
from stigmer.reconcilers import conditions, references
from stigmer.reconcilers.authz import AllowAll, Authorizer
from stigmer.reconcilers.framework import Outcome, Request, Result
from stigmer.reconcilers.running import Session, run_batch
from stigmer.store import Store
from stigmer.store.leading import Leader
from stigmer.store.protocol import EventList, Retention

log = logging.getLogger("stigmer.controller")

Key = tuple[str, str, str]  # (store kind, id, org)
# An event exactly: revision, kind, id, type, generation and its commit's time.
EventId = tuple[int, str, str, int, int, int, int]
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
CONTROLLER_ACTOR = iam.CONTROLLER  # a built-in editor of every org


@dataclass(frozen=True, slots=True)
class ReconcileResult:
    """How one reconcile of a key ended, and what happens to the key next.

    Like controller-runtime's ``Result``: ``requeue_after`` is the backoff
    before the key is tried again, None when it is not (until something
    changes). ``outcome`` is what the pipeline did, ``Outcome.ERROR`` when it
    failed; ``error`` says why; ``gone`` says the object was deleted meanwhile,
    which is nothing to do rather than a failure.
    """

    outcome: Outcome
    requeue_after: float | None = None
    error: StigmerError | None = None
    gone: bool = False

    @property
    def requeue(self) -> bool:
        return self.requeue_after is not None

    @property
    def label(self) -> str:
        """What the log lines and /metrics call it: the outcome, gone or retry."""
        return "gone" if self.gone else "retry" if self.requeue else str(self.outcome)


@dataclass
class Metrics:
    """What /metrics reports, in Prometheus text format."""

    results: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    settled: int = 0  # events skipped: their writer's pipeline had reconciled them
    buckets: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))
    duration_sum: float = 0.0
    count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Counters kept elsewhere in the process (a watching sync's self-heals), by metric name.
    counters: dict[str, Callable[[], int]] = field(default_factory=dict)

    def observe(self, result: str, seconds: float) -> None:
        with self.lock:
            self.results[result] = self.results.get(result, 0) + 1
            self.errors += result in ("error", "retry")
            self.count += 1
            self.duration_sum += seconds
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    self.buckets[i] += 1

    def render(self, queue_depth: int) -> str:
        with self.lock:
            lines = ["# TYPE stigmer_reconcile_total counter"]
            lines += [
                f'stigmer_reconcile_total{{result="{r}"}} {n}'
                for r, n in sorted(self.results.items())
            ]
            lines += [
                "# TYPE stigmer_reconcile_errors_total counter",
                f"stigmer_reconcile_errors_total {self.errors}",
            ]
            lines += [
                "# TYPE stigmer_events_settled_total counter",
                f"stigmer_events_settled_total {self.settled}",
            ]
            lines += [
                "# TYPE stigmer_workqueue_depth gauge",
                f"stigmer_workqueue_depth {queue_depth}",
            ]
            lines.append("# TYPE stigmer_reconcile_duration_seconds histogram")
            lines += [
                f'stigmer_reconcile_duration_seconds_bucket{{le="{b}"}} {n}'
                for b, n in zip(BUCKETS, self.buckets, strict=True)
            ]
            lines.append(f'stigmer_reconcile_duration_seconds_bucket{{le="+Inf"}} {self.count}')
            lines.append(f"stigmer_reconcile_duration_seconds_sum {self.duration_sum:.6f}")
            lines.append(f"stigmer_reconcile_duration_seconds_count {self.count}")
            for name, read in sorted(self.counters.items()):
                lines += [f"# TYPE {name} counter", f"{name} {read()}"]
        return "\n".join(lines) + "\n"


def elect(leader: Leader, stop: threading.Event) -> bool:
    """Makes this process the store's one controller; False if ``stop`` came first.

    The store's backend decides how (stigmer.store.leading): a file lock for
    LMDB and SQLite raises StoreLocked naming the other controller at once;
    etcd's replicas wait their turn. The caller resigns when the controller stops.
    """
    won = leader.campaign(stop)
    if won:
        log.info("this replica leads: %s", leader.holder())
    return won


class Controller:
    """Reconciles keys from the change feed and periodic resyncs until stopped."""

    def __init__(
        self,
        store: Store,
        *,
        authorizer: Authorizer | None = None,
        workers: int = 2,
        resync_seconds: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
        summary_seconds: float = 60.0,
        trim_seconds: float = 5.0,
        leader: Leader | None = None,
        retention: Retention | None = None,
        compact_seconds: float = 60.0,
        tick_seconds: float = 0.5,
    ) -> None:
        self.store = store
        self.leader = leader  # when given, work stops once it no longer leads
        self.session = Session(CONTROLLER_ACTOR, authorizer or AllowAll())
        self.queue: WorkQueue[Key] = WorkQueue(clock=clock)
        self.metrics = Metrics()
        self.workers = workers
        self.resync_seconds = resync_seconds
        self.clock = clock
        self.summary_seconds = summary_seconds
        self.trim_seconds = trim_seconds  # how often to release the store's mapped pages
        self.retention = retention or Retention()
        self.compact_seconds = compact_seconds
        self.tick_seconds = tick_seconds  # the longest quiet before the timers are looked at
        self._summarized: dict[str, int] = {}  # the metrics' results at the last summary
        # Events a pipeline settled (see ``settled``), in commit order, with their revision.
        self._settled: dict[EventId, int] = {}
        self._settled_lock = threading.Lock()

    # -- the loop -------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Runs until ``stop`` is set; the current items finish, then it returns."""
        trimming.limit_arenas()
        threads = [
            threading.Thread(target=self._work, args=(stop,), name=f"reconcile-{i}", daemon=True)
            for i in range(self.workers)
        ]
        for t in threads:
            t.start()
        try:
            self._follow(stop)
        finally:
            self.queue.shutdown()
            for t in threads:
                t.join()
        self.summarize()
        log.info("controller stopped")

    def _follow(self, stop: threading.Event) -> None:
        feed = self._relist(stop)
        next_resync = self._next_resync()
        next_summary = self.clock() + self.summary_seconds
        next_trim = self.clock() + self.trim_seconds
        next_compact = self.clock() + self.compact_seconds
        while not stop.is_set():
            if self._lost_leadership(stop):  # before a resync would write unfenced
                return
            try:
                self.queue_events(next(feed))
            except StopIteration:  # stop was set
                return
            except Expired as e:
                log.warning("%s; resyncing", e)
                feed = self._relist(stop)
                next_resync = self._next_resync()
            if self.clock() >= next_resync:
                self.resync()
                next_resync = self._next_resync()
            if self.clock() >= next_summary:
                self.summarize()
                next_summary = self.clock() + self.summary_seconds
            if self.clock() >= next_trim:
                trimming.release(self.store)  # see stigmer.controller.trimming
                next_trim = self.clock() + self.trim_seconds
            if self.clock() >= next_compact:
                self.compact()
                next_compact = self.clock() + self.compact_seconds

    def _relist(self, stop: threading.Event) -> Iterator[EventList]:
        """Watches from now, then reconciles everything: no change between is missed."""
        feed = self.store.watch(stop=stop, heartbeat=self.tick_seconds)
        if not self._lost_leadership(stop):
            self.resync()
        return feed

    def _lost_leadership(self, stop: threading.Event) -> bool:
        """True, with ``stop`` set, once a leading controller no longer leads."""
        if self.leader is None or self.leader.is_leader():
            return False
        log.error("leadership of %s lost; the controller stops", self.store.url)
        stop.set()  # the keys stay for the next leader, which resyncs everything
        return True

    def compact(self) -> int:
        """Drops the events the retention policy lets go; how many."""
        dropped = self.store.compact(self.retention)
        if dropped:
            log.info("compacted events=%d", dropped)
        return dropped

    def summarize(self) -> None:
        """Logs at INFO how many reconciles ended each way since the last summary, if any."""
        with self.metrics.lock:
            now = dict(self.metrics.results)
        since = {r: n - self._summarized.get(r, 0) for r, n in sorted(now.items())}
        self._summarized = now
        counts = " ".join(f"{r}={n}" for r, n in since.items() if n)
        if counts:
            log.info("reconciled keys=%d %s", sum(since.values()), counts)

    def _next_resync(self) -> float:
        jitter = random.uniform(-0.1, 0.1) * self.resync_seconds  # spread controllers apart
        return self.clock() + self.resync_seconds + jitter

    def settled(self, events: list[Event]) -> None:
        """Notes events that pipelines ran to completion for, before their commit.

        Called with the store's write lock held, so in commit order.
        """
        with self._settled_lock:
            for event in events:
                self._settled[_event_id(event)] = event.revision

    def queue_events(self, events: EventList) -> None:
        """Queues the keys of a batch of events from the feed, but for settled ones."""
        if not events:
            return
        with self._settled_lock:
            settled = [self._settled.pop(_event_id(e), None) is not None for e in events]
            self._forget_settled(events[-1].revision)
        with self.metrics.lock:
            self.metrics.settled += sum(settled)
        for event, skip in zip(events, settled, strict=True):
            if not skip:
                for key in self.keys_for(event):
                    self.queue.add(key)

    def _forget_settled(self, revision: int) -> None:
        """Drops the notes the feed has gone past: their transactions did not commit."""
        notes = self._settled
        while notes:
            first = next(iter(notes))
            if notes[first] > revision:
                return
            del notes[first]

    def keys_for(self, event: Event) -> list[Key]:
        """The objects to reconcile because of an event: itself, its agent, or its referrers."""
        keys: list[Key] = []
        if event.type != EventType.deleted:
            keys.append((event.kind, event.id, event.org))
        if event.kind in references.TARGET_KINDS:  # its referrers, through the index
            found = references.referrers(self.store, event.kind, event.org, event.slug)
            return keys + [(kinds.of(o).key, o.metadata.id, o.metadata.org) for o in found]
        if event.kind != kinds.AGENT_INSTANCE.key:
            return keys
        inst = self.store.find(event.kind, event.id) if event.type != EventType.deleted else None
        owner_ids = [r.id for r in inst.metadata.owner_references] if inst is not None else []
        agent_slug = naming.default_instance_agent(event.slug)
        if not owner_ids and agent_slug is not None:  # a deleted default instance
            agent = self.store.find_by_slug(kinds.AGENT.key, event.org, agent_slug)
            owner_ids = [agent.metadata.id] if agent is not None else []
        keys += [(kinds.AGENT.key, i, event.org) for i in owner_ids]
        return keys

    def _work(self, stop: threading.Event) -> None:
        while True:
            key = self.queue.get(timeout=0.2)
            if key is None:
                if stop.is_set():
                    return
                continue
            if self._lost_leadership(stop):
                self.queue.done(key)
                return
            try:
                self.reconcile(key)
            except Exception:  # a bug must not kill the worker; retry the key later
                log.exception("reconcile key=%s/%s crashed", key[0], key[1])
                self.queue.retry(key)
            finally:
                self.queue.done(key)

    # -- reconciling ----------------------------------------------------------

    def reconcile(self, key: Key) -> ReconcileResult:
        """Reconciles one key and decides what happens to it next."""
        kind, id, org = key
        started = time.perf_counter()
        (result,) = run_batch(self.store, [_request(kind, id, org)], self.session).results
        return self._settle(key, result, time.perf_counter() - started)

    def resync(self) -> int:
        """Reconciles every object now, in batches; returns how many."""
        requests = [
            _request(k.key, obj.metadata.id, obj.metadata.org)
            for k in kinds.KINDS
            for obj in self.store.list(k.key)
        ]
        started = time.perf_counter()
        results = run_batch(self.store, requests, self.session).results
        each = (time.perf_counter() - started) / max(len(results), 1)
        for request, result in zip(requests, results, strict=True):
            self._settle((request.kind.key, request.name, request.org), result, each)
        log.info(
            "resync objects=%d duration_ms=%.1f",
            len(requests),
            (time.perf_counter() - started) * 1000,
        )
        return len(requests)

    def _settle(self, key: Key, result: Result, seconds: float) -> ReconcileResult:
        """Logs one reconcile and decides the key's future: forget, retry, or mark failed.

        One that needed nothing logs at debug level only; ``summarize`` counts it.
        """
        done = self._decide(key, result)
        self.metrics.observe(done.label, seconds)
        if done.requeue:
            log.warning(
                "reconcile key=%s/%s result=retry in_s=%.3f error=%s",
                key[0],
                key[1],
                done.requeue_after,
                done.error,
            )
        elif done.outcome is Outcome.ERROR and not done.gone:
            self._mark_not_ready(key, done.error)
            log.error("reconcile key=%s/%s result=error error=%s", key[0], key[1], done.error)
        else:
            level = logging.DEBUG if done.label == Outcome.UNCHANGED else logging.INFO
            log.log(
                level,
                "reconcile key=%s/%s result=%s duration_ms=%.2f",
                key[0],
                key[1],
                done.label,
                seconds * 1000,
            )
        return done

    def _decide(self, key: Key, result: Result) -> ReconcileResult:
        """The typed result of a pipeline's Result; schedules the key's retry, or forgets it."""
        error = result.error
        if error is not None and not _gone(error) and not _terminal(error):
            return ReconcileResult(result.outcome, self.queue.retry(key), error)
        self.queue.forget(key)
        gone = error is not None and _gone(error)
        return ReconcileResult(result.outcome, None, error, gone=gone)

    def _mark_not_ready(self, key: Key, error: object) -> None:
        """Ready=False with the failing step as the reason, written on this exit path too."""
        kind, id, _ = key
        step = error.step if isinstance(error, StepFailed) else "Reconcile"
        cause = error.cause if isinstance(error, StepFailed) else error

        def write(txn: object) -> None:
            obj = txn.find(kind, id)  # type: ignore[attr-defined]
            if obj is None:
                return
            obj.status.observed_generation = obj.metadata.generation
            changed = conditions.set_condition(
                obj.status,
                conditions.READY,
                conditions.FALSE,
                f"{step}Failed",
                str(cause),
                generation=obj.metadata.generation,
                now_ns=time.time_ns(),
            )
            if changed:
                txn.put(obj, expected_version=obj.metadata.resource_version)  # type: ignore[attr-defined]

        self.store.transact(write, actor=CONTROLLER_ACTOR)


def _event_id(event: Event) -> EventId:
    t = event.time
    return (event.revision, event.kind, event.id, event.type, event.generation, t.seconds, t.nanos)


def _request(kind: str, id: str, org: str) -> Request:
    return Request("reconcile", kinds.by_key(kind), name=id, org=org)


def _gone(error: StigmerError) -> bool:
    """The object was deleted between its event and its reconcile."""
    return (
        isinstance(error, StepFailed)
        and error.step == "LoadLive"
        and isinstance(error.cause, NotFound)
    )


def _terminal(error: StigmerError) -> bool:
    """No retry can fix it: a step said so, or the error came from outside any step."""
    return error.terminal if isinstance(error, StepFailed) else True
