"""``sync --watch``: follow a directory with watchfiles and re-sync what changed.

It also follows the store's change feed (self-heal, on unless turned off): an
object of the directory that changes out of band (another apply, an edit, a
delete, a rollback) is set back as soon as its event arrives, not at the next
full resync. The loop wakes every ``SELF_HEAL_WAKE_MS`` to read the feed, so a
correction commits within tens of milliseconds. A feed that expired (it fell
behind the retention) means a full sync.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import watchfiles

from stigmer.errors import Expired, StigmerError
from stigmer.gitops.ignoring import IGNORE_FILE
from stigmer.gitops.syncing import Syncer, SyncReport
from stigmer.manifests import loading

log = logging.getLogger("stigmer.sync")

Reporter = Callable[[SyncReport], None]

# How often the loop wakes to read the change feed with self-heal on, and without it
# (then only the resync timer and file changes wake it usefully). Reading the feed
# when nothing changed is one cheap snapshot read.
SELF_HEAL_WAKE_MS, IDLE_WAKE_MS = 20, 200


def _wanted(change: watchfiles.Change, path: str) -> bool:
    """Manifest files and the ignore file: editor leftovers and temp files never trigger a sync."""
    return loading.is_manifest_file(Path(path)) or Path(path).name == IGNORE_FILE


def watch(
    syncer: Syncer,
    stop: threading.Event,
    *,
    report: Reporter,
    resync_seconds: float = 300.0,
    step_ms: int = 20,
    debounce_ms: int = 50,
    wake_ms: int | None = None,
    self_heal: bool = True,
) -> None:
    """Syncs the whole directory, then each change as it happens, until ``stop`` is set.

    Changes are grouped for ``step_ms`` of quiet (at most ``debounce_ms``), so
    an editor's write-temp-then-rename lands as one change. Everything is
    re-synced every ``resync_seconds`` to correct drift made from outside.
    The first full sync runs once the watch is in place, so that no change
    made during it is missed. With ``self_heal`` each batch of the change
    feed goes to ``Syncer.heal``.
    """
    next_resync = 0.0  # at the first wake-up: the watcher is watching by then
    if wake_ms is None:
        wake_ms = SELF_HEAL_WAKE_MS if self_heal else IDLE_WAKE_MS
    # heartbeat=0: next() never waits; watchfiles' wake-ups pace the loop.
    feed = syncer.store.watch(stop=stop, heartbeat=0.0) if self_heal else None
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
        try:
            if paths:
                report(syncer.sync(paths))
            try:
                healed = syncer.heal(next(feed, [])) if feed is not None else None
            except Expired as e:
                log.warning("%s; syncing everything", e)
                feed = syncer.store.watch(stop=stop, heartbeat=0.0)
                next_resync = 0.0
            else:
                if healed is not None:
                    report(healed)
            if time.monotonic() >= next_resync:
                report(syncer.sync())
                next_resync = time.monotonic() + resync_seconds
        except StigmerError as e:  # a vanished directory: say so, keep watching
            log.error("%s", e)
        except Exception as e:  # one bad file or a bug: a watcher outlives both
            log.error("sync failed: internal error: %s: %s", type(e).__name__, e)
            log.debug("sync failed", exc_info=e)


def _relative(root: Path, path: str) -> str:
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return str(Path(path).resolve().relative_to(root.resolve()))
