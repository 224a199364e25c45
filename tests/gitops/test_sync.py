"""GitOps sync with real directories, real files and real processes."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from stigmer.client import Client
from stigmer.errors import NoStore
from stigmer.gitops.syncing import SOURCE, SOURCE_PATH, Syncer, source_id
from tests.factories import as_agent
from tests.processes import ROOT, start, stigmer, wait_until
from tests.reconcilers.helpers import assert_converged

AGENT = """apiVersion: agentic.stigmer.ai/v1
kind: Agent
metadata:
  name: {name}
  labels: {{team: {team}}}
spec:
  instructions: {instructions}
"""


def write_agent(
    path: Path, name: str, *, team: str = "a", instructions: str = "Help people well."
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(AGENT.format(name=name, team=team, instructions=instructions))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A directory of manifests: the examples plus a nested agent."""
    d = tmp_path / "repo"
    shutil.copytree(ROOT / "manifests" / "examples", d)
    write_agent(d / "team" / "nested.yaml", "Nested Agent")
    return d


def agent_slugs(data_dir: Path) -> set[str]:
    try:
        with Client(data_dir, create=False) as c:  # a read: it must not claim the store first
            return {a.metadata.slug for a in c.store.list("agent")}
    except NoStore:  # none yet, or another process is making it (its data file still empty)
        return set()


def test_sync_applies_the_tree_once_and_records_the_source(repo: Path, data_dir: Path) -> None:
    done = stigmer("sync", str(repo), data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    assert "team/nested.yaml: agent/nested-agent created" in done.stdout
    assert "support-agent-eu.yaml: agentinstance/support-agent-eu created" in done.stdout
    assert agent_slugs(data_dir) == {
        "support-agent",
        "code-reviewer",
        "data-analyst",
        "nested-agent",
    }
    with Client(data_dir) as c:
        nested = c.store.get_by_slug("agent", "local", "nested-agent")
        assert nested.metadata.annotations[SOURCE] == source_id(repo)
        assert nested.metadata.annotations[SOURCE_PATH] == "team/nested.yaml"
        assert_converged(c.store)
    again = stigmer("sync", str(repo), data_dir=data_dir)
    assert again.returncode == 0 and "created" not in again.stdout and "unchanged" in again.stdout


def test_a_broken_file_fails_the_sync_but_not_the_others(repo: Path, data_dir: Path) -> None:
    (repo / "broken.yaml").write_text(
        "apiVersion: agentic.stigmer.ai/v1\nkind: Agent\nmetadata: {name: [\n"
    )
    done = stigmer("sync", str(repo), data_dir=data_dir)
    assert done.returncode == 1
    assert done.stderr.startswith("broken.yaml:4:1: did not find expected node content")
    assert len(agent_slugs(data_dir)) == 4


def test_drift_is_set_back_on_the_next_sync(repo: Path, data_dir: Path, tmp_path: Path) -> None:
    stigmer("sync", str(repo), data_dir=data_dir)
    outside = tmp_path / "outside.yaml"
    write_agent(
        outside, "Nested Agent", team="hijacked", instructions="Somebody else's instructions."
    )
    assert stigmer("apply", "-f", str(outside), data_dir=data_dir).returncode == 0
    done = stigmer("sync", str(repo), data_dir=data_dir)
    assert "team/nested.yaml: agent/nested-agent configured" in done.stdout
    with Client(data_dir) as c:
        nested = as_agent(c.store.get_by_slug("agent", "local", "nested-agent"))
        assert nested.metadata.labels["team"] == "a"
        assert nested.spec.instructions == "Help people well."


def test_prune_deletes_only_what_this_directory_stopped_declaring(
    repo: Path, data_dir: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    write_agent(other / "mine.yaml", "Other Source")
    assert stigmer("sync", str(other), data_dir=data_dir).returncode == 0
    write_agent(tmp_path / "by-hand.yaml", "By Hand")
    assert stigmer("apply", "-f", str(tmp_path / "by-hand.yaml"), data_dir=data_dir).returncode == 0
    assert stigmer("sync", str(repo), "--prune", data_dir=data_dir).returncode == 0
    (repo / "team" / "nested.yaml").unlink()
    (repo / "acme-analyst.yaml").unlink()
    done = stigmer("sync", str(repo), "--prune", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    assert "agent/nested-agent pruned" in done.stdout and "agent/data-analyst pruned" in done.stdout
    assert agent_slugs(data_dir) == {"support-agent", "code-reviewer", "other-source", "by-hand"}
    with Client(data_dir) as c:
        assert_converged(c.store)  # the pruned agents' instances went with them


def test_a_parse_error_never_prunes_the_files_objects(repo: Path, data_dir: Path) -> None:
    assert stigmer("sync", str(repo), "--prune", data_dir=data_dir).returncode == 0
    (repo / "team" / "nested.yaml").write_text("kind: Agent\nmetadata: {name: Nested Agent\n")
    done = stigmer("sync", str(repo), "--prune", data_dir=data_dir)
    assert done.returncode == 1 and "pruned" not in done.stdout
    assert "nested-agent" in agent_slugs(data_dir)


def test_a_missing_directory_is_refused_and_nothing_is_pruned(repo: Path, data_dir: Path) -> None:
    assert stigmer("sync", str(repo), "--prune", data_dir=data_dir).returncode == 0
    shutil.rmtree(repo)
    done = stigmer("sync", str(repo), "--prune", data_dir=data_dir)
    assert done.returncode == 1
    assert "missing or not a directory" in done.stderr and "nothing synced or pruned" in done.stderr
    assert len(agent_slugs(data_dir)) == 4


def test_editor_leftovers_are_ignored(repo: Path, data_dir: Path) -> None:
    (repo / ".nested.yaml.swp").write_bytes(b"\x00\x01 swap file")
    (repo / "nested.yaml~").write_text("not: a manifest")
    (repo / ".#lock.yaml").write_text("garbage: [")
    done = stigmer("sync", str(repo), data_dir=data_dir)
    assert done.returncode == 0 and done.stderr == ""


def test_sync_status_shows_files_objects_revisions_and_errors(repo: Path, data_dir: Path) -> None:
    stigmer("sync", str(repo), data_dir=data_dir)
    (repo / "team" / "nested.yaml").write_text("kind: Agent\n")
    stigmer("sync", str(repo), data_dir=data_dir)
    done = stigmer("sync", "status", str(repo), data_dir=data_dir)
    assert done.returncode == 0
    lines = {line.split()[0]: line for line in done.stdout.splitlines()[1:]}
    assert "agent/code-reviewer" in lines["code-reviewer.yaml"]
    assert "<none>" in lines["code-reviewer.yaml"].split("agent/code-reviewer")[1]
    assert "team/nested.yaml" in lines and "required field is missing" in lines["team/nested.yaml"]
    assert stigmer("sync", "status", str(repo.parent / "never"), data_dir=data_dir).returncode == 1


def stop(proc: subprocess.Popen[str]) -> str:
    """Stops a watcher as Ctrl-C does; the bound is generous for a machine under load."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    out, _ = proc.communicate()
    return out


def test_watch_follows_creates_edits_and_deletes(repo: Path, data_dir: Path) -> None:
    watcher = start("sync", str(repo), "--watch", "--prune", data_dir=data_dir)
    try:
        wait_until(
            lambda: (data_dir / "data.mdb").exists() and "nested-agent" in agent_slugs(data_dir),
            what="the first sync",
            proc=watcher,
        )
        write_agent(repo / "new.yaml", "Fresh Agent")
        wait_until(lambda: "fresh-agent" in agent_slugs(data_dir), what="the new agent")
        with Client(data_dir) as c:
            wait_until(
                lambda: c.store.find_by_slug("agent_instance", "local", "fresh-agent-default")
            )
        write_agent(repo / "new.yaml", "Fresh Agent", team="edited")

        def edited() -> bool:
            with Client(data_dir) as c:
                return (
                    c.store.get_by_slug("agent", "local", "fresh-agent").metadata.labels["team"]
                    == "edited"
                )

        wait_until(edited, what="the edit")
        # An editor's save: write a temp file, then rename it over the manifest.
        tmp = repo / ".new.yaml.tmp"
        write_agent(tmp, "Fresh Agent", team="renamed")
        tmp.rename(repo / "new.yaml")
        wait_until(lambda: not edited(), what="the rename-save")
        (repo / "new.yaml").unlink()
        wait_until(lambda: "fresh-agent" not in agent_slugs(data_dir), what="the prune")
        (repo / "team" / "nested.yaml").write_text("kind: Agent\nmetadata: {name: [\n")
        write_agent(repo / "later.yaml", "Later Agent")
        wait_until(
            lambda: "later-agent" in agent_slugs(data_dir), what="a sync after the broken file"
        )
        assert "nested-agent" in agent_slugs(data_dir)  # its file is broken, not gone
    finally:
        stop(watcher)
    with Client(data_dir) as c:
        assert_converged(c.store)


def test_serve_watch_runs_the_controller_and_the_sync_together(repo: Path, data_dir: Path) -> None:
    serve = start("serve", "--watch", str(repo), data_dir=data_dir)
    try:
        wait_until(
            lambda: (data_dir / "data.mdb").exists() and "nested-agent" in agent_slugs(data_dir),
            what="the first sync",
            proc=serve,
        )
        with Client(data_dir) as c:
            inst = c.store.get_by_slug("agent_instance", "local", "nested-agent-default")
            c.store.delete("agent_instance", inst.metadata.id)
            wait_until(
                lambda: c.store.find_by_slug("agent_instance", "local", "nested-agent-default")
            )
        write_agent(repo / "two.yaml", "Second Agent")
        wait_until(lambda: "second-agent" in agent_slugs(data_dir), what="the watched file")
    finally:
        stop(serve)


def test_a_watcher_outlives_a_file_the_store_refuses(repo: Path, data_dir: Path) -> None:
    """A name too long for an LMDB key fails that file alone; the watcher keeps applying."""
    Client(data_dir, actor="alice").close()  # alice owns the store, whoever reads it first
    watcher = start("sync", str(repo), "--watch", data_dir=data_dir)
    try:
        wait_until(
            lambda: (data_dir / "data.mdb").exists() and "nested-agent" in agent_slugs(data_dir),
            what="the first sync",
            proc=watcher,
        )
        write_agent(repo / "long.yaml", "x" * 600)
        write_agent(repo / "after.yaml", "After Agent")
        wait_until(
            lambda: "after-agent" in agent_slugs(data_dir), what="a later file", proc=watcher
        )
        write_agent(repo / "later.yaml", "Later Agent")
        wait_until(
            lambda: "later-agent" in agent_slugs(data_dir), what="a later sync", proc=watcher
        )
        assert watcher.poll() is None
    finally:
        out = stop(watcher)
    assert "long.yaml" not in out  # refused: on stderr, never reported as applied
    assert "x" * 600 not in agent_slugs(data_dir)


@pytest.fixture
def linked_repo(repo: Path, tmp_path: Path) -> Path:
    """The repo plus links: one to /etc/passwd, one to a manifest outside, one inside."""
    write_agent(tmp_path / "elsewhere" / "outside.yaml", "Outside Agent")
    (repo / "passwd.yaml").symlink_to("/etc/passwd")
    (repo / "outside.yaml").symlink_to(tmp_path / "elsewhere" / "outside.yaml")
    write_agent(repo / "kept" / "inside.txt", "Inside Agent")  # not a manifest name itself
    (repo / "alias.yaml").symlink_to(repo / "kept" / "inside.txt")
    return repo


def test_sync_skips_files_that_link_out_of_its_tree(linked_repo: Path, data_dir: Path) -> None:
    done = stigmer("sync", str(linked_repo), data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        f"sync: skipped {rel}: it links to {os.path.realpath(linked_repo / rel)}, "
        f"outside {linked_repo} (--follow-symlinks reads it)"
        for rel in ("outside.yaml", "passwd.yaml")
    ]
    assert "root:" not in done.stdout + done.stderr
    assert "outside-agent" not in agent_slugs(data_dir)
    assert "alias.yaml: agent/inside-agent created" in done.stdout  # a link within the tree


def test_follow_symlinks_reads_files_outside_the_tree(linked_repo: Path, data_dir: Path) -> None:
    (linked_repo / "passwd.yaml").unlink()
    done = stigmer("sync", str(linked_repo), "--follow-symlinks", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    assert "outside.yaml: agent/outside-agent created" in done.stdout
    assert "skipped" not in done.stderr


def test_a_link_out_of_the_tree_is_told_once_per_syncer(linked_repo: Path, data_dir: Path) -> None:
    with Client(data_dir, actor="alice") as c:
        syncer = Syncer(c.store, c._session(), linked_repo)
        assert len(syncer.sync().skipped) == 2
        assert syncer.sync().skipped == []
        assert syncer.sync({"outside.yaml"}).skipped == []


def test_watch_sets_back_an_out_of_band_change_from_the_feed(repo: Path, data_dir: Path) -> None:
    """Another actor's write comes through the change feed; no resync falls in the window."""
    watcher = start("sync", str(repo), "--watch", "--resync", "3600", data_dir=data_dir)
    try:
        wait_until(
            lambda: (data_dir / "data.mdb").exists() and "nested-agent" in agent_slugs(data_dir),
            what="the first sync",
            proc=watcher,
        )

        def team() -> str:
            with Client(data_dir, create=False) as c:
                return c.store.get_by_slug("agent", "local", "nested-agent").metadata.labels["team"]

        with Client(data_dir, create=False) as c:
            drifted = c.store.get_by_slug("agent", "local", "nested-agent")
            drifted.metadata.labels["team"] = "drifted"
            c.store.put(drifted, actor="mallory")
        wait_until(lambda: team() == "a", what="the change set back", proc=watcher)
    finally:
        stop(watcher)
