"""Apply benchmark: 10,000 Agent manifests (20,000 resources), cold, unchanged and updated.

Run: .venv/bin/python -m bench.apply [--rounds N]
The CLI figures time a regular install of this checkout (see bench/cli.py).
Measures whole `stigmer apply` processes on a fresh data dir, and the same
three steps in-process through stigmer.Client. Prints one JSON object on its
last line. Also checks that the unchanged re-apply commits no write
transaction (LMDB's last transaction id does not move).

For comparison in the same run, the in-process steps are also timed with the
parse worker turned off (``_sequential_s``): reading first, then applying, as
on a machine without a free second core. Their ratio to the worker's figures
holds when the machine's speed moves.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import lmdb

from bench._common import emit
from bench.cli import installed_stigmer
from stigmer.client import Client
from stigmer.manifests import reading


@functools.cache
def stigmer() -> Path:
    """A regular install of this checkout, made on first use (bench.compare imports this module).

    Regular, as users have it: an editable one recompiles its modules on every
    run when PYTHONDONTWRITEBYTECODE is set, as it is on this machine.
    """
    return installed_stigmer(Path(tempfile.gettempdir()) / "stigmer-bench-venv")


MANIFEST = """apiVersion: agentic.stigmer.ai/v1
kind: Agent
metadata:
  name: Support Agent {i}
  labels:
    team: team-{team}
    tier: gold
spec:
  description: Answers customer questions, number {i}.
  instructions: |
    You are a friendly support agent. Look up the customer's tickets before
    answering and cite the documentation you used.
  mcpServers:
    - name: tickets
      stdio:
        command: npx
        args: ["-y", "@acme/tickets-mcp"]
      enabledTools: [search_tickets, get_ticket]
"""


def write_manifests(path: Path, *, variant: str = "") -> None:
    docs = [MANIFEST.format(i=i, team=i % 10) for i in range(10_000)]
    if variant:
        docs = [d.replace("number", f"{variant} number") for d in docs]
    path.write_text("---\n".join(docs))


def last_txnid(data_dir: Path) -> int:
    env = lmdb.open(str(data_dir), max_dbs=10, readonly=True, lock=False)
    try:
        return int(env.info()["last_txnid"])
    finally:
        env.close()


def timed_cli(data_dir: Path, manifest: Path) -> float:
    env = dict(os.environ, STIGMER_DATA_DIR=str(data_dir))
    started = time.perf_counter()
    done = subprocess.run(
        [str(stigmer()), "apply", "-f", str(manifest)], env=env, capture_output=True, check=False
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(done.stderr.decode())
    return elapsed


def timed_inproc(data_dir: Path, manifest: Path) -> float:
    started = time.perf_counter()
    with Client(data_dir) as client:
        report = client.apply_files([manifest])
    elapsed = time.perf_counter() - started
    if not report.ok:
        raise SystemExit("in-process apply failed")
    return elapsed


def timed_sequential(data_dir: Path, manifest: Path) -> float:
    """timed_inproc with the parse worker off: every input counts as small."""
    threshold = reading.PARALLEL_MIN_CHARS
    reading.PARALLEL_MIN_CHARS = 1 << 62
    try:
        return timed_inproc(data_dir, manifest)
    finally:
        reading.PARALLEL_MIN_CHARS = threshold


def one_round(
    tmp: Path, n: int, runner: Callable[[Path, Path], float]
) -> tuple[float, float, float, bool]:
    data_dir = tmp / f"data-{runner.__name__}-{n}"
    cold = runner(data_dir, tmp / "agents.yaml")
    before = last_txnid(data_dir)
    again = runner(data_dir, tmp / "agents.yaml")
    no_commit = last_txnid(data_dir) == before
    update = runner(data_dir, tmp / "agents-updated.yaml")
    return cold, again, update, no_commit


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    result: dict[str, float | bool] = {}
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        write_manifests(tmp / "agents.yaml")
        write_manifests(tmp / "agents-updated.yaml", variant="updated")
        runners = ((timed_cli, "cli"), (timed_inproc, "inproc"), (timed_sequential, "sequential"))
        for runner, suffix in runners:
            runs = [one_round(tmp, n, runner) for n in range(rounds)]
            result[f"cold_apply_10k_{suffix}_s"] = round(statistics.median(r[0] for r in runs), 3)
            result[f"reapply_unchanged_10k_{suffix}_s"] = round(
                statistics.median(r[1] for r in runs), 3
            )
            result[f"update_10k_{suffix}_s"] = round(statistics.median(r[2] for r in runs), 3)
            result[f"reapply_committed_nothing_{suffix}"] = all(r[3] for r in runs)
    for key in ("cold_apply_10k", "reapply_unchanged_10k", "update_10k"):
        ratio = result[f"{key}_inproc_s"] / result[f"{key}_sequential_s"]
        result[f"{key}_worker_to_sequential"] = round(ratio, 2)
    # The issue names the in-process keys with a suffix on the CLI's names.
    for key in ("cold_apply_10k", "reapply_unchanged_10k", "update_10k"):
        result[f"{key}_cli_s_inproc"] = result[f"{key}_inproc_s"]
    emit(result)


if __name__ == "__main__":
    main()
