"""Keeps a long-running controller's resident memory bounded.

What grows in ``serve`` under load is not its heap: it is the store's memory
map. Every write appends to the change feed, the controller reads each new
event, and each page it reads stays mapped into the process, so VmRSS counts
it for as long as the process lives (about 160 bytes per reconcile). Those
pages belong to the page cache, not to the process; ``release`` drops them
from the process's page tables (``MADV_DONTNEED`` on a shared file mapping
loses nothing: the next read faults the page back in from the cache) and
hands the C heap's free memory back to the system (glibc's ``malloc_trim``).
``limit_arenas`` caps glibc's heaps at two, as ``MALLOC_ARENA_MAX=2`` would:
by default each reconcile thread gets a heap of its own, and their free
space is kept apart.

Linux only; elsewhere ``release`` does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import mmap
import os
from pathlib import Path

from stigmer.store import Store, registry

log = logging.getLogger("stigmer.controller")

_MADV_DONTNEED = getattr(mmap, "MADV_DONTNEED", None)
_M_ARENA_MAX = -8  # glibc's mallopt parameter, from malloc.h


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name, use_errno=True) if name else None
    except OSError:
        return None


_LIBC = _libc()


def mapped_file(store: Store) -> Path | None:
    """The file a store maps into memory (LMDB's data.mdb), if its backend maps one."""
    return registry.mapped_file(store.url)


def mappings(path: Path, maps: str = "/proc/self/maps") -> list[tuple[int, int]]:
    """The (start, end) address ranges where ``path`` is mapped into this process."""
    wanted = os.path.realpath(path)
    found = []
    try:
        lines = Path(maps).read_text().splitlines()
    except OSError:
        return []
    for line in lines:
        fields = line.split(maxsplit=5)
        if len(fields) == 6 and fields[5] == wanted:
            start, _, end = fields[0].partition("-")
            found.append((int(start, 16), int(end, 16)))
    return found


def limit_arenas(arenas: int = 2) -> None:
    """Caps glibc's malloc arenas; call it before the threads start. A no-op elsewhere."""
    mallopt = getattr(_LIBC, "mallopt", None) if _LIBC is not None else None
    if mallopt is not None and "MALLOC_ARENA_MAX" not in os.environ:  # the user's choice wins
        mallopt(_M_ARENA_MAX, arenas)


def release(store: Store) -> None:
    """Drops the store's mapped pages from this process's RSS, and trims the C heap."""
    if _LIBC is None:
        return
    path = mapped_file(store)
    if path is not None and _MADV_DONTNEED is not None:
        # A read transaction is open while the ranges are read and advised:
        # LMDB never remaps while a transaction of this process is active.
        with store.read():
            for start, end in mappings(path):
                if _LIBC.madvise(
                    ctypes.c_void_p(start), ctypes.c_size_t(end - start), _MADV_DONTNEED
                ):
                    log.debug("madvise: %s", os.strerror(ctypes.get_errno()))
    trim = getattr(_LIBC, "malloc_trim", None)
    if trim is not None:
        trim(0)
