"""etcd benchmark (issue 18): apply through the CLI, get by slug, watch delivery, failover.

Run: .venv/bin/python -m bench.etcd [--rounds N] [--gets N] [--events N] [--kills N]
Starts a real etcd on free loopback ports, its data dir under /dev/shm, as the
tests do (tests/etcdserver.py), and stops it by its PID at the end.
- apply_1000_cli_s: `stigmer --store etcd://... apply -f` of 1,000 agents
  into a fresh prefix, a whole process of a regular install of this checkout
  (bench/cli.py); the median of --rounds. ``lmdb_apply_1000_cli_s`` is the
  same apply into a fresh LMDB data dir, in the same run, for comparison.
- get_by_slug_p50_ms: Store.find_by_slug of one of those agents, in-process.
- watch_delivery_median_ms: from the return of a write (its commit) in this
  process to the arrival of its event at a watch of another store handle;
  ``watch_delivery_from_send_median_ms`` counts from the write's start.
- failover_s: two `stigmer serve` replicas; from the SIGKILL of a leader that
  has led for 3-5 s until the other's /healthz names itself as the leader (the
  lease is 15 s); the median of --kills kills, and ``failover_max_s`` the worst.
With ``--baseline PATH`` (the ``stigmer`` of another install, such as one of
an older commit), the apply is also timed with it in the same rounds, as
``baseline_apply_1000_cli_s``.
Prints one JSON object on its last line, with the load average.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import queue
import random
import signal
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from bench._common import emit, make_agent, timings
from bench.apply import MANIFEST
from bench.cli import installed_stigmer
from stigmer.store import open_store
from tests.etcdserver import EtcdServer, free_port

AGENTS = 1000
ROOT = Path(__file__).resolve().parents[1]
# A venv of this checkout's own: other worktrees on the machine install theirs into
# bench.apply's shared one.
VENV = Path(tempfile.gettempdir()) / f"stigmer-bench-venv-{ROOT.name}"


def timed_apply(exe: Path, store_url: str, manifest: Path) -> float:
    env = dict(os.environ, STIGMER_STORE=store_url, STIGMER_USER="bench")
    started = time.perf_counter()
    done = subprocess.run(
        [str(exe), "apply", "-f", str(manifest)], env=env, capture_output=True, check=False
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(done.stderr.decode())
    return elapsed


def get_by_slug_ms(store_url: str, gets: int) -> float:
    with contextlib.closing(open_store(store_url)) as store:
        slugs = [f"support-agent-{i % AGENTS}" for i in range(gets)]
        it = iter(slugs)
        times = timings(lambda: store.find_by_slug("agent", "local", next(it)), gets)
    return statistics.median(times) * 1000


def watch_delivery_ms(store_url: str, events: int) -> tuple[float, float]:
    """Median ms from a put's return to its event at another handle's watch, and from its send.

    The commit happens between the two: etcd may deliver the event before
    the writer has its reply, so the first figure can be below zero.
    """
    arrived: queue.Queue[float] = queue.Queue()
    stop = threading.Event()
    with (
        contextlib.closing(open_store(store_url)) as writer,
        contextlib.closing(open_store(store_url)) as watcher,
    ):
        feed = watcher.watch(stop=stop, heartbeat=0.1)

        def follow() -> None:
            for batch in feed:
                if batch:
                    arrived.put(time.perf_counter())
                if stop.is_set():
                    return

        thread = threading.Thread(target=follow, daemon=True)
        thread.start()
        time.sleep(0.5)  # the watch is open
        delays, from_send = [], []
        for n in range(events):
            agent = make_agent(100_000 + n)
            sent = time.perf_counter()
            writer.put(agent)
            committed = time.perf_counter()
            got = arrived.get(timeout=10)
            delays.append(got - committed)
            from_send.append(got - sent)
            time.sleep(0.02)
        stop.set()
        thread.join(timeout=5)
    return statistics.median(delays) * 1000, statistics.median(from_send) * 1000


def _health(port: int) -> str:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as reply:
            return str(reply.read().decode())
    except OSError:
        return ""


def _wait(condition: object, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.02)


def failover_s(exe: Path, store_url: str, data_dir: Path, kills: int) -> list[float]:
    """Seconds from each SIGKILL of the leader until the other replica leads.

    Each leader is killed after it has led for 3-5 s (a random time, so the
    kill falls anywhere in its 2 s renewal period, as a crash would), and a
    fresh replica takes the killed one's place before the next kill.
    """
    env = dict(os.environ, STIGMER_DATA_DIR=str(data_dir), STIGMER_LISTEN="none")
    ports = [free_port(), free_port()]

    def replica(port: int) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [str(exe), "--store", store_url, "serve", "--health-port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    replicas = [replica(port) for port in ports]

    def leader() -> int | None:
        """The index of the replica that leads, as both replicas' /healthz say."""
        said = [_health(port) for port in ports]
        for n, proc in enumerate(replicas):
            if all(f"leader: pid {proc.pid} " in text for text in said):
                return n
        return None

    times: list[float] = []
    try:
        for _ in range(kills):
            _wait(lambda: leader() is not None, "a leader")
            first = leader()
            assert first is not None
            time.sleep(random.uniform(3.0, 5.0))
            replicas[first].send_signal(signal.SIGKILL)
            killed = time.perf_counter()
            replicas[first].wait()
            wanted, port = f"leader: pid {replicas[1 - first].pid} ", ports[1 - first]
            _wait(lambda w=wanted, p=port: w in _health(p), "the takeover")
            times.append(time.perf_counter() - killed)
            replicas[first] = replica(ports[first])
        return times
    finally:
        for proc in replicas:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--gets", type=int, default=1000)
    parser.add_argument("--events", type=int, default=50)
    parser.add_argument("--baseline", type=Path, default=None)
    parser.add_argument("--kills", type=int, default=5)
    args = parser.parse_args()
    exe = installed_stigmer(VENV)
    etcd = EtcdServer()
    etcd.start()
    try:
        with tempfile.TemporaryDirectory() as name:
            tmp = Path(name)
            manifest = tmp / "agents.yaml"
            docs = (MANIFEST.format(i=i, team=i % 10) for i in range(AGENTS))
            manifest.write_text("---\n".join(docs))
            etcd_runs, lmdb_runs, base_runs, urls = [], [], [], []
            for n in range(args.rounds):  # side by side, so the load hits them alike
                urls.append(etcd.url())
                etcd_runs.append(timed_apply(exe, urls[-1], manifest))
                lmdb_runs.append(timed_apply(exe, f"lmdb:{tmp / f'data-{n}'}", manifest))
                if args.baseline is not None:
                    base_runs.append(timed_apply(args.baseline, etcd.url(), manifest))
            delivery, from_send = watch_delivery_ms(urls[0], args.events)
            failovers = failover_s(exe, etcd.url(), tmp / "serve", args.kills)
            result: dict[str, object] = {
                "apply_1000_cli_s": round(statistics.median(etcd_runs), 3),
                "lmdb_apply_1000_cli_s": round(statistics.median(lmdb_runs), 3),
                "get_by_slug_p50_ms": round(get_by_slug_ms(urls[0], args.gets), 3),
                "watch_delivery_median_ms": round(delivery, 2),
                "watch_delivery_from_send_median_ms": round(from_send, 2),
                "failover_s": round(statistics.median(failovers), 2),
                "failover_max_s": round(max(failovers), 2),
                "load_average_1m": round(os.getloadavg()[0], 2),
            }
            if base_runs:
                result["baseline_apply_1000_cli_s"] = round(statistics.median(base_runs), 3)
    finally:
        etcd.close()
    emit(result)


if __name__ == "__main__":
    main()
