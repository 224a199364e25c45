"""A store's files on disk: a private directory, private files, and read-only mounts."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger("stigmer.store")


def make_private_dir(path: Path) -> None:
    """Creates ``path`` (and its parents) with mode 0700 for the last part."""
    path.mkdir(parents=True, mode=0o700, exist_ok=True)  # another process may win the race
    path.chmod(0o700)  # mkdir's mode is masked by the umask


def holds_data(path: Path) -> bool:
    """Whether ``path`` is a file with something in it: an empty one (``touch``) is no store.

    A read opens only a store that exists; opening an empty file would write a
    schema into it, and the reader would claim what nobody made.
    """
    try:
        return path.is_file() and path.stat().st_size > 0
    except OSError:  # gone since is_file looked
        return False


def on_readonly_media(path: Path) -> bool:
    """Whether ``path`` (or, for a file not yet made, its directory) is on a read-only mount."""
    where = path if path.exists() else path.parent
    try:
        return bool(os.statvfs(where).f_flag & os.ST_RDONLY)
    except OSError:  # missing: the caller's own checks say so
        return False


def harden_files(files: Iterable[Path]) -> None:
    """Keeps a store's files 0600; the libraries' modes are masked by the umask."""
    for f in files:
        if f.exists() and f.stat().st_mode & 0o177:
            log.warning("store file %s had mode %o; setting it to 600", f, f.stat().st_mode & 0o777)
            f.chmod(0o600)
