"""Whole-process time of `stigmer apply -f manifests/examples/` on a fresh data dir.

Run: .venv/bin/python -m bench.apply_process VENV [VENV ...] [--runs N]
Each VENV holds a regular install of stigmer, for example of two commits to
compare (python -m venv V && V/bin/pip install -q CHECKOUT). The installs are
timed in turn within each round, in alternating order, so that the noise of a
shared machine falls on all of them alike. Prints the median of each, in ms,
as one JSON object on its last line; a first round only warms the caches.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench._common import emit

EXAMPLES = Path(__file__).resolve().parents[1] / "manifests" / "examples"


def apply_seconds(venv: Path) -> float:
    with tempfile.TemporaryDirectory() as data_dir:
        env = dict(os.environ, STIGMER_DATA_DIR=data_dir)
        start = time.perf_counter()
        subprocess.run(
            [str(venv / "bin" / "stigmer"), "apply", "-f", str(EXAMPLES)],
            env=env,
            cwd=data_dir,  # away from any checkout that python could import from
            stdout=subprocess.DEVNULL,
            check=True,
        )
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("venvs", nargs="+", type=Path)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    times: dict[Path, list[float]] = {venv: [] for venv in args.venvs}
    for i in range(args.runs + 1):
        order = args.venvs if i % 2 else args.venvs[::-1]
        for venv in order:
            seconds = apply_seconds(venv)
            if i:  # round 0 warms the caches
                times[venv].append(seconds)
    emit({f"{venv}_ms": round(statistics.median(t) * 1000, 1) for venv, t in times.items()})


if __name__ == "__main__":
    main()
