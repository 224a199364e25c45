"""Reading manifests, several installs side by side: CPU time and instruction counts.

Run: .venv/bin/python -m bench.reading NAME=PYTHON[:SRC] ... [--rounds N] [--callgrind]
Each PYTHON is an interpreter that imports stigmer (a venv's bin/python); SRC, when
given, goes first on its path (a `git archive` of another commit). In each round, each
side in turn reads bench.apply's 10,000 agents in a child process: the CPU time
(time.process_time) of reading.read, the collector off as the CLI runs it and the
parse worker off, cold (the process's first read) and warm (its second).
With --callgrind, valgrind also counts the instructions of reading 300 of them, less a
run that reads none, with PYTHONHASHSEED=0: the count does not move with the machine's
load, so a change of 1% shows where CPU time moves by 10%.
Prints each figure's median per side and its ratio to the first side's.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import tempfile
from pathlib import Path

from bench._common import emit
from bench.apply import write_manifests

SAMPLE = 300  # documents read under callgrind, about a minute each
CALLGRIND = ("valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null")

CHILD = """
import gc, sys, time
from stigmer.manifests import reading, worker
worker.available = lambda: False
gc.disable()
if sys.argv[2] == "time":
    for _ in range(2):
        t0 = time.process_time()
        reading.read([sys.argv[1]])
        print(time.process_time() - t0)
else:
    reading.read([sys.argv[3]])  # the warm-up a base run makes too: imports, schemas
    if sys.argv[2] == "read":
        reading.read([sys.argv[1]])
"""


def child_env(src: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if src:
        env["PYTHONPATH"] = src
    return env


def cpu(python: str, src: str, manifest: Path) -> tuple[float, float]:
    """(cold, warm) CPU seconds of reading ``manifest`` in a new process."""
    out = subprocess.run(
        [python, "-c", CHILD, str(manifest), "time"],
        env=child_env(src),
        cwd=manifest.parent,  # away from any checkout that python could import from
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return float(out[0]), float(out[1])


def instructions(python: str, src: str, sample: Path, warm: Path) -> int:
    """What valgrind counts for reading ``sample``, less a run that reads nothing."""
    env = dict(child_env(src), PYTHONHASHSEED="0")

    def count(what: str) -> int:
        done = subprocess.run(
            [*CALLGRIND, python, "-c", CHILD, str(sample), what, str(warm)],
            env=env,
            cwd=sample.parent,
            capture_output=True,
            text=True,
            check=True,
        )
        found = re.search(r"Collected : (\d+)", done.stderr)
        assert found is not None, done.stderr[-500:]
        return int(found[1])

    count("none")  # compiles what changed, so that both counted runs load bytecode
    return count("read") - count("none")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sides", nargs="+", help="NAME=PYTHON[:SRC]")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--callgrind", action="store_true")
    args = parser.parse_args()
    sides = {}
    for side in args.sides:
        name, _, spec = side.partition("=")
        python, _, src = spec.partition(":")
        sides[name] = (python, src)
    with tempfile.TemporaryDirectory() as tmp:
        manifest = Path(tmp) / "agents.yaml"
        write_manifests(manifest)
        docs = manifest.read_text().split("---\n")
        sample, warm = Path(tmp) / "sample.yaml", Path(tmp) / "warm.yaml"
        sample.write_text("---\n".join(docs[:SAMPLE]))
        warm.write_text("---\n".join(docs[SAMPLE : SAMPLE + 10]))
        runs: dict[str, dict[str, list[float]]] = {n: {} for n in sides}
        load = [os.getloadavg()[0]]
        for _ in range(args.rounds):
            for name, (python, src) in sides.items():
                cold, warm_s = cpu(python, src, manifest)
                runs[name].setdefault("read_10k_cold_cpu_s", []).append(cold)
                runs[name].setdefault("read_10k_warm_cpu_s", []).append(warm_s)
        if args.callgrind:
            for name, (python, src) in sides.items():
                count = instructions(python, src, sample, warm)
                runs[name][f"read_{SAMPLE}_instructions"] = [float(count)]
        load.append(os.getloadavg()[0])
    first = next(iter(sides))
    medians = {n: {k: statistics.median(v) for k, v in r.items()} for n, r in runs.items()}
    figures: dict[str, float] = {"load_average_start": load[0], "load_average_end": load[1]}
    for name, found in medians.items():
        for key, value in found.items():
            figures[f"{name}_{key}"] = value
            if name != first:
                figures[f"{name}_{key}_ratio"] = value / medians[first][key]
    emit(figures)


if __name__ == "__main__":
    main()
