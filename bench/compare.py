"""Apply and get, two installs side by side: the figures of one against the other's.

Run: .venv/bin/python -m bench.compare BEFORE_VENV AFTER_VENV [--rounds N]
Each VENV holds a regular install of stigmer, for example of two commits
(python -m venv V && V/bin/pip install -q CHECKOUT). Every round, each install
in turn (in alternating order, so that the noise of a shared machine falls on
both alike) applies bench.apply's 10,000 agents to a fresh data dir through
its CLI: cold, unchanged and updated; then runs bench.cli's `get` commands on
the store it made (20,000 objects). Each install reads and writes only its own
store, so the two may differ in their store format. Prints the median of each
figure (wall and CPU time) for each install and AFTER's ratio to BEFORE, as one
JSON object on its last line; a first round only warms the caches.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench._common import emit
from bench.apply import write_manifests

APPLIES = {
    "cold_apply_10k": "agents.yaml",
    "reapply_unchanged_10k": "agents.yaml",
    "update_10k": "agents-updated.yaml",
}
GET_ONE = ("get", "agent", "support-agent-5001", "-o", "yaml")
GETS = {"get_one_yaml": GET_ONE, "get_table_10k": ("get", "agents", "-A")}
GETS["get_yaml_10k"] = ("get", "agents", "-A", "-o", "yaml")
GET_ONE_RUNS = 5  # per round: it is short, so the noise of one run counts for more


def seconds(venv: Path, data_dir: Path, *args: str) -> tuple[float, float]:
    """Wall and CPU seconds of one whole `stigmer ARGS` process of ``venv`` on ``data_dir``.

    CPU is user + system time, the parse worker's included; it moves less than
    wall time when other work loads the machine.
    """
    env = dict(os.environ, STIGMER_DATA_DIR=str(data_dir))
    cpu_before = cpu_of_children()
    started = time.perf_counter()
    done = subprocess.run(
        [str(venv / "bin" / "stigmer"), *args],
        env=env,
        cwd=data_dir.parent,  # away from any checkout that python could import from
        capture_output=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{venv}: stigmer {' '.join(args)}: {done.stderr.decode()}")
    return elapsed, cpu_of_children() - cpu_before


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def one_round(venv: Path, tmp: Path, data_dir: Path) -> dict[str, float]:
    """Every figure once (get one agent GET_ONE_RUNS times, its median) for ``venv``."""
    figures: dict[str, float] = {}
    for name, manifest in APPLIES.items():
        wall, cpu = seconds(venv, data_dir, "apply", "-f", str(tmp / manifest))
        figures[f"{name}_wall"], figures[f"{name}_cpu"] = wall, cpu
    for name, args in GETS.items():
        runs = [
            seconds(venv, data_dir, *args) for _ in range(GET_ONE_RUNS if args == GET_ONE else 1)
        ]
        figures[f"{name}_wall"] = statistics.median(wall for wall, _ in runs)
        figures[f"{name}_cpu"] = statistics.median(cpu for _, cpu in runs)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    venvs = (args.before, args.after)
    rounds: dict[Path, list[dict[str, float]]] = {venv: [] for venv in venvs}
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        write_manifests(tmp / "agents.yaml")
        write_manifests(tmp / "agents-updated.yaml", variant="updated")
        for n in range(args.rounds + 1):
            for i, venv in enumerate(venvs) if n % 2 else reversed(list(enumerate(venvs))):
                figures = one_round(venv, tmp, tmp / f"data-{n}-{i}")
                if n:  # round 0 warms the caches
                    rounds[venv].append(figures)
    result: dict[str, object] = {"before": str(args.before), "after": str(args.after)}
    for key in rounds[args.before][0]:
        before, after = (statistics.median(r[key] for r in rounds[v]) for v in venvs)
        result[f"{key}_before_s"] = round(before, 4)
        result[f"{key}_after_s"] = round(after, 4)
        result[f"{key}_ratio"] = round(after / before, 3)
    emit(result)


if __name__ == "__main__":
    main()
