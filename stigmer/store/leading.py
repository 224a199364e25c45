"""Leadership of a store: one controller at a time, and a fencing token per term.

``Store.leader()`` returns a Leader; the controller campaigns with
``acquire``, checks ``is_leader`` before each piece of work, and ``resign``s
when it stops. The backend decides how: LMDB and SQLite use ``FileLeader``,
an ``flock`` beside the data, which the kernel releases when the process
ends however it ends; a network backend uses a lease (etcd's), which expires
when its holder stops renewing it. The controller does not know which one
elected it (docs/architecture.md, "The controller, and a leader").

The fence is a number that grows with every term. A leader that was cut off
and replaced can still believe it leads for a moment; a backend that checks
the fence on each write (etcd: a compare on the election key) refuses its
writes. The file lock needs no such check (the kernel never lets two
processes hold it), so its fence only counts terms.
"""

from __future__ import annotations

import fcntl
import os
import socket
import threading
from pathlib import Path
from typing import IO, Protocol

from stigmer.errors import StoreLocked


class Leader(Protocol):
    """A campaign for the leadership of one store."""

    def acquire(self) -> None:
        """Becomes the leader now, or raises StoreLocked naming the current one."""
        ...

    def is_leader(self) -> bool:
        """True from ``acquire`` until ``resign``, or until leadership was lost."""
        ...

    @property
    def fence(self) -> int:
        """This term's fencing token: above every earlier term's; 0 when not leading."""
        ...

    def resign(self) -> None:
        """Gives leadership up, so that another may take it at once. Idempotent."""
        ...

    def campaign(self, stop: threading.Event) -> bool:
        """Acquires, waiting while another leads if the backend's replicas take turns.

        False when ``stop`` was set first. A file lock does not wait: a second
        controller on one machine is a mistake, so it raises StoreLocked at once.
        """
        ...

    def holder(self) -> str:
        """Who leads now, as ``pid N on HOST``; "" when nobody does."""
        ...


class FileLeader:
    """Leadership by ``flock``, for a store on a local disk (LMDB, SQLite).

    The flock on the lock file alone is not enough: once that file is
    deleted, a second controller would make a new one and lock it. So the
    store itself is locked (``anchor``: the LMDB data dir, or the SQLite
    file), which cannot be deleted while it is in use; the lock file tells
    the holder's pid and the term, ``PID TERM``.
    """

    def __init__(self, path: Path, anchor: Path) -> None:
        self.path = path
        self.anchor = anchor
        self._held: tuple[int, IO[str]] | None = None  # the anchor's descriptor, the file
        self._fence = 0

    def acquire(self) -> None:
        if self._held is not None:
            return
        anchor = os.open(self.anchor, os.O_RDONLY | os.O_CLOEXEC)
        try:
            fcntl.flock(anchor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(anchor)
            raise self._locked() from None
        handle = self.path.open("a+")  # held open for the term
        self.path.chmod(0o600)
        handle.seek(0)
        self._fence = _term(handle.read()) + 1
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()} {self._fence}")
        handle.flush()
        self._held = (anchor, handle)

    def is_leader(self) -> bool:
        return self._held is not None

    @property
    def fence(self) -> int:
        return self._fence if self._held is not None else 0

    def resign(self) -> None:
        if self._held is None:
            return
        anchor, handle = self._held
        self._held = None
        os.close(anchor)  # releases the flock
        handle.close()

    def campaign(self, stop: threading.Event) -> bool:
        self.acquire()
        return True

    def holder(self) -> str:
        return f"pid {os.getpid()} on {socket.gethostname()}" if self.is_leader() else ""

    def _locked(self) -> StoreLocked:
        text = self.path.read_text() if self.path.exists() else ""
        holder = text.split()[0] if text.split() else "?"
        return StoreLocked(
            f"another stigmer serve (pid {holder}) is running on {self.anchor}; "
            "only one controller may run per store"
        )


def _term(text: str) -> int:
    """The term a lock file records (``PID TERM``); 0 for none, or an older file's bare pid."""
    fields = text.split()
    return int(fields[1]) if len(fields) == 2 and fields[1].isdigit() else 0
