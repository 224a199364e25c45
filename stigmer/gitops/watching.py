"""``sync --watch``: follow a directory with watchfiles and re-sync what changed.

It also follows the store's change feed: a file whose object someone else
changed or deleted is synced again at the next wake-up, not at the next full
resync. A feed that expired (it fell behind the retention) means a full sync.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import watchfiles

from stigmer.errors import Expired, StigmerError
from stigmer.gitops.syncing import Syncer, SyncReport
from stigmer.manifests import loading

log = logging.getLogger("stigmer.sync")

Reporter = Callable[[SyncReport], None]


def _wanted(change: watchfiles.Change, path: str) -> bool:
    """Manifest files only: editor leftovers and temp files never trigger a sync."""
    return loading.is_manifest_file(Path(path))


def watch(
    syncer: Syncer,
    stop: threading.Event,
    *,
    report: Reporter,
    resync_seconds: float = 300.0,
    step_ms: int = 20,
    debounce_ms: int = 50,
    wake_ms: int = 200,
) -> None:
    """Syncs the whole directory, then each change as it happens, until ``stop`` is set.

    Changes are grouped for ``step_ms`` of quiet (at most ``debounce_ms``), so
    an editor's write-temp-then-rename lands as one change. Everything is
    re-synced every ``resync_seconds`` to correct drift made from outside.
    The first full sync runs once the watch is in place, so that no change
    made during it is missed.
    """
    next_resync = 0.0  # at the first wake-up: the watcher is watching by then
    # heartbeat=0: next() never waits; watchfiles' wake-ups pace the loop.
    feed = syncer.store.watch(stop=stop, heartbeat=0.0)
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
        try:
            try:
                paths |= syncer.drifted(next(feed, []))
            except Expired as e:
                log.warning("%s; syncing everything", e)
                feed = syncer.store.watch(stop=stop, heartbeat=0.0)
                next_resync = 0.0
            if paths:
                report(syncer.sync(paths))
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
