"""The API server's own CPU per grouped apply, its pipeline left out (issue 17).

    .venv/bin/python -m bench.apiloop [--calls N]
    valgrind --tool=cachegrind --cache-sim=no .venv/bin/python -m bench.apiloop --calls N

Runs the real handler of upstream ``AgentCommandController/apply`` (as the gRPC
server would call it) on an event loop, 16 callers at once, ``--calls`` calls, with
a Client whose ``write`` returns canned Results. What it measures is the server's
code around the pipeline: the token check, the caller's view, the Request, the
group commit's futures and hop, the answer and the metrics. gRPC's own work and the
pipeline's are not in it (``bench.apicpu`` measures the whole server). Its CPU per
call moves with the machine's load; its instruction count does not: run it under
cachegrind with ``--calls 0`` and ``--calls N`` and divide the difference by N.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bench._common import emit
from bench.api import APPLY, agent
from stigmer.client import Client
from stigmer.reconcilers.framework import Outcome, Request, Result
from stigmer.server.running import ApiServer, Options

CALLERS = 16


class CannedClient(Client):
    """A Client whose writes do nothing: each answers the same created agent."""

    answer = agent("Made")

    def write(
        self,
        requests: Sequence[Request],
        *,
        dry_run: bool = False,
        atomic: bool = False,
        show_secrets: bool = False,
    ) -> list[Result]:
        return [
            Result(r.kind, "made", "default", Outcome.CREATED, object=self.answer) for r in requests
        ]


class _Context:
    """What the handler uses of a grpc.aio ServicerContext."""

    def __init__(self, metadata: tuple[tuple[str, str], ...]) -> None:
        self.metadata = metadata

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self.metadata

    def set_trailing_metadata(self, trailers: Any) -> None:
        pass

    async def abort(self, code: Any, message: str) -> None:
        raise SystemExit(f"the bench's apply failed: {code} {message}")


class _Handlers:
    """Collects the server's handlers, as grpc.aio.Server.add_generic_rpc_handlers."""

    def __init__(self) -> None:
        self.generic: list[Any] = []

    def add_generic_rpc_handlers(self, handlers: list[Any]) -> None:
        self.generic += handlers

    def unary(self, path: str) -> Any:
        details = SimpleNamespace(method=path, invocation_metadata=())
        found = next(h for g in self.generic if (h := g.service(details)) is not None)
        return found.unary_unary


def run(calls: int) -> float:
    """CPU seconds of ``calls`` applies through the server's handler, after a warm-up."""
    with tempfile.TemporaryDirectory() as tmp:
        client = CannedClient.for_user(str(Path(tmp) / "data"), user="bench")
        token = client.create_token("bench")
        server = ApiServer(client, Options(listen="none"))
        handlers = _Handlers()
        server._add_services(handlers)
        handle = handlers.unary(APPLY)
        context = _Context((("authorization", f"Bearer {token}"),))
        requests = [agent(f"Agent {i}") for i in range(calls)]

        async def main() -> float:
            loop = asyncio.get_running_loop()
            loop.set_default_executor(ThreadPoolExecutor(4))
            server._idle = asyncio.Event()

            async def caller(i: int) -> None:
                for request in requests[i::CALLERS]:
                    assert await handle(request, context) is CannedClient.answer

            await asyncio.gather(*(caller(i) for i in range(CALLERS)))  # the lazy imports
            started = time.process_time()
            await asyncio.gather(*(caller(i) for i in range(CALLERS)))
            return time.process_time() - started

        cpu = asyncio.run(main()) if calls else 0.0
        client.close()
        return cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=3200)
    args = parser.parse_args()
    cpu = run(args.calls)
    emit({"calls": args.calls, "cpu_us_per_call": round(cpu / max(args.calls, 1) * 1e6, 1)})


if __name__ == "__main__":
    main()
