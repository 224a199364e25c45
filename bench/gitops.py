"""GitOps benchmark: edit-to-Ready latency, self-heal, idle cost of serve --watch, resync of 10k.

Run: .venv/bin/python -m bench.gitops [--edits N] [--idle-seconds S]
- Latency: `stigmer sync DIR --watch` runs as its own process; this process
  writes a manifest and polls the store (as another process) until the
  agent carries the edit and is Ready. 50 edits; median and p90.
- Self-heal: against the same watcher, this process commits an out-of-band
  change to the agent (as another user) and polls until the watcher's
  correction has committed. 50 changes; median and p90.
- Idle: `stigmer serve --watch DIR` over 10,000 agents; after it settles,
  CPU time (from /proc) over a quiet window, and its resident memory.
- Resync: the controller's full resync and a directory re-sync of the
  10,000 unchanged agents, each checked to write nothing.
Prints one JSON object on its last line.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench._common import cpu_seconds, emit, rss_mb
from stigmer.controller.controller import Controller
from stigmer.gitops.syncing import Syncer
from stigmer.reconcilers.running import Session
from stigmer.store import Store, open_store

STIGMER = Path(sys.executable).parent / "stigmer"
AGENT = """apiVersion: agentic.stigmer.ai/v1
kind: Agent
metadata:
  name: Agent {i}
  labels: {{edit: "{edit}"}}
spec:
  instructions: Answer questions about topic {i} politely.
"""


def start(args: list[str], data_dir: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, STIGMER_DATA_DIR=str(data_dir))
    return subprocess.Popen(
        [str(STIGMER), *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def wait(condition: object, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise SystemExit("timed out")
        time.sleep(0.001)


def ready_with(store: Store, slug: str, edit: str) -> bool:
    agent = store.find_by_slug("agent", "local", slug)
    if agent is None or agent.metadata.labels.get("edit") != edit:
        return False
    return any(c.type == "Ready" and c.status == "True" for c in agent.status.conditions)


def drift_back(store: Store, n: int) -> float:
    """Seconds from an out-of-band commit to the watcher's correction, as committed."""
    agent = store.get_by_slug("agent", "local", "agent-0")
    wanted = agent.metadata.labels["edit"]
    agent.metadata.labels["edit"] = f"drift-{n}"
    store.put(agent, actor="drifter")
    committed = time.perf_counter()

    def restored() -> bool:
        back = store.find_by_slug("agent", "local", "agent-0")
        return back is not None and back.metadata.labels.get("edit") == wanted

    wait(restored, timeout=30)
    return time.perf_counter() - committed


def latency(tmp: Path, edits: int) -> tuple[list[float], list[float]]:
    repo, data_dir = tmp / "latency-repo", tmp / "latency-data"
    repo.mkdir()
    (repo / "agent.yaml").write_text(AGENT.format(i=0, edit="start"))
    proc = start(["sync", str(repo), "--watch"], data_dir)
    try:
        wait((data_dir / "data.mdb").exists)
        store = open_store(data_dir)
        wait(lambda: ready_with(store, "agent-0", "start"))
        times = []
        for n in range(edits):
            time.sleep(0.02)  # a person's edits are never closer than this
            started = time.perf_counter()
            (repo / "agent.yaml").write_text(AGENT.format(i=0, edit=str(n)))
            wait(lambda n=n: ready_with(store, "agent-0", str(n)), timeout=30)
            times.append(time.perf_counter() - started)
        heals = []
        for n in range(edits):
            time.sleep(0.05)  # one correction at a time
            heals.append(drift_back(store, n))
        store.close()
        return times, heals
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def write_tree(repo: Path, count: int) -> None:
    repo.mkdir()
    per_file = 100
    for f in range(count // per_file):
        docs = [AGENT.format(i=f * per_file + i, edit="0") for i in range(per_file)]
        (repo / f"agents-{f:03d}.yaml").write_text("---\n".join(docs))


def metrics(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        text = r.read().decode()
    pairs = (line.rsplit(" ", 1) for line in text.splitlines() if not line.startswith("#"))
    return {name: float(value) for name, value in pairs}


def settled(port: int) -> bool:
    """The controller has nothing queued and finished no reconcile for a second."""
    before = metrics(port)
    time.sleep(1)
    after = metrics(port)
    done = "stigmer_reconcile_duration_seconds_count"
    return after["stigmer_workqueue_depth"] == 0 and after[done] == before[done]


def idle(tmp: Path, seconds: float) -> tuple[float, float, Path, Path]:
    repo, data_dir = tmp / "idle-repo", tmp / "idle-data"
    write_tree(repo, 10_000)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = start(["serve", "--watch", str(repo), "--health-port", str(port)], data_dir)
    try:
        wait((data_dir / "data.mdb").exists)
        store = open_store(data_dir)
        wait(lambda: store.count("agent_instance") == 10_000, timeout=600)
        store.close()
        wait(lambda: settled(port), timeout=600)  # the feed's 20,000 events worked off
        before, started = cpu_seconds(proc.pid), time.monotonic()
        time.sleep(seconds)
        used = cpu_seconds(proc.pid) - before
        percent = 100 * used / (time.monotonic() - started)
        return percent, rss_mb(proc.pid), repo, data_dir
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def resync(repo: Path, data_dir: Path) -> tuple[float, float]:
    store = open_store(data_dir)
    revision = store.revision()
    controller = Controller(store)
    started = time.perf_counter()
    controller.resync()
    controller_s = time.perf_counter() - started
    syncer = Syncer(store, Session("bench"), repo)
    syncer.sync()  # the watcher's cache after its first sync
    started = time.perf_counter()
    syncer.sync()
    sync_s = time.perf_counter() - started
    if store.revision() != revision:
        raise SystemExit("a resync of unchanged agents wrote something")
    store.close()
    return controller_s, sync_s


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--edits", type=int, default=50)
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        times, heals = latency(tmp, args.edits)
        cpu, rss, repo, data_dir = idle(tmp, args.idle_seconds)
        controller_s, sync_s = resync(repo, data_dir)
    deciles = statistics.quantiles(times, n=10)
    heal_deciles = statistics.quantiles(heals, n=10)
    emit(
        {
            "edit_to_ready_median_ms": round(statistics.median(times) * 1000, 1),
            "edit_to_ready_p90_ms": round(deciles[8] * 1000, 1),
            "self_heal_median_ms": round(statistics.median(heals) * 1000, 1),
            "self_heal_p90_ms": round(heal_deciles[8] * 1000, 1),
            "idle_cpu_percent": round(cpu, 2),
            "rss_mb": round(rss, 1),
            "resync_10k_s": round(controller_s, 3),
            "sync_resync_10k_s": round(sync_s, 3),
        }
    )


if __name__ == "__main__":
    main()
