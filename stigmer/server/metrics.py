"""Request metrics of the API server, in Prometheus text for the existing /metrics."""

from __future__ import annotations

import threading
from collections import defaultdict

# Upper bounds of the latency buckets, in seconds: a get takes about a
# millisecond, an apply with its fsync a few.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class RequestMetrics:
    """Calls by method and code, and a latency histogram per method; thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: dict[tuple[str, str], int] = defaultdict(int)
        self.buckets: dict[str, list[int]] = {}
        self.sums: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)

    def observe(self, method: str, code: str, seconds: float) -> None:
        with self.lock:
            self.calls[method, code] += 1
            counts = self.buckets.setdefault(method, [0] * len(BUCKETS))
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    counts[i] += 1
            self.sums[method] += seconds
            self.counts[method] += 1

    def render(self) -> str:
        with self.lock:
            lines = ["# TYPE stigmer_grpc_requests_total counter"]
            lines += [
                f'stigmer_grpc_requests_total{{method="{m}",code="{c}"}} {n}'
                for (m, c), n in sorted(self.calls.items())
            ]
            lines.append("# TYPE stigmer_grpc_request_duration_seconds histogram")
            for method, counts in sorted(self.buckets.items()):
                name, label = "stigmer_grpc_request_duration_seconds", f'method="{method}"'
                lines += [
                    f'{name}_bucket{{{label},le="{b}"}} {n}'
                    for b, n in zip(BUCKETS, counts, strict=True)
                ]
                lines.append(f'{name}_bucket{{{label},le="+Inf"}} {self.counts[method]}')
                lines.append(f"{name}_sum{{{label}}} {self.sums[method]:.6f}")
                lines.append(f"{name}_count{{{label}}} {self.counts[method]}")
        return "\n".join(lines) + "\n"
