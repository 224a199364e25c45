"""The controller's health endpoint: /healthz and /metrics on 127.0.0.1 only.

A replica serves them from its start, leading or waiting its turn: /healthz
names the replica that leads, and /metrics has the gauge ``stigmer_leader``
(1 on the leader, 0 elsewhere) besides the controller's own metrics.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from stigmer.controller.controller import Controller
from stigmer.store.leading import Leader


@dataclass
class Board:
    """What the endpoints report: the leadership, and the controller once this replica leads."""

    leader: Leader
    controller: Controller | None = None
    extra: Callable[[], str] | None = None  # more metrics: the API server's requests

    def healthz(self) -> str:
        return f"ok\nleader: {self.leader.holder() or 'none'}\n"

    def metrics(self) -> str:
        leading = int(self.leader.is_leader())
        gauge = f"# TYPE stigmer_leader gauge\nstigmer_leader {leading}\n"
        runtime = self.controller
        body = gauge + (runtime.metrics.render(runtime.queue.waiting()) if runtime else "")
        return body + (self.extra() if self.extra is not None else "")


def serve(board: Board, port: int) -> ThreadingHTTPServer:
    """Starts serving in a daemon thread; ``shutdown()`` the result to stop it."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/healthz":
                self._send(200, "text/plain", board.healthz())
            elif self.path == "/metrics":
                self._send(200, "text/plain; version=0.0.4", board.metrics())
            else:
                self._send(404, "text/plain", "not found\n")

        def _send(self, status: int, content_type: str, body: str) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return  # scrapes every few seconds would drown the reconcile log

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, name="health", daemon=True).start()
    return server
