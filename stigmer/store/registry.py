"""The registry of store backends: a store URL's scheme names one of them.

Each backend declares what the code above the store needs to know of it
(docs/architecture.md, "The Store contract": backends and limits): how many requests
a batch puts in one transaction, the largest transaction it takes, in
operations and bytes, and how its change feed is delivered. Nothing outside
``stigmer/store/`` names a backend: it asks this registry, or the store.

A backend's module is imported only when a store of it is opened, so a
command pays for the one it uses.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NamedTuple

from stigmer.errors import UsageError

if TYPE_CHECKING:
    from stigmer.store.protocol import Store

# "poll": watching reads the feed again from time to time (an embedded store,
# written by other processes); "push": the backend sends each commit (etcd).
FeedDelivery = Literal["poll", "push"]


# A NamedTuple, as Backend below.
class Limits(NamedTuple):
    """What a backend declares of its transactions and its change feed."""

    chunk: int  # requests a batch runs in one write transaction
    max_operations: int | None  # writes one transaction may hold; None: bound by disk only
    max_bytes: int | None  # bytes one transaction may write; None: bound by disk only
    feed: FeedDelivery
    # Reads are round trips to a server: a batch names each chunk's objects to
    # the transaction first (WriteTxn.prefetch), so it reads them at once.
    prefetch: bool = False


class Setting(NamedTuple):
    """A connection setting of a backend, beside its URL: a global option of the CLI.

    The backend reads it from the environment variable ``env``; the CLI's option
    ``flag`` sets that variable, so a command that opens no store of this
    backend pays nothing for it.
    """

    flag: str  # "--NAME", a global option of the CLI
    env: str  # the environment variable the backend reads (and the option's own)
    help: str
    path: bool = False  # the value names a file


# A NamedTuple, not a frozen dataclass: every command that opens a store imports this
# module, and making a frozen dataclass costs some 3.6 M instructions, a NamedTuple 0.7 M.
class Backend(NamedTuple):
    """One backend: its URL scheme, where its class lives, and its limits."""

    scheme: str
    target: str  # "module:Class", imported when a store is opened
    limits: Limits
    data_file: str  # the file that exists when a store does, under the URL's path; "" = the path
    mapped: bool  # whether the process maps data_file into memory (its pages count in RSS)
    remote: bool = False  # a server's, not a file's: no data file, nothing mapped
    settings: tuple[Setting, ...] = ()

    def open(self, path: str, *, create: bool, **options: int) -> Store:
        module, _, name = self.target.partition(":")
        cls = getattr(importlib.import_module(module), name)
        store: Store = cls(path, create=create, **options)
        return store

    def data_path(self, path: str | os.PathLike[str]) -> Path:
        """The file a store at ``path`` keeps its data in."""
        root = Path(path).expanduser()
        return root / self.data_file if self.data_file else root


BACKENDS: dict[str, Backend] = {
    b.scheme: b
    for b in (
        # One LMDB write transaction may span a whole chunk: the map grows
        # as it fills, so only the disk bounds a transaction.
        Backend(
            "lmdb",
            "stigmer.store.lmdbstore:LmdbStore",
            Limits(chunk=2000, max_operations=None, max_bytes=None, feed="poll"),
            data_file="data.mdb",
            mapped=True,
        ),
        Backend(
            "sqlite",
            "stigmer.store.sqlite:SqliteStore",
            Limits(chunk=2000, max_operations=None, max_bytes=None, feed="poll"),
            data_file="",
            mapped=False,
        ),
        # etcd refuses a transaction above 128 operations or 1.5 MiB
        # (--max-txn-ops, --max-request-bytes); an agent's apply writes about a
        # dozen keys (objects, index entries, events), so a chunk is 8 of them.
        Backend(
            "etcd",
            "stigmer.store.etcdstore:EtcdStore",
            Limits(chunk=8, max_operations=128, max_bytes=1536 * 1024, feed="push", prefetch=True),
            data_file="",
            mapped=False,
            remote=True,
            # Its password has no option, only STIGMER_ETCD_PASSWORD: on a command
            # line every user of the machine could read it in the process list.
            settings=(
                Setting("--etcd-ca", "STIGMER_ETCD_CA", "CA file of etcd's TLS.", path=True),
                Setting(
                    "--etcd-cert", "STIGMER_ETCD_CERT", "Client certificate for etcd.", path=True
                ),
                Setting(
                    "--etcd-key", "STIGMER_ETCD_KEY", "Key of the client certificate.", path=True
                ),
                Setting(
                    "--etcd-user",
                    "STIGMER_ETCD_USER",
                    "etcd user (its password from STIGMER_ETCD_PASSWORD).",
                ),
            ),
        ),
    )
}
DEFAULT = "lmdb"  # a bare path, or --data-dir, names a store of this backend


def settings() -> dict[str, tuple[Setting, ...]]:
    """Each backend's connection settings, by scheme (those that have some)."""
    return {s: b.settings for s, b in BACKENDS.items() if b.settings}


def schemes() -> str:
    """The URL forms, for messages: ``lmdb:PATH or sqlite:PATH``."""
    return " or ".join(f"{s}://HOST:PORT" if b.remote else f"{s}:PATH" for s, b in BACKENDS.items())


def resolve(url: str | os.PathLike[str]) -> tuple[Backend, str]:
    """The backend a store URL names, and the rest of the URL (its path).

    A bare path (no known scheme) names the default backend; an unknown
    ``scheme:`` is a usage error, so that a typo does not become a directory.
    """
    text = os.fspath(url)
    scheme, sep, rest = text.partition(":")
    backend = BACKENDS.get(scheme) if sep else None
    if backend is None:
        if sep and scheme.isalpha() and len(scheme) > 1:
            raise UsageError(f'unknown store "{text}": expected {schemes()}')
        backend, rest = BACKENDS[DEFAULT], text
    if not rest:
        raise UsageError(f'store URL "{text}" has no path')
    return backend, rest


def url_at(path: str | os.PathLike[str]) -> str:
    """The URL of a store of the default backend at ``path`` (a data dir)."""
    return f"{DEFAULT}:{os.fspath(path)}"


def mapped_file(url: str) -> Path | None:
    """The file a store at ``url`` maps into memory, if its backend maps one."""
    backend, rest = resolve(url)
    return backend.data_path(rest) if backend.mapped else None


def is_remote(url: str | os.PathLike[str]) -> bool:
    """True when ``url`` names a server's store (etcd), which has no data file to check."""
    return resolve(url)[0].remote


def file_url(path: str | os.PathLike[str]) -> str:
    """The URL of a store kept in one file at ``path`` (the backend whose data is its path)."""
    backend = next(b for b in BACKENDS.values() if not b.data_file and not b.remote)
    return f"{backend.scheme}:{os.fspath(path)}"
