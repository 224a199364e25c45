"""The LMDB store's write guard: writers stay one at a time even if lock.mdb is deleted.

LMDB keeps its writer mutex and its reader table in ``lock.mdb``. A process
that opens the store after that file was deleted makes a fresh one, and then
two processes write at once, each sure it is alone: one's commits overwrite
the other's, and acknowledged writes are lost. So every write transaction
also holds an flock on ``data.mdb``, which cannot be replaced without
replacing the store, and first checks that ``lock.mdb`` is still the file
this process opened. A process whose lock file is gone refuses to write.

Opening the environment holds the flock too: a process that makes a fresh
lock.mdb takes its transaction counter from the newest commit, so it must not
read it while another process's write is under way.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from stigmer.errors import StoreError


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


class WriteGuard:
    """Held around every write transaction of one environment in this process."""

    def __init__(self, path: Path) -> None:
        self._lock_file = path / "lock.mdb"
        self._lock_id: tuple[int, int] | None = None
        # An empty data.mdb is a new environment to LMDB; made here, it can be locked first.
        self._fd = os.open(path / "data.mdb", os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
        # _threads: one OFD's flock does not exclude this process's other threads.
        self._threads = threading.Lock()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Waits until no other process or thread is opening or writing the store."""
        with self._threads:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def adopt_lock_file(self) -> None:
        """Remembers which lock.mdb this process opened (call it under ``exclusive``)."""
        self._lock_id = _identity(self._lock_file)

    @contextmanager
    def held(self, url: str) -> Iterator[None]:
        """Takes the guard (waiting for other processes' writes); raises if lock.mdb changed."""
        with self.exclusive():
            if _identity(self._lock_file) != self._lock_id:
                raise StoreError(
                    f"store {url}: its lock file {self._lock_file} was deleted or replaced "
                    "while this process had the store open; refusing to write, so that no "
                    "write is lost (stop every stigmer using the store, then retry)"
                )
            yield

    def close(self) -> None:
        os.close(self._fd)
