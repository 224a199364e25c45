"""The API server's CPU per call, side by side with another install (issue 17).

    .venv/bin/python -m bench.apicpu --before PYTHON [--method apply|create|own|get|health]
        [--agents N] [--rounds R] [--seconds S]

Starts this checkout's ``stigmer serve`` and the one of another install (the python of
its venv, as ``bench.api --before``) in turn, each on a fresh data dir, ``--rounds``
times: each time 16 clients write ``--agents`` agents, one a call, with upstream's
``apply`` or ``create``, or with the own service's ``Apply`` of one object (``own``).
With ``get`` the agents are applied first and, once the server is idle again, one
asyncio client (``bench.api``'s ``drive``, 16 calls in flight) gets them by id with
upstream's ``AgentQueryController/get`` for ``--seconds``; ``health`` drives the
health check the same way, a call that does no work: the floor of a call.
What it reports is the server process's CPU per call (user plus system, from
/proc/PID/stat, including its controller), the median over the rounds: on a shared
machine the wall-clock rates (``*_per_s``, also reported) move with everyone else's
work, the CPU a call costs much less.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1.health_pb2 import HealthCheckRequest, HealthCheckResponse

from bench._common import cpu_seconds, emit
from bench.api import (
    APPLY,
    CLIENTS,
    GET,
    HEALTH,
    _bearer,
    agent,
    drive,
    in_threads,
    remote_apply,
    remote_get,
    start_server,
)
from stigmer.api.v1 import stigmer_service_pb2 as pb
from stigmer.api.v1.agent_pb2 import Agent
from stigmer.api.v1.upstream_apiresource_pb2 import ApiResourceId
from stigmer.remote.wire import wrap

CREATE = "/ai.stigmer.agentic.agent.v1.AgentCommandController/create"
OWN_APPLY = "/stigmer.api.v1.Stigmer/Apply"


def _caller(channel: grpc.Channel, method: str) -> Callable[[Agent, Any], object]:
    """How one client sends one agent with ``method``."""
    if method == "own":
        call = channel.unary_unary(
            OWN_APPLY,
            request_serializer=pb.ApplyRequest.SerializeToString,
            response_deserializer=pb.ApplyResponse.FromString,
        )
        return lambda a, md: call(pb.ApplyRequest(objects=[wrap(a)]), metadata=md)
    path = CREATE if method == "create" else APPLY
    plain = channel.unary_unary(
        path, request_serializer=Agent.SerializeToString, response_deserializer=Agent.FromString
    )
    return lambda a, md: plain(a, metadata=md)


def one_round(
    python: str, data_dir: Path, method: str, n: int, seconds: float
) -> tuple[float, float]:
    """(calls per second, server CPU ms per call) of one server of ``python``."""
    if method in READS:
        return read_round(python, data_dir, method, n, seconds)
    md = _bearer(data_dir)
    proc, address = start_server(data_dir, python)
    names = [f"Agent {i}" for i in range(n)]
    try:
        with grpc.insecure_channel(address) as channel:  # first call: the lazy imports
            _caller(channel, method)(agent("Warm up"), md)
        before = cpu_seconds(proc.pid)

        def work(c: int) -> None:
            with grpc.insecure_channel(address) as channel:
                send = _caller(channel, method)
                for name in names[c::CLIENTS]:
                    send(agent(name), md)

        wall = in_threads(CLIENTS, work)
        time.sleep(0.5)  # the controller's work on the last events counts too
        cpu = cpu_seconds(proc.pid) - before
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    return n / wall, cpu / n * 1000


READS = ("get", "health")
GET_WIRE = (ApiResourceId.SerializeToString, Agent.FromString)
HEALTH_WIRE = (HealthCheckRequest.SerializeToString, HealthCheckResponse.FromString)


def read_round(
    python: str, data_dir: Path, method: str, n: int, seconds: float
) -> tuple[float, float]:
    """``one_round`` of a read: ``n`` agents applied, then ``seconds`` of gets (or health)."""
    md = _bearer(data_dir)
    proc, address = start_server(data_dir, python)
    try:
        _, ids = remote_apply(address, md, [f"Agent {i}" for i in range(n)])
        if method == "get":  # the first get: the lazy imports of the read path
            remote_get(address, md, ids[:1], seconds=0.2)
        _settle(proc.pid)
        before = cpu_seconds(proc.pid)
        requests = [ApiResourceId(value=i) for i in ids] if method == "get" else []
        path, wire, md = (GET, GET_WIRE, md) if method == "get" else (HEALTH, HEALTH_WIRE, ())
        rate, latencies = drive(
            address,
            path,
            request=lambda i: requests[i % n] if requests else HealthCheckRequest(),
            wire=wire,
            md=md,
            seconds=seconds,
        )
        cpu = cpu_seconds(proc.pid) - before
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    return rate, cpu / len(latencies) * 1000


def _settle(pid: int, *, idle: float = 0.05, limit: float = 120.0) -> None:
    """Waits until the server uses under ``idle`` of a core: its controller done with the
    applies' events, which must not count as the gets' CPU."""
    deadline = time.monotonic() + limit
    last = cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = cpu_seconds(pid)
        if now - last < idle * 0.5:
            return
        last = now


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", required=True, help="the python of another install")
    parser.add_argument("--method", choices=("apply", "create", "own", *READS), default="apply")
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0, help="how long a read runs")
    args = parser.parse_args()
    runs: dict[str, list[tuple[float, float]]] = {"before": [], "after": []}
    loads = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            pair = [("before", args.before), ("after", sys.executable)]
            for name, python in pair if r % 2 == 0 else pair[::-1]:  # neither always first
                data_dir = Path(tmp) / f"{name}-{r}" / "data"
                runs[name].append(
                    one_round(python, data_dir, args.method, args.agents, args.seconds)
                )
                loads.append(os.getloadavg()[0])
    median = {
        k: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v))
        for k, v in runs.items()
    }
    emit(
        {
            "method": args.method,
            "agents": args.agents,
            "rounds": args.rounds,
            "server_cpu_ms_per_call": round(median["after"][1], 3),
            "before_server_cpu_ms_per_call": round(median["before"][1], 3),
            "cpu_ratio": round(median["after"][1] / median["before"][1], 3),
            "calls_per_s": round(median["after"][0], 1),
            "before_calls_per_s": round(median["before"][0], 1),
            "load_average_min": round(min(loads), 2),
            "load_average_max": round(max(loads), 2),
        }
    )


if __name__ == "__main__":
    main()
