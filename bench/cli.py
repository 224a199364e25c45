"""CLI benchmark: whole-process start-up and bulk output on a store of 10,000 agents.

Run: .venv/bin/python -m bench.cli [--stigmer PATH] [--runs N]
Times whole `stigmer` processes and prints medians as one JSON object on its
last line. By default it builds a regular (non-editable) install of this
checkout in a throwaway venv, because an editable install adds an import
hook (~10 ms) that users do not have; pass --stigmer to time another one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._common import emit, make_agent, make_instance
from stigmer.store import open_store

ROOT = Path(__file__).resolve().parents[1]


def installed_stigmer(venv: Path) -> Path:
    """A venv with a regular install of this checkout (dependencies kept between runs)."""
    exe = venv / "bin" / "stigmer"
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([*pip, str(ROOT)], check=True, capture_output=True)
    else:  # this checkout as it is now
        subprocess.run(
            [*pip, "--no-deps", "--force-reinstall", str(ROOT)], check=True, capture_output=True
        )
    return exe


def fill(data_dir: Path) -> None:
    """10,000 agents and their default instances, in two orgs."""
    store = open_store(data_dir)
    agents = [make_agent(i, org="local" if i % 2 else "acme") for i in range(10_000)]
    store.transact(lambda w: [(w.put(a), w.put(make_instance(a))) for a in agents])
    store.close()


def median_run(cmd: list[str], env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(cmd, env=env, capture_output=True, check=False)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise SystemExit(f"{cmd}: {done.stderr.decode()}")
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stigmer", type=Path, default=None)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    exe = args.stigmer or installed_stigmer(Path(tempfile.gettempdir()) / "stigmer-bench-venv")
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        fill(data_dir)
        env = dict(os.environ, STIGMER_DATA_DIR=str(data_dir))
        one = median_run([str(exe), "get", "agent", "agent-5001", "-o", "yaml"], env, args.runs)
        version = median_run([str(exe), "--version"], env, args.runs)
        table = median_run([str(exe), "get", "agents", "-A"], env, max(args.runs // 3, 3))
        as_yaml = median_run(
            [str(exe), "get", "agents", "-A", "-o", "yaml"], env, max(args.runs // 3, 3)
        )
        # The measured install's own interpreter: this venv's would add its
        # editable-install hook (~10 ms), which the stigmer runs do not pay.
        python = median_run([str(exe.parent / "python"), "-c", "pass"], env, args.runs)
    emit(
        {
            "get_one_yaml_ms": round(one * 1000, 1),
            "version_ms": round(version * 1000, 1),
            "get_table_10k_s": round(table, 3),
            "get_yaml_10k_s": round(as_yaml, 3),
            "python_startup_ms": round(python * 1000, 1),
            "stigmer": str(exe),
        }
    )


if __name__ == "__main__":
    main()
