"""Where the store is: reading never creates or claims one, and bad paths get one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from stigmer import iam
from stigmer.store import open_store
from tests.cli.conftest import EXAMPLES, Run

READS = [
    ("get", "agents"),
    ("get", "agent", "bot"),
    ("describe", "agent", "bot"),
    ("diff", "-f", str(EXAMPLES / "acme-analyst.yaml")),
    ("store", "check"),
    ("store", "dump"),
    ("store", "stats"),
    ("iam", "list"),
    ("agent", "list"),
]


@pytest.mark.parametrize("args", READS, ids=" ".join)
def test_a_read_of_a_missing_data_dir_creates_nothing(
    run: Run, data_dir: Path, args: tuple[str, ...]
) -> None:
    result = run(*args)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: no store at {data_dir} (check --data-dir; a first apply creates it)\n"
    )
    assert not data_dir.exists()


@pytest.mark.parametrize("args", READS[:3], ids=" ".join)
def test_a_read_of_a_missing_sqlite_file_creates_nothing(
    run: Run, tmp_path: Path, args: tuple[str, ...]
) -> None:
    db = tmp_path / "sub" / "store.db"
    result = run("--store", f"sqlite:{db}", *args)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: no store at {db} (check --data-dir; a first apply creates it)\n"
    )
    assert not db.parent.exists()


def _store_option(backend: str, path: Path) -> tuple[str, str]:
    """The global option naming a store of ``backend`` at ``path`` (a data dir or a file)."""
    return ("--data-dir", str(path)) if backend == "lmdb" else ("--store", f"sqlite:{path}")


@pytest.mark.parametrize("backend", ["lmdb", "sqlite"])
def test_a_read_of_an_empty_file_is_no_store_and_leaves_it_untouched(
    run: Run, tmp_path: Path, backend: str
) -> None:
    """``touch e.db``: an empty file is no store; a read writes no schema into it."""
    where = tmp_path / ("dir" if backend == "lmdb" else "e.db")
    data = where / "data.mdb" if backend == "lmdb" else where
    data.parent.mkdir(exist_ok=True)
    data.touch(mode=0o644)
    before = sorted(tmp_path.rglob("*")), data.stat().st_mode
    result = run(*_store_option(backend, where), "get", "agents")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr.endswith(
        f"error: no store at {where} (check --data-dir; a first apply creates it)\n"
    )
    assert (sorted(tmp_path.rglob("*")), data.stat().st_mode) == before
    assert data.stat().st_size == 0


DELETES = [
    ("delete", "agent", "foo"),
    ("delete", "-f", str(EXAMPLES / "acme-analyst.yaml")),
    ("delete", "agents", "-l", "team=a"),
    ("delete", "agents", "--all"),
]


@pytest.mark.parametrize("backend", ["lmdb", "sqlite"])
@pytest.mark.parametrize("args", DELETES, ids=" ".join)
def test_a_delete_on_a_missing_store_creates_nothing(
    run: Run, tmp_path: Path, backend: str, args: tuple[str, ...]
) -> None:
    where = tmp_path / "d1" / ("data" if backend == "lmdb" else "store.db")
    result = run(*_store_option(backend, where), *args)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: no store at {where} (check --data-dir; a first apply creates it)\n"
    )
    assert not (tmp_path / "d1").exists()


def test_a_delete_still_claims_an_existing_store_without_an_owner(run: Run, data_dir: Path) -> None:
    open_store(data_dir).close()  # made by a library, which recorded no owner
    result = run("delete", "agent", "foo", user="bob")
    assert result.stderr == 'error: agent "foo" not found in org "local"\n'
    store = open_store(data_dir)
    try:
        assert iam.owner(store) == "bob"
    finally:
        store.close()


def test_the_first_write_creates_the_store_and_its_user_owns_it(run: Run, data_dir: Path) -> None:
    assert run("get", "agents", user="mallory").exit_code == 1  # claims nothing
    assert run("apply", "-f", str(EXAMPLES), user="bob").exit_code == 0
    store = open_store(data_dir)
    try:
        assert iam.owner(store) == "bob"
    finally:
        store.close()
    assert run("get", "agents", "-A", user="bob").stdout
    assert run("get", "agents", "-A", user="mallory").stdout == ""  # may view no org


@pytest.mark.parametrize("how", ["option", "env"])
def test_the_controller_identity_cannot_be_taken(run: Run, data_dir: Path, how: str) -> None:
    if how == "option":
        result = run("--user", iam.CONTROLLER, "apply", "-f", str(EXAMPLES))
    else:
        result = run("apply", "-f", str(EXAMPLES), user=iam.CONTROLLER)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert f'user "{iam.CONTROLLER}" is the built-in controller' in result.stderr
    assert not data_dir.exists()


@pytest.mark.parametrize("args", [("get", "agents"), ("apply", "-f", str(EXAMPLES))], ids=" ".join)
def test_a_data_dir_that_is_a_file_is_a_usage_error(
    run: Run, tmp_path: Path, args: tuple[str, ...]
) -> None:
    f = tmp_path / "afile"
    f.write_text("not a store\n")
    result = run("--data-dir", str(f), *args)
    assert result.exit_code == 2
    assert result.stderr == f"error: data dir {f} is a file, not a directory (check --data-dir)\n"
    assert f.read_text() == "not a store\n"


@pytest.mark.parametrize("args", [("get", "agents"), ("apply", "-f", str(EXAMPLES))], ids=" ".join)
def test_a_dangling_symlink_data_dir_gets_one_line(
    run: Run, tmp_path: Path, args: tuple[str, ...]
) -> None:
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "gone")
    result = run("--data-dir", str(link), *args)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: data dir {link} is a symlink to {tmp_path / 'gone'}, which does not exist; "
        "create its target or fix --data-dir\n"
    )
    assert not (tmp_path / "gone").exists()
