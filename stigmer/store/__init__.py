"""Stores: the protocol, its errors, and the backends behind a URL.

``open_store("lmdb:/path")`` (or a bare path) opens the embedded LMDB store,
the default; ``open_store("sqlite:/path/file.db")`` opens the SQLite store in
one database file. The URL's scheme is looked up in stigmer.store.registry,
which imports a backend only when it is opened, so a command pays for the one
it uses.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stigmer.api.kinds import Kind, Resource

# The protocol's types are re-exported, but imported on first use: reading
# needs none of them at run time, and their module builds six dataclasses.
if TYPE_CHECKING:
    from stigmer.store.protocol import Reader, Stats, Store, WriteTxn

__all__ = ["Reader", "Stats", "Store", "WriteTxn", "default_url", "find_named", "open_store"]
_PROTOCOL = ("Reader", "Stats", "Store", "WriteTxn")


def __getattr__(name: str) -> Any:
    """``Reader``, ``Stats``, ``Store`` and ``WriteTxn``, from stigmer.store.protocol."""
    if name not in _PROTOCOL:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from stigmer.store import protocol

    value = getattr(protocol, name)
    globals()[name] = value
    return value


def default_url(data_dir: str | os.PathLike[str] | None = None) -> str:
    """A store at ``data_dir``, else STIGMER_STORE, else at STIGMER_DATA_DIR or ~/.stigmer/data."""
    from stigmer.store import registry

    if data_dir:
        return registry.url_at(data_dir)
    if url := os.environ.get("STIGMER_STORE"):
        return url
    data_dir = os.environ.get("STIGMER_DATA_DIR") or str(Path.home() / ".stigmer" / "data")
    return registry.url_at(data_dir)


def open_store(url: str | os.PathLike[str], *, create: bool = True, **options: int) -> Store:
    """Opens the store at ``url``, through the registry of backends (stigmer.store.registry).

    ``lmdb:DIR``, ``sqlite:FILE``, or a bare path for LMDB. With
    ``create=False`` (what reads use) a missing store raises NoStore and
    nothing is created.
    """
    from stigmer.store import registry

    backend, path = registry.resolve(url)
    return backend.open(path, create=create, **options)


def find_named(reader: Reader, kind: Kind, org: str, name: str) -> Resource | None:
    """The object a name refers to: its slug in ``org``, or else its id."""
    obj = reader.find_by_slug(kind.key, org, name)
    if obj is None and name.startswith(f"{kind.id_prefix}-"):
        obj = reader.find(kind.key, name)
    return obj
