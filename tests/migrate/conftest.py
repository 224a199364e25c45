"""Fixtures of the migrate tests: an upstream database and a store to import into."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from stigmer.cli.app import app
from stigmer.migrate.importing import CHUNK, Report, import_upstream
from stigmer.reconcilers.running import Session
from stigmer.store import Store
from tests.migrate.upstream import UpstreamDb

Import = Callable[..., Report]
Run = Callable[..., Result]


@pytest.fixture
def upstream(tmp_path: Path) -> UpstreamDb:
    """An empty upstream database at tmp_path/upstream/stigmer.db."""
    (tmp_path / "upstream").mkdir()
    return UpstreamDb(tmp_path / "upstream" / "stigmer.db")


@pytest.fixture
def run_import(lmdb_store: Store, upstream: UpstreamDb) -> Import:
    """``run_import()`` imports ``upstream`` into the LMDB store as alice."""

    def invoke(*, dry_run: bool = False, chunk: int = CHUNK) -> Report:
        session = Session("alice")
        return import_upstream(
            lmdb_store, upstream.path, session=session, dry_run=dry_run, chunk=chunk
        )

    return invoke


@pytest.fixture
def run(data_dir: Path) -> Run:
    """``run("migrate", ...)`` runs the stigmer CLI on the data dir, as alice by default."""

    def invoke(*args: str, user: str = "alice") -> Result:
        return CliRunner().invoke(
            app,
            ["--data-dir", str(data_dir), "--user", user, *args],
            catch_exceptions=False,
        )

    return invoke
