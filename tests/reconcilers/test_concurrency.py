"""Several real processes applying at once: everything succeeds and converges."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from stigmer.store import open_store
from tests.reconcilers.helpers import assert_converged

ROOT = Path(__file__).resolve().parents[2]


def test_processes_applying_the_same_and_different_agents_all_succeed(data_dir: Path) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.reconcilers._apply_worker", str(data_dir), f"p{n}", "3"],
            cwd=ROOT,
            stderr=subprocess.PIPE,
        )
        for n in range(4)
    ]
    for p in procs:
        _, err = p.communicate(timeout=180)
        assert p.returncode == 0, err.decode()
    store = open_store(data_dir)
    assert store.count("agent") == 10 + 4 * 5
    assert store.count("agent_instance") == 30 + 4  # one default each, one extra per process
    assert_converged(store)
    store.close()
