"""Producing items in a forked worker process while the caller consumes them.

Parsing 10,000 manifests takes about as long as applying them, and neither
needs to wait for the whole of the other: a forked worker runs the producer
and streams each item back over a pipe, pickled, while this process goes on
with the ones already received. The worker shares its inputs by fork, so
nothing is sent to it; it also inherits the caller's garbage-collector
setting, which only the CLI entry point changes (stigmer.cli.entry).

The producer must be deterministic: if the worker dies, the producer runs
again here and the items already received are skipped, so the caller sees
the same items either way.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable, Generator, Iterator
from typing import Any, BinaryIO, TypeVar

T = TypeVar("T")
PIPE_BYTES = 1 << 20  # lets the worker run ahead; Linux's default pipe holds 64 KiB
_END = None  # what the worker sends last; an item is never packed as None


def available() -> bool:
    """True when a worker may be forked: on Linux, with no other thread to fork in mid-step.

    A fork copies only the calling thread; a lock another thread held (the
    logging module's, the store's) would stay held forever in the child.
    Elsewhere a fork without exec is not dependable (macOS's system libraries
    may abort in the child), and there is no fork on Windows.
    """
    return sys.platform == "linux" and threading.active_count() == 1


def produce_in_worker(
    produce: Callable[[], Iterator[T]],
    pack: Callable[[T], Any],
    unpack: Callable[[Any], T],
) -> Generator[T, None, None]:
    """The items of ``produce()``, made in a forked worker; ``pack`` and ``unpack`` cross the pipe.

    The worker is killed and reaped when the caller stops early, whatever
    the reason; it never outlives this generator.
    """
    read_fd, write_fd = os.pipe()
    _widen(write_fd)
    try:
        pid = os.fork()
    except OSError:
        os.close(read_fd)
        os.close(write_fd)
        raise
    if pid == 0:
        os.close(read_fd)
        _serve(produce, pack, write_fd)  # never returns
    os.close(write_fd)
    received, finished = 0, False
    try:
        with os.fdopen(read_fd, "rb") as pipe:
            for payload in _payloads(pipe):
                received += 1
                yield unpack(payload)
            finished = True
            return
    except _WorkerDied:
        pass
    finally:
        _reap(pid, finished=finished)
    for n, item in enumerate(produce()):  # the worker died: redo it here, skipping what came
        if n >= received:
            yield item


class _WorkerDied(Exception):
    """The pipe ended before the worker's end mark."""


def _payloads(pipe: BinaryIO) -> Iterator[Any]:
    while True:
        try:
            payload = pickle.load(pipe)
        except (EOFError, pickle.UnpicklingError) as e:
            raise _WorkerDied from e
        if payload is _END:
            return
        yield payload


def _serve(produce: Callable[[], Iterator[T]], pack: Callable[[T], Any], fd: int) -> None:
    """The worker: sends every item, then the end mark, and exits without cleanup.

    ``os._exit`` skips the parent's atexit handlers and buffered output that
    fork copied, so nothing is printed or flushed twice. An exception ends
    the worker without its end mark; the parent then does the work itself,
    and so reports the same error in the ordinary way.
    """
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends it quietly; the parent cleans up
        with os.fdopen(fd, "wb") as out:
            for item in produce():
                pickle.dump(pack(item), out, protocol=pickle.HIGHEST_PROTOCOL)
                out.flush()  # the parent starts on each item as soon as it is made
            pickle.dump(_END, out)
        code = 0
    finally:
        os._exit(code)


def _widen(fd: int) -> None:
    """Grows the pipe so the worker can run ahead (Linux; elsewhere the default stands)."""
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass


def _reap(pid: int, *, finished: bool) -> None:
    """Waits for the worker, killing it first unless it sent everything (it is exiting)."""
    if not finished:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
