"""The API server over loopback, beside the local Client on the same work (issue 17).

    .venv/bin/python -m bench.api [--agents N] [--before PYTHON]

Starts ``stigmer serve --listen 127.0.0.1:0`` on a fresh data dir and measures:
apply (agent plus default instance, one agent a call) with 16 calls at once from one
asyncio client (its rate, and the client's CPU per call), get by id the same way
(rate and p99), how long a committed change takes to reach a remote watcher, and the
server's RSS once it holds 10,000 agents. The local Client applies the same agents,
one a call from 16 threads, for comparison.
``health_per_s`` is the same client calling the server's health check, a call that
does no work: the ceiling of gRPC itself on this machine at this moment.

``--before PYTHON`` also starts the ``stigmer serve`` of another install (the python of
its venv; run from a directory away from any checkout) on a data dir of its own, and
measures its apply and get beside this one's in the same run, in turn: ``before_*``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1.health_pb2 import HealthCheckRequest, HealthCheckResponse

from bench._common import emit, rss_mb
from stigmer.api.kinds import AGENT
from stigmer.api.v1.agent_pb2 import Agent
from stigmer.api.v1.stigmer_service_pb2 import WatchEvent, WatchRequest
from stigmer.api.v1.upstream_apiresource_pb2 import ApiResourceId
from stigmer.client import Client

APPLY = "/ai.stigmer.agentic.agent.v1.AgentCommandController/apply"
GET = "/ai.stigmer.agentic.agent.v1.AgentQueryController/get"
WATCH = "/stigmer.api.v1.Stigmer/Watch"
HEALTH = "/grpc.health.v1.Health/Check"
CLIENTS = 16


def agent(name: str) -> Agent:
    a = AGENT.new()
    assert isinstance(a, Agent)
    a.metadata.name = name
    a.spec.instructions = "You are a helpful support agent. Answer briefly and cite sources."
    a.spec.description = "Benchmark agent"
    return a


def start_server(data_dir: Path, python: str = sys.executable) -> tuple[subprocess.Popen[str], str]:
    env = dict(os.environ, STIGMER_DATA_DIR=str(data_dir), STIGMER_USER="bench")
    proc = subprocess.Popen(
        [python, "-m", "stigmer", "serve", "--listen", "127.0.0.1:0"],
        env=env,
        cwd=data_dir.parent if python != sys.executable else None,  # its install, no checkout
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if match := re.search(r"API listening on (\S+)", line):
            threading.Thread(target=proc.stderr.read, daemon=True).start()  # drain
            return proc, match[1]
    raise SystemExit("serve did not start")


def in_threads(n: int, work: Callable[[int], None]) -> float:
    """Runs ``work(i)`` for i in range(n) on n threads; the wall time."""
    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


def remote_apply(address: str, md: Any, names: list[str]) -> tuple[float, list[str]]:
    """Agents per second, IN_FLIGHT calls at once from one asyncio client; the ids made.

    Each call applies one agent of its own name. Blocking calls from 16 threads,
    before, cost the client 0.3-0.45 ms of CPU a call on the cores the server runs on.
    """
    made: list[Agent] = []
    rate, _ = drive(
        address,
        APPLY,
        request=lambda i: agent(names[i]),
        wire=(Agent.SerializeToString, Agent.FromString),
        md=md,
        calls=len(names),
        answers=made,
    )
    return rate, [a.metadata.id for a in made]


def local_apply(data_dir: Path, names: list[str]) -> float:
    with Client(data_dir, actor="bench") as client:

        def work(c: int) -> None:
            for name in names[c::CLIENTS]:
                assert client.apply([agent(name)])[0].ok

        return len(names) / in_threads(CLIENTS, work)


IN_FLIGHT = 16  # calls at once from one asyncio client: a load generator that is not the limit


def remote_get(address: str, md: Any, ids: list[str], seconds: float) -> tuple[float, float]:
    """Gets per second with IN_FLIGHT calls at once, and their p99 in ms."""
    rate, latencies = drive(
        address,
        GET,
        request=lambda i: ApiResourceId(value=ids[i % len(ids)]),
        wire=(ApiResourceId.SerializeToString, Agent.FromString),
        md=md,
        seconds=seconds,
    )
    return rate, statistics.quantiles(latencies, n=100)[98] * 1000


def health_rate(address: str, seconds: float) -> float:
    """Health checks per second, driven as the gets are: gRPC's own ceiling here, no work done."""
    wire = (HealthCheckRequest.SerializeToString, HealthCheckResponse.FromString)
    rate, _ = drive(
        address, HEALTH, request=lambda i: HealthCheckRequest(), wire=wire, md=(), seconds=seconds
    )
    return rate


def drive(
    address: str,
    method: str,
    *,
    request: Callable[[int], Any],
    wire: tuple[Callable[[Any], bytes], Callable[[bytes], Any]],
    md: Any,
    seconds: float = 0.0,
    calls: int | None = None,
    answers: list[Any] | None = None,
) -> tuple[float, list[float]]:
    """Calls per second of one asyncio channel with IN_FLIGHT calls at once; each call's seconds.

    It calls for ``seconds``, or makes ``calls`` calls (``request(i)`` for each i below
    it, once), keeping their answers in ``answers``. Blocking calls from threads (8 of
    them, before) share the client's GIL: the client, not the server, was then the
    limit of what was measured.
    """

    async def run() -> tuple[float, list[float]]:
        latencies: list[float] = []
        async with grpc.aio.insecure_channel(address) as channel:
            call = channel.unary_unary(
                method, request_serializer=wire[0], response_deserializer=wire[1]
            )
            deadline = time.perf_counter() + seconds

            def more(i: int) -> bool:
                return i < calls if calls is not None else time.perf_counter() < deadline

            async def caller(i: int) -> None:
                while more(i):
                    t0 = time.perf_counter()
                    answer = await call(request(i), metadata=md)
                    latencies.append(time.perf_counter() - t0)
                    if answers is not None:
                        answers.append(answer)
                    i += IN_FLIGHT

            started = time.perf_counter()
            await asyncio.gather(*(caller(i) for i in range(IN_FLIGHT)))
            return len(latencies) / (time.perf_counter() - started), latencies

    return asyncio.run(run())


def watch_delivery(address: str, md: Any, data_dir: Path, n: int = 50) -> float:
    """Median ms from an apply's return (its commit) to the remote watcher's event."""
    committed: dict[str, float] = {}
    received: dict[str, float] = {}
    with grpc.insecure_channel(address) as channel:
        call = channel.unary_stream(
            WATCH,
            request_serializer=WatchRequest.SerializeToString,
            response_deserializer=WatchEvent.FromString,
        )
        with Client(data_dir, actor="bench") as now:  # from_now races the first apply:
            since = now.store.revision()  # the server takes "now" after it answers
        stream = call(WatchRequest(kind="agents", from_revision=since), metadata=md)
        stream.initial_metadata()  # the watch is on

        def follow() -> None:
            try:
                for event in stream:
                    received.setdefault(event.event.slug, time.perf_counter())
            except grpc.RpcError:
                return

        reader = threading.Thread(target=follow)
        reader.start()
        with Client(data_dir, actor="bench") as client:
            for i in range(n):
                client.apply([agent(f"Watched {i}")])
                committed[f"watched-{i}"] = time.perf_counter()
                time.sleep(0.02)  # spaced out, as single changes, not one burst
        deadline = time.monotonic() + 30
        while len(received) < n and time.monotonic() < deadline:
            time.sleep(0.01)
        stream.cancel()
        reader.join()
    return statistics.median((received[s] - committed[s]) * 1000 for s in committed)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--before", help="the python of another install to measure beside")
    args = parser.parse_args()
    before: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        remote_dir, local_dir = Path(tmp) / "remote", Path(tmp) / "local"
        md = _bearer(remote_dir)
        proc, address = start_server(remote_dir)
        try:
            names = [f"Agent {i}" for i in range(args.agents)]
            if args.before:
                before = _measure_before(args.before, Path(tmp) / "before", names)
            cpu = time.process_time()
            apply_rate, ids = remote_apply(address, md, names)
            client_ms = (time.process_time() - cpu) / len(names) * 1000
            local_rate = local_apply(local_dir, names)
            get_rate, get_p99 = remote_get(address, md, ids, seconds=5.0)
            health = health_rate(address, seconds=3.0)
            delivery = watch_delivery(address, md, remote_dir)
            with Client(remote_dir, actor="bench") as client:  # up to 10k agents, in bulk
                have = client.store.count("agent")
                client.apply([agent(f"Filler {i}") for i in range(10_000 - have)])
            remote_get(address, md, [a.metadata.id for a in _all(remote_dir)], seconds=3.0)
            rss = rss_mb(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    emit(
        {
            "agents": args.agents,
            "apply_16_clients_per_s": round(apply_rate, 1),
            "apply_client_cpu_ms_per_call": round(client_ms, 3),
            "local_apply_per_s": round(local_rate, 1),
            "get_per_s": round(get_rate, 1),
            "get_p99_ms": round(get_p99, 2),
            "watch_delivery_median_ms": round(delivery, 2),
            "rss_10k_mb": round(rss, 1),
            "health_per_s": round(health, 1),
            **{f"before_{k}": round(v, 2) for k, v in before.items()},
            "load_average": round(os.getloadavg()[0], 2),
        }
    )


def _bearer(data_dir: Path) -> Any:
    with Client(data_dir, actor="bench") as owner:
        token = owner.create_token("bench")
    return (("authorization", f"Bearer {token}"),)


def _measure_before(python: str, data_dir: Path, names: list[str]) -> dict[str, float]:
    """The other install's apply and get rates (and p99), on its own server and store."""
    md = _bearer(data_dir)
    proc, address = start_server(data_dir, python)
    try:
        apply_rate, ids = remote_apply(address, md, names)
        get_rate, get_p99 = remote_get(address, md, ids, seconds=5.0)
        health = health_rate(address, seconds=3.0)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    return {
        "apply_16_clients_per_s": apply_rate,
        "get_per_s": get_rate,
        "get_p99_ms": get_p99,
        "health_per_s": health,
    }


def _all(data_dir: Path) -> list[Agent]:
    with Client(data_dir, actor="bench") as client:
        return [a for a in client.list("agent") if isinstance(a, Agent)]


if __name__ == "__main__":
    main()
