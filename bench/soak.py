"""Soak: the resident memory of `stigmer serve` over 300,000 reconciles under load.

Run: .venv/bin/python -m bench.soak [--agents N] [--changed N] [--resync S]
                                   [--reconciles N] [--env K=V ...]
- `stigmer serve --health-port P --resync S` runs as its own process, as in
  production, over N agents (2N objects, each reconciled by every resync);
  meanwhile this process writes: it re-applies the first --changed agents
  with a new label, round after round, and the controller reconciles each
  change it sees in the feed. The resyncs make the count of reconciles grow
  fast enough for a soak of a few minutes; the writes are the load.
- Every few seconds it reads the reconcile count from /metrics and the
  server's memory from /proc: VmRSS, and its anonymous (heap) and
  file-backed (the store's memory map) parts.
- `--env MALLOC_ARENA_MAX=2` (say) runs the server with that environment, to
  compare allocator settings.
Prints the samples, then one JSON object on its last line with
rss_mb_at_100k and rss_mb_at_300k: the memory the server keeps (the floor of the samples
over the reconciles just before 100k and 300k; see ``_drive``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench._common import emit
from stigmer.client import Client
from stigmer.manifests import loading, reading

STIGMER = Path(sys.executable).parent / "stigmer"
AGENT = """apiVersion: agentic.stigmer.ai/v1
kind: Agent
metadata:
  name: Agent {i}
  labels: {{round: "{round}"}}
spec:
  instructions: Answer questions about topic {i} politely.
"""
MARKS = (100_000, 300_000)


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS and its RssAnon and RssFile parts, in MB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "RssAnon", "RssFile"):
            out[name] = round(int(value.split()[0]) / 1024, 1)
    return out


def reconciles(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        text = r.read().decode()
    for line in text.splitlines():
        if line.startswith("stigmer_reconcile_duration_seconds_count"):
            return int(float(line.rsplit(" ", 1)[1]))
    return 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_serve(
    data_dir: Path, port: int, resync: float, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    full = dict(os.environ, STIGMER_DATA_DIR=str(data_dir), STIGMER_USER="alice", **env)
    return subprocess.Popen(
        [str(STIGMER), "serve", "--health-port", str(port), "--resync", str(resync)],
        env=full,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"serve exited with {proc.returncode}")
        try:
            reconciles(port)
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("serve did not start")


def soak(args: argparse.Namespace, env: dict[str, str]) -> dict[str, object]:
    data_dir = Path(tempfile.mkdtemp(prefix="stigmer-soak-"))
    port = free_port()
    with Client(data_dir, actor="alice") as client:
        client.apply(_round(args.agents, 0))
        proc = start_serve(data_dir, port, args.resync, env)
        try:
            wait_for(port, proc)
            result = _drive(client, proc, port, args.changed, args.reconciles)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    shutil.rmtree(data_dir)
    return {"agents": args.agents, "changed": args.changed, "resync": args.resync} | result


def _round(agents: int, n: int) -> list[reading.Manifest]:
    text = "---\n".join(AGENT.format(i=i, round=n) for i in range(agents))
    return reading.parse_documents(loading.load_text(text, "soak.yaml").documents).manifests


def _drive(
    client: Client, proc: subprocess.Popen[bytes], port: int, changed: int, target: int
) -> dict[str, object]:
    """Applies rounds until ``target`` reconciles are done; samples memory after each round.

    A mark's figures come from the samples over the 10,000 reconciles (a
    tenth of the first mark) up to it. Each resync allocates a batch of
    every object and frees it, so a sample is 0-6 MB above the floor,
    depending on where in that cycle it falls. The floor (the lowest sample)
    is what the process keeps, and what a leak would raise: it is the
    ``rss_mb_at_*`` figure. The peak is reported beside it.
    """
    marks = [m * target // MARKS[-1] for m in MARKS]
    window = marks[0] // 10
    samples: dict[int, list[dict[str, float]]] = {m: [] for m in marks}
    started, n, last_print, done = time.monotonic(), 0, 0.0, 0
    while done < marks[-1]:
        n += 1
        client.apply(_round(changed, n))
        before, done = done, reconciles(port)
        sample = memory_mb(proc.pid)
        for mark in marks:
            if mark - window <= done and before < mark:
                samples[mark].append(sample)
        if time.monotonic() - last_print > 10:
            last_print = time.monotonic()
            print(f"reconciles={done} {sample}", flush=True)
    out: dict[str, object] = {
        "rounds": n,
        "reconciles": done,
        "seconds": round(time.monotonic() - started, 1),
    }
    for mark, label in zip(marks, ("100k", "300k"), strict=True):
        floor = min(samples[mark], key=lambda s: s["VmRSS"])
        out[f"rss_mb_at_{label}"] = floor["VmRSS"]
        out[f"anon_mb_at_{label}"] = floor["RssAnon"]
        out[f"file_mb_at_{label}"] = floor["RssFile"]
        out[f"rss_peak_mb_at_{label}"] = max(s["VmRSS"] for s in samples[mark])
        out[f"samples_at_{label}"] = len(samples[mark])
    first, second = out["rss_mb_at_100k"], out["rss_mb_at_300k"]
    assert isinstance(first, float) and isinstance(second, float)
    out["growth_pct"] = round(100 * (second / first - 1), 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--changed", type=int, default=200, help="agents re-applied per round")
    parser.add_argument("--resync", type=float, default=1.0, help="the server's --resync")
    parser.add_argument("--reconciles", type=int, default=MARKS[-1])
    parser.add_argument("--env", action="append", default=[], help="K=V for the server")
    args = parser.parse_args()
    env = dict(kv.split("=", 1) for kv in args.env)
    emit(soak(args, env) | {"env": env})


if __name__ == "__main__":
    main()
