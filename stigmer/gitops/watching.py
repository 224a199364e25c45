"""``sync --watch``: follow a directory with watchfiles and re-sync what changed.

It also follows the store's change feed (self-heal, on unless turned off): an
object of the directory that changes out of band (another apply, an edit, a
delete, a rollback) is set back as soon as its event arrives, not at the next
full resync. A thread of its own reads the feed every ``HEAL_POLL`` seconds,
one cheap snapshot read, so a correction commits within tens of milliseconds
while an idle watcher costs a fraction of a percent of a core; a lock keeps it and the file loop
from syncing at once. A feed that expired (it fell behind the retention) means
a full sync.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import watchfiles

from stigmer.errors import Expired, StigmerError
from stigmer.gitops.ignoring import IGNORE_FILE
from stigmer.gitops.syncing import Syncer, SyncReport
from stigmer.manifests import loading

log = logging.getLogger("stigmer.sync")

Reporter = Callable[[SyncReport], None]

HEAL_POLL = 0.05  # seconds between reads of the change feed while nothing changes


def _wanted(change: watchfiles.Change, path: str) -> bool:
    """Manifest files and the ignore file: editor leftovers and temp files never trigger a sync."""
    return loading.is_manifest_file(Path(path)) or Path(path).name == IGNORE_FILE


def _guarded(what: Callable[[], object]) -> None:
    """Runs one round of work; a watcher outlives a vanished directory, a bad file or a bug."""
    try:
        what()
    except StigmerError as e:  # a vanished directory: say so, keep watching
        log.error("%s", e)
    except Exception as e:
        log.error("sync failed: internal error: %s: %s", type(e).__name__, e)
        log.debug("sync failed", exc_info=e)


def _sync_and_report(syncer: Syncer, report: Reporter, paths: set[str] | None) -> None:
    report(syncer.sync(paths))


def _self_heal(
    syncer: Syncer, stop: threading.Event, lock: threading.Lock, report: Reporter
) -> None:
    """Follows the change feed until ``stop``, setting back drift as soon as it commits."""
    feed = syncer.store.watch(stop=stop, heartbeat=0.0)  # heartbeat=0: next() never waits

    def heal() -> None:
        nonlocal feed
        try:
            batch = next(feed, [])
        except Expired as e:
            log.warning("%s; syncing everything", e)
            feed = syncer.store.watch(stop=stop, heartbeat=0.0)
            with lock:
                report(syncer.sync())
            return
        if not batch:
            stop.wait(HEAL_POLL)
            return
        with lock:
            healed = syncer.heal(batch)
            if healed is not None:
                report(healed)

    while not stop.is_set():
        _guarded(heal)


def watch(
    syncer: Syncer,
    stop: threading.Event,
    *,
    report: Reporter,
    resync_seconds: float = 300.0,
    step_ms: int = 20,
    debounce_ms: int = 50,
    wake_ms: int = 200,
    self_heal: bool = True,
) -> None:
    """Syncs the whole directory, then each change as it happens, until ``stop`` is set.

    Changes are grouped for ``step_ms`` of quiet (at most ``debounce_ms``), so
    an editor's write-temp-then-rename lands as one change. Everything is
    re-synced every ``resync_seconds`` to correct drift made from outside.
    The first full sync runs once the watch is in place, so that no change
    made during it is missed. With ``self_heal`` a thread follows the change
    feed and hands each batch to ``Syncer.heal``.
    """
    lock = threading.Lock()
    healer = None
    if self_heal:  # its feed starts now, before the first sync: nothing is missed
        healer = threading.Thread(
            target=_self_heal, args=(syncer, stop, lock, report), name="self-heal", daemon=True
        )
        healer.start()
    next_resync = 0.0  # at the first wake-up: the watcher is watching by then
    for changes in watchfiles.watch(
        syncer.root,
        watch_filter=_wanted,
        step=step_ms,
        debounce=debounce_ms,
        stop_event=stop,
        yield_on_timeout=True,
        rust_timeout=wake_ms,
        raise_interrupt=False,
    ):
        paths = {_relative(syncer.root, p) for _, p in changes}
        if IGNORE_FILE in paths:  # what the tree holds changed: all of it, now
            paths, next_resync = set(), 0.0
        full = time.monotonic() >= next_resync
        if paths and not full:
            with lock:
                _guarded(partial(_sync_and_report, syncer, report, paths))
        if full:
            with lock:
                _guarded(partial(_sync_and_report, syncer, report, None))
            next_resync = time.monotonic() + resync_seconds
    if healer is not None:
        healer.join()


def _relative(root: Path, path: str) -> str:
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return str(Path(path).resolve().relative_to(root.resolve()))
