"""stigmer migrate from-sqlite and stigmer migrate copy, as a user types them."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from stigmer.cli.app import app
from stigmer.store import open_store
from stigmer.store.protocol import MetaRecord, RevisionRecord
from tests.migrate.conftest import Run
from tests.migrate.upstream import (
    UpstreamDb,
    agent_with_default,
    upstream_agent,
    upstream_instance,
)
from tests.reconcilers.helpers import assert_converged

SECRET = "sk-live-0123456789"


def fill(db: UpstreamDb) -> None:
    """An agent with its default, a duplicate of it, one without, a secret, an orphan."""
    first, first_default = agent_with_default(1)
    second, second_default = agent_with_default(2)
    second.metadata.slug, second_default.metadata.slug = "agent-1", "agent-1-default"
    lonely = upstream_agent("agt-lonely", "Lonely", secret=SECRET)
    orphan = upstream_instance("ain-orphan", "agt-gone", slug="left")
    db.add(first, first_default, second, second_default, lonely, orphan)


def test_from_sqlite_prints_every_object_and_a_summary(
    run: Run, upstream: UpstreamDb, data_dir: Path
) -> None:
    fill(upstream)

    result = run("migrate", "from-sqlite", str(upstream.path))

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"source: {upstream.path} (upstream schema version 2)",
        "agent/acme/agent-1 imported",
        "agent/acme/agent-1-2 imported",
        '  renamed from "agent-1": that slug is taken in org "acme" by '
        "agt-00000000000000000000000001",
        "agent/acme/lonely imported",
        '  no default instance "lonely-default"; the reconcile creates one',
        "agentinstance/acme/agent-1-default imported",
        "agentinstance/acme/agent-1-2-default imported",
        '  renamed from "agent-1-default" to follow its agent\'s new slug',
        "agentinstance/acme/left imported",
        '  orphaned: its agent "agt-gone" is not found in org "acme"',
        "agentinstance/acme/lonely-default created by the reconcile",
        "imported 6, updated 0, unchanged 0, skipped 0, failed 0, created 1; renamed 2, orphaned 1",
    ]
    assert SECRET not in result.output
    store = open_store(data_dir)
    assert_converged(store)
    revision = store.revision()

    again = run("migrate", "from-sqlite", str(upstream.path))

    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines()[-1] == (
        "imported 0, updated 0, unchanged 6, skipped 0, failed 0, created 0; renamed 0, orphaned 1"
    )
    assert store.revision() == revision
    store.close()


def test_a_row_that_cannot_be_imported_exits_1_and_is_named(run: Run, upstream: UpstreamDb) -> None:
    upstream.add(*agent_with_default(1))
    upstream.add(upstream_agent("agt-short", "Short", instructions="short", secret=SECRET))

    result = run("migrate", "from-sqlite", str(upstream.path))

    assert result.exit_code == 1
    assert (
        "agent agt-short skipped: spec.instructions: must be at least 10 characters"
        in result.stdout.splitlines()
    )
    assert result.stderr == "error: 1 row could not be imported cleanly; see above\n"
    assert SECRET not in result.output


def test_dry_run_prints_the_plan_and_writes_nothing(
    run: Run, upstream: UpstreamDb, data_dir: Path
) -> None:
    fill(upstream)
    before = upstream.fingerprint()

    result = run("migrate", "from-sqlite", str(upstream.path), "--dry-run")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "agent/acme/agent-1 imported (dry run)" in lines
    assert lines[-1].endswith("renamed 2, orphaned 1 (dry run)")
    assert not any("created" in line for line in lines[:-1])
    store = open_store(data_dir)
    assert list(store.records()) == [RevisionRecord(0), MetaRecord("owner", "alice")]  # IAM's
    store.close()
    assert upstream.fingerprint() == before


def test_the_default_path_is_under_the_home_directory(tmp_path: Path, data_dir: Path) -> None:
    home = tmp_path / "home"
    (home / ".stigmer").mkdir(parents=True)
    db = UpstreamDb(home / ".stigmer" / "stigmer.db")
    db.add(*agent_with_default(1))

    result = CliRunner().invoke(
        app,
        ["--data-dir", str(data_dir), "migrate", "from-sqlite"],
        env={"HOME": str(home), "STIGMER_USER": "alice"},
        catch_exceptions=False,
    )

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == f"source: {db.path} (upstream schema version 2)"


def test_files_that_are_not_upstream_databases_are_clear_errors(run: Run, tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n" * 100)
    empty = tmp_path / "empty.db"
    empty.touch()

    not_sqlite = run("migrate", "from-sqlite", str(text))
    no_table = run("migrate", "from-sqlite", str(empty))
    missing = run("migrate", "from-sqlite", str(tmp_path / "missing.db"))

    assert not_sqlite.exit_code == 1
    assert not_sqlite.stderr.startswith(f"error: {text} is not an SQLite database")
    assert no_table.exit_code == 1
    assert no_table.stderr.startswith(f'error: {empty} is an SQLite database without a "resources"')
    assert missing.exit_code == 1
    assert missing.stderr.startswith(f"error: {tmp_path / 'missing.db'}: no such file")
    assert "Traceback" not in not_sqlite.output + no_table.output + missing.output


def test_copy_backs_up_and_restores_the_current_store(
    run: Run, upstream: UpstreamDb, data_dir: Path, tmp_path: Path
) -> None:
    fill(upstream)
    assert run("migrate", "from-sqlite", str(upstream.path)).exit_code == 0
    backup = tmp_path / "backup" / "stigmer.db"
    restored = tmp_path / "restored"

    saved = run("migrate", "copy", "--to", f"sqlite:{backup}")
    back = run("migrate", "copy", "--from", f"sqlite:{backup}", "--to", f"lmdb:{restored}")

    original = open_store(data_dir)
    revision, events = original.revision(), len(original.events_since(0))
    assert saved.exit_code == 0, saved.output
    assert saved.stdout.splitlines() == [
        f"copied lmdb:{data_dir} to sqlite:{backup}",
        f"revision {revision}: 3 agent, 4 agent_instance, {events} events, "
        f"7 meta values, {len(original.tuples())} tuples",  # meta: the owner, 6 row hashes
        f"store sqlite:{backup} is consistent",
    ]
    assert back.exit_code == 0, back.output
    copy = open_store(restored)
    assert list(copy.records()) == list(original.records())
    assert copy.check() == []
    assert restored.stat().st_mode & 0o777 == 0o700
    assert (restored / "data.mdb").stat().st_mode & 0o777 == 0o600
    assert backup.stat().st_mode & 0o777 == 0o600
    original.close()
    copy.close()


def test_copy_refuses_a_store_that_is_not_empty_itself_or_missing(
    run: Run, upstream: UpstreamDb, data_dir: Path, tmp_path: Path
) -> None:
    upstream.add(*agent_with_default(1))
    assert run("migrate", "from-sqlite", str(upstream.path)).exit_code == 0

    onto_itself = run("migrate", "copy", "--to", str(data_dir))
    into_full = run("migrate", "copy", "--from", f"lmdb:{data_dir}", "--to", f"lmdb:{data_dir}x")
    again = run("migrate", "copy", "--from", f"lmdb:{data_dir}", "--to", f"lmdb:{data_dir}x")
    missing = run("migrate", "copy", "--from", f"lmdb:{tmp_path / 'nope'}", "--to", "lmdb:/x")

    assert onto_itself.exit_code == 2
    assert "cannot copy" in onto_itself.stderr and "onto itself" in onto_itself.stderr
    assert into_full.exit_code == 0, into_full.output
    assert again.exit_code == 1
    assert again.stderr == (
        f"error: destination lmdb:{data_dir}x is not empty; copy into a new path, "
        "or move the existing store aside first\n"
    )
    assert missing.exit_code == 1
    assert missing.stderr.startswith(f"error: no lmdb store at {tmp_path / 'nope'}")
    assert not (tmp_path / "nope").exists()


def test_migrate_needs_admin_of_every_org(run: Run, upstream: UpstreamDb, tmp_path: Path) -> None:
    upstream.add(*agent_with_default(1))
    assert run("migrate", "from-sqlite", str(upstream.path), "--dry-run").exit_code == 0  # owner
    assert run("iam", "grant", "bob", "admin", "--org", "acme").exit_code == 0

    imported = run("migrate", "from-sqlite", str(upstream.path), user="bob")
    copied = run("migrate", "copy", "--to", f"lmdb:{tmp_path / 'backup'}", user="bob")

    denied = 'error: forbidden: user "bob" cannot run migrate: it needs admin of every org\n'
    assert (imported.exit_code, imported.stderr) == (1, denied)
    assert (copied.exit_code, copied.stderr) == (1, denied)
    assert not (tmp_path / "backup").exists()


def test_upstream_version_history_becomes_history_to_roll_back_to(
    run: Run, upstream: UpstreamDb
) -> None:
    """resource_audit rows that decode come in as revisions; one that does not is counted."""
    first = upstream_agent("agt-hist", "Hist", instructions="Version one, from upstream.")
    second = upstream_agent("agt-hist", "Hist", instructions="Version two, from upstream.")
    live = upstream_agent("agt-hist", "Hist", instructions="Version three, the live one.")
    upstream.add(live)
    upstream.archive(first)
    upstream.archive(second)
    other = upstream_agent("agt-other", "Other")
    other.metadata.id = "agt-else"  # archived under agt-hist, but another object's bytes
    upstream.archive(first)  # a third row, but of this object: kept
    db = upstream._connect()
    try:
        db.execute(
            "INSERT INTO resource_audit (kind, resource_id, data) VALUES ('agent', 'agt-hist', ?)",
            (b"\xff\xff not protobuf",),
        )
        db.execute(
            "INSERT INTO resource_audit (kind, resource_id, data) VALUES ('agent', 'agt-hist', ?)",
            (other.SerializeToString(),),
        )
    finally:
        db.close()

    imported = run("migrate", "from-sqlite", str(upstream.path))
    assert imported.exit_code == 0, imported.output
    assert "3 rows of version history (resource_audit) imported as history" in imported.output
    assert "2 rows of version history (resource_audit) not imported" in imported.output

    listed = run("history", "agent", "hist", "--org", "acme")
    assert listed.exit_code == 0, listed.output
    rows = listed.stdout.splitlines()[1:]
    assert [r.split()[0] for r in rows] == ["1", "2", "3"]
    assert "spec.instructions" in rows[1]

    back = run("rollback", "agent", "hist", "--org", "acme", "--to-revision", "2")
    assert back.exit_code == 0, back.output
    store = open_store(upstream.path.parent.parent / "data")
    try:
        agent = store.get("agent", "agt-hist")
        assert agent.spec.instructions == "Version two, from upstream."  # type: ignore[union-attr]
    finally:
        store.close()
