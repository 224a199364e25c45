"""The controller's health endpoint: /healthz and /metrics on 127.0.0.1 only."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from stigmer.controller.controller import Controller


def serve(
    controller: Controller, port: int, extra: Callable[[], str] | None = None
) -> ThreadingHTTPServer:
    """Starts serving in a daemon thread; ``shutdown()`` the result to stop it.

    ``extra`` renders more metrics after the controller's (the API server's requests).
    """

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/healthz":
                self._send(200, "text/plain", "ok\n")
            elif self.path == "/metrics":
                body = controller.metrics.render(controller.queue.waiting())
                body += extra() if extra is not None else ""
                self._send(200, "text/plain; version=0.0.4", body)
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
