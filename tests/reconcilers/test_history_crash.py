"""History survives a SIGKILL consistently: it is written in the same transaction as the object."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from stigmer.api import kinds
from stigmer.client import Client
from stigmer.errors import NoStore
from stigmer.reconcilers import history
from tests.processes import ROOT, wait_until


def _generation(data_dir: Path) -> int:
    try:
        with Client(data_dir, create=False) as c:
            bot = c.store.find_by_slug("agent", "local", "bot")
            return 0 if bot is None else bot.metadata.generation
    except NoStore:  # none yet, or the editor is making it (its data file still empty)
        return 0


def test_a_killed_editor_leaves_history_in_step_with_the_object(data_dir: Path) -> None:
    editor = subprocess.Popen(
        [sys.executable, "-m", "tests.reconcilers._editing", str(data_dir)],
        cwd=ROOT,
        stderr=subprocess.PIPE,
    )
    try:
        wait_until(lambda: _generation(data_dir) > 15, what="edits", timeout=60)
    finally:
        editor.send_signal(signal.SIGKILL)
        editor.communicate(timeout=20)
    assert editor.returncode == -signal.SIGKILL
    with Client(data_dir, create=False) as c:
        live = c.store.get_by_slug("agent", "local", "bot")
        assert c.store.check() == []
        kept = history.revisions(c.store, kinds.AGENT, live.metadata.id)
    generation = live.metadata.generation
    # Exactly the last ten generations before the live one, each with its own spec.
    assert [r.generation for r in kept] == list(range(generation - 10, generation))
    assert [r.number for r in kept] == list(range(generation - 10, generation))
    for r in kept:
        assert r.object.spec.instructions == f"Edit number {r.generation}."  # type: ignore[union-attr]
        assert r.object.spec.env_spec.data["API_KEY"].value == "sk-keep"  # type: ignore[union-attr]
