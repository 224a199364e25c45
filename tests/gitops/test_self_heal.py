"""Self-heal: a watching sync sets back out-of-band changes as their events commit.

Real processes throughout: ``stigmer sync --watch`` (or ``serve --watch``)
runs with a resync of an hour, so no resync tick falls in a test's window;
the out-of-band changes are made with the CLI, as the same user and as
another, the way people make them.
"""

from __future__ import annotations

import signal
import subprocess
import urllib.request
from pathlib import Path

from stigmer.client import Client
from tests.gitops.test_sync import agent_slugs, write_agent
from tests.processes import start, stigmer, wait_until

NO_RESYNC = ("--resync", "3600")


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    write_agent(repo / "bot.yaml", "Bot", instructions="Help people well.")
    write_agent(repo / "other.yaml", "Other", instructions="Help others well.")
    return repo


def _instructions(data_dir: Path) -> str | None:
    with Client(data_dir, create=False) as c:
        bot = c.store.find_by_slug("agent", "local", "bot")
        return None if bot is None else bot.spec.instructions  # type: ignore[union-attr]


def _started(proc: subprocess.Popen[str], data_dir: Path) -> None:
    wait_until(
        lambda: (data_dir / "data.mdb").exists() and "other" in agent_slugs(data_dir),
        what="the first sync",
        proc=proc,
    )


def _stop(proc: subprocess.Popen[str]) -> str:
    """Stops the watcher as Ctrl-C does; returns what it logged on stderr."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    _, err = proc.communicate()
    return err


def _drift(tmp_path: Path, data_dir: Path, user: str = "alice") -> None:
    """A manual apply of an edited copy of bot.yaml, from outside the synced tree."""
    path = tmp_path / "manual.yaml"
    write_agent(path, "Bot", instructions="Do something else entirely.")
    done = stigmer("apply", "-f", str(path), data_dir=data_dir, user=user)
    assert done.returncode == 0, done.stderr


def test_manual_apply_edit_rollback_and_delete_are_set_back(tmp_path: Path, data_dir: Path) -> None:
    repo = _repo(tmp_path)
    watcher = start("sync", str(repo), "--watch", *NO_RESYNC, data_dir=data_dir)
    try:
        _started(watcher, data_dir)
        wanted = "Help people well."
        # The same user as the sync: its manual apply is drift all the same.
        _drift(tmp_path, data_dir)
        wait_until(lambda: _instructions(data_dir) == wanted, what="apply set back", proc=watcher)
        # A rollback to the drifted spec is drift too.
        back = stigmer("rollback", "agent", "bot", data_dir=data_dir)
        assert back.returncode == 0, back.stderr
        wait_until(lambda: _instructions(data_dir) == wanted, what="rollback set back")
        # A delete, by another user with the right to delete.
        assert stigmer("iam", "grant", "bob", "editor", data_dir=data_dir).returncode == 0
        gone = stigmer("delete", "agent", "bot", data_dir=data_dir, user="bob")
        assert gone.returncode == 0, gone.stderr
        wait_until(lambda: _instructions(data_dir) == wanted, what="delete set back")
    finally:
        err = _stop(watcher)
    heals = [line for line in err.splitlines() if "self-heal: agent/bot set back" in line]
    assert len(heals) == 3, err
    assert "changed by bob" in heals[-1]
    with Client(data_dir, create=False) as c:  # three corrections, each a write by the sync
        assert c.store.get_by_slug("agent", "local", "bot").spec.instructions == wanted  # type: ignore[union-attr]


def test_no_self_heal_leaves_drift_to_the_resync(tmp_path: Path, data_dir: Path) -> None:
    repo = _repo(tmp_path)
    watcher = start("sync", str(repo), "--watch", "--no-self-heal", *NO_RESYNC, data_dir=data_dir)
    try:
        _started(watcher, data_dir)
        _drift(tmp_path, data_dir, user="alice")
        # A file change after the drift: once it is synced, the loop has read past the drift.
        write_agent(repo / "other.yaml", "Other", instructions="Help others even better.")

        def other_synced() -> bool:
            with Client(data_dir, create=False) as c:
                other = c.store.get_by_slug("agent", "local", "other")
                return other.spec.instructions == "Help others even better."  # type: ignore[union-attr]

        wait_until(other_synced, what="the later file change", proc=watcher)
        assert _instructions(data_dir) == "Do something else entirely."
    finally:
        err = _stop(watcher)
    assert "self-heal" not in err


def test_serve_watch_counts_corrections_in_metrics(
    tmp_path: Path, data_dir: Path, unused_port: int
) -> None:
    repo = _repo(tmp_path)
    serve = start(
        "serve",
        "--watch",
        str(repo),
        *NO_RESYNC,
        "--health-port",
        str(unused_port),
        data_dir=data_dir,
    )
    url = f"http://127.0.0.1:{unused_port}/metrics"

    def heals() -> str:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                text: str = r.read().decode()
        except OSError:
            return ""
        return next(
            (line for line in text.splitlines() if line.startswith("stigmer_self_heal")), ""
        )

    try:
        _started(serve, data_dir)
        wait_until(lambda: heals() == "stigmer_self_heal_total 0", what="/metrics", proc=serve)
        _drift(tmp_path, data_dir, user="alice")
        wait_until(lambda: _instructions(data_dir) == "Help people well.", what="set back")
        wait_until(lambda: heals() == "stigmer_self_heal_total 1", what="the count", proc=serve)
    finally:
        _stop(serve)
