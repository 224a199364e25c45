"""Instructions a whole API server executes per call, under cachegrind (issue 17).

    .venv/bin/python -m bench.apigrind [--python PYTHON] [--method get|health]
        [--calls 500,2500]

Runs ``stigmer serve`` of an install (``--python``, this checkout's by default; run
another install's from a directory away from any checkout) under ``valgrind
--tool=cachegrind --cache-sim=no`` on a store of 100 agents, makes each number of
``--calls`` calls (16 in flight from one asyncio client, outside valgrind), and
reports the server's instructions per call: the difference of the two runs' totals
divided by the difference of their calls, so start-up and shutdown cancel out. An
instruction count does not move with the load of a shared machine, as CPU time does.
Each run takes a minute or more.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1.health_pb2 import HealthCheckRequest, HealthCheckResponse

from bench._common import emit
from bench.api import GET, HEALTH, IN_FLIGHT, agent
from stigmer.api.v1.agent_pb2 import Agent
from stigmer.api.v1.upstream_apiresource_pb2 import ApiResourceId
from stigmer.client import Client

AGENTS = 100


async def _calls(
    address: str,
    path: str,
    requests: list[Any],
    *,
    wire: tuple[Callable[..., Any], ...],
    md: Any,
    n: int,
) -> None:
    async with grpc.aio.insecure_channel(address) as channel:
        call = channel.unary_unary(path, request_serializer=wire[0], response_deserializer=wire[1])

        async def caller(i: int) -> None:
            while i < n:
                await call(requests[i % len(requests)], metadata=md)
                i += IN_FLIGHT

        await asyncio.gather(*(caller(i) for i in range(IN_FLIGHT)))


def instructions(python: str, method: str, n: int) -> int:
    """The instructions one server executes from its start to its exit, serving ``n`` calls."""
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        with Client.for_user(str(data_dir), user="bench") as client:
            token = client.create_token("bench")
            made = client.apply([agent(f"Agent {i}") for i in range(AGENTS)])
            ids = [r.object.metadata.id for r in made if r.object is not None]
        env = dict(os.environ, STIGMER_DATA_DIR=str(data_dir), STIGMER_USER="bench")
        valgrind = [
            "valgrind",
            "--tool=cachegrind",
            "--cache-sim=no",
            "--cachegrind-out-file=/dev/null",
        ]
        proc = subprocess.Popen(
            [*valgrind, python, "-m", "stigmer", "serve", "--listen", "127.0.0.1:0"],
            env=env,
            cwd=tmp,  # away from any checkout: the install's own stigmer
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stderr is not None
        address = next(
            m[1] for line in proc.stderr if (m := re.search(r"API listening on (\S+)", line))
        )
        log: list[str] = []
        reader = threading.Thread(target=lambda: log.extend(proc.stderr or ()), daemon=True)
        reader.start()
        if method == "get":
            md = (("authorization", f"Bearer {token}"),)
            wire = (ApiResourceId.SerializeToString, Agent.FromString)
            asyncio.run(
                _calls(address, GET, [ApiResourceId(value=i) for i in ids], wire=wire, md=md, n=n)
            )
        else:
            wire = (HealthCheckRequest.SerializeToString, HealthCheckResponse.FromString)
            asyncio.run(_calls(address, HEALTH, [HealthCheckRequest()], wire=wire, md=(), n=n))
        proc.terminate()
        proc.wait()
        reader.join(timeout=10)
    refs = [line for line in log if re.search(r"I\s+refs:", line)]
    if not refs:
        raise SystemExit("valgrind reported no instruction count:\n" + "".join(log[-10:]))
    return int(refs[-1].rsplit(":", 1)[1].replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--python", default=sys.executable, help="the python of the install")
    parser.add_argument("--method", choices=("get", "health"), default="get")
    parser.add_argument("--calls", default="500,2500", help="two numbers of calls")
    args = parser.parse_args()
    few, many = (int(x) for x in args.calls.split(","))
    totals = {n: instructions(args.python, args.method, n) for n in (few, many)}
    emit(
        {
            "method": args.method,
            "python": args.python,
            "calls": [few, many],
            "instructions": [totals[few], totals[many]],
            "instructions_per_call": round((totals[many] - totals[few]) / (many - few)),
            "load_average": round(os.getloadavg()[0], 2),
        }
    )


if __name__ == "__main__":
    main()
