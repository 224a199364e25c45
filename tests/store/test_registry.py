"""Backends behind one registry: a URL names one, and each declares its limits."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from stigmer.errors import UsageError
from stigmer.store import open_store, registry

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("scheme", sorted(registry.BACKENDS))
def test_every_registered_backend_opens_from_its_url_with_its_declared_limits(
    scheme: str, new_store_url: Callable[[str], str]
) -> None:
    store = open_store(new_store_url(scheme))
    try:
        assert store.url.startswith(f"{scheme}:")
        limits = registry.BACKENDS[scheme].limits
        assert store.limits == limits
        assert limits.chunk > 0 and limits.feed in ("poll", "push")
        assert limits.max_operations is None or limits.max_operations >= limits.chunk
    finally:
        store.close()


def test_a_bare_path_and_a_data_dir_name_the_default_backend(tmp_path: Path) -> None:
    assert registry.resolve(str(tmp_path)) == (registry.BACKENDS[registry.DEFAULT], str(tmp_path))
    backend, rest = registry.resolve(registry.url_at(tmp_path / "a:b"))
    assert (backend.scheme, rest) == (registry.DEFAULT, str(tmp_path / "a:b"))


def test_an_unknown_scheme_is_a_usage_error_naming_the_known_ones() -> None:
    with pytest.raises(UsageError, match="expected lmdb:PATH or sqlite:PATH"):
        open_store("etcdx:/somewhere")


# The CLI's help and examples may show a URL; no other module outside the store
# names a backend, its class or its scheme, nor declares a backend's own options,
# environment or names (a backend's settings are data in the registry).
_NAMES = re.compile(
    r"LmdbStore|SqliteStore|EtcdStore|store\.(lmdbstore|sqlite|etcd\w*)\b|[\"'](lmdb|sqlite|etcd)[\"']"
    r"|--(lmdb|sqlite|etcd)-|STIGMER_(LMDB|SQLITE|ETCD)_|\b(Lmdb|Sqlite|Etcd)[A-Z]"
    # sqlite_master is SQLite's own table, which the upstream import reads.
    r"|\b(lmdb|sqlite|etcd)(options|_(?!master\b)\w+)\b"
)
_URLS = re.compile(r"\b(lmdb|sqlite|etcd):")


def test_no_module_outside_the_store_names_a_backend() -> None:
    found = []
    for path in sorted((ROOT / "stigmer").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith(("stigmer/store/", "stigmer/api/v1/")):
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if _NAMES.search(line) or (_URLS.search(line) and not rel.startswith("stigmer/cli/")):
                found.append(f"{rel}:{n}: {line.strip()}")
    assert found == []


def test_the_cli_takes_each_backends_settings_from_the_registry() -> None:
    from typer.main import get_command

    from stigmer.cli.app import app

    declared = {s.flag: s for group in registry.settings().values() for s in group}
    options = {o: p for p in get_command(app).params for o in p.opts}
    assert declared  # etcd's TLS files and user
    for flag, setting in declared.items():
        assert options[flag].envvar == setting.env
        assert getattr(options[flag], "help", None) == setting.help
