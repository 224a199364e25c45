"""What gRPC in Python can do on this machine with no work at all behind a call (issue 17).

    .venv/bin/python -m bench.grpcfloor [--seconds S]

Starts bare ``grpc.aio`` servers whose one method returns an empty message (no
protobuf, no authentication, no store: nothing of this project's server) and drives
them with bench.api's own client (one asyncio channel, 16 calls in flight). Measured
in one run, in turn:

- ``one_server``: one server process, one client process;
- ``one_threads_server``: the same on grpc's thread-pool server API (``grpc.server``);
- ``two_servers``: two server processes on one port (SO_REUSEPORT, grpc's default on
  Linux; the kernel spreads connections over them), two client processes.

For each: calls per second, and the CPU (user + system) per call of the servers and of
the clients, from /proc. A figure the project's own server cannot beat: its get does
the same gRPC work plus its own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time

import grpc

from bench._common import cpu_seconds, emit
from bench.api import drive

METHOD = "/bench.Floor/Noop"


async def _serve(port: int) -> None:
    async def noop(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
        return b""

    handler = grpc.unary_unary_rpc_method_handler(noop)  # bytes in, bytes out: no (de)serializer
    server = grpc.aio.server()
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("bench.Floor", {"Noop": handler}),)
    )
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    print("ready", flush=True)
    await server.wait_for_termination()


def _serve_threads(port: int) -> None:
    """The same server on grpc's thread-pool API instead of grpc.aio."""
    from concurrent.futures import ThreadPoolExecutor

    def noop(request: bytes, context: grpc.ServicerContext) -> bytes:
        return b""

    handler = grpc.unary_unary_rpc_method_handler(noop)
    server = grpc.server(ThreadPoolExecutor(max_workers=16))
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("bench.Floor", {"Noop": handler}),)
    )
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    print("ready", flush=True)
    server.wait_for_termination()


def _drive(address: str, seconds: float) -> None:
    cpu = time.process_time()
    rate, _ = drive(
        address,
        METHOD,
        request=lambda i: b"",
        wire=(lambda b: b, lambda b: b),
        md=(),
        seconds=seconds,
    )
    print(json.dumps({"rate": rate, "cpu": time.process_time() - cpu}), flush=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.grpcfloor", *args], stdout=subprocess.PIPE, text=True
    )


def measure(servers: int, clients: int, seconds: float, serve: str) -> dict[str, float]:
    """Calls per second of ``clients`` client processes against ``servers`` server processes."""
    port = _free_port()
    started = [_start(serve, str(port)) for _ in range(servers)]
    try:
        for p in started:
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        server_cpu = sum(cpu_seconds(p.pid) for p in started)
        drivers = [
            _start("--drive", f"127.0.0.1:{port}", "--seconds", str(seconds))
            for _ in range(clients)
        ]
        results = [json.loads(p.communicate()[0].splitlines()[-1]) for p in drivers]
        server_cpu = sum(cpu_seconds(p.pid) for p in started) - server_cpu
    finally:
        for p in started:
            p.kill()
            p.wait()
    calls = sum(r["rate"] for r in results) * seconds
    return {
        "per_s": round(sum(r["rate"] for r in results), 1),
        "server_cpu_ms_per_call": round(server_cpu / calls * 1000, 3),
        "client_cpu_ms_per_call": round(sum(r["cpu"] for r in results) / calls * 1000, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--serve-threads", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--drive", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        asyncio.run(_serve(args.serve))
        return
    if args.serve_threads is not None:
        _serve_threads(args.serve_threads)
        return
    if args.drive is not None:
        _drive(args.drive, args.seconds)
        return
    result: dict[str, object] = {"load_average": round(os.getloadavg()[0], 2)}
    runs = (
        ("one_server", 1, 1, "--serve"),
        ("one_threads_server", 1, 1, "--serve-threads"),
        ("two_servers", 2, 2, "--serve"),
    )
    for name, servers, clients, serve in runs:
        for key, value in measure(servers, clients, args.seconds, serve).items():
            result[f"{name}_{key}"] = value
    emit(result)


if __name__ == "__main__":
    main()
