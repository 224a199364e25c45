"""Request metrics of the API server, in Prometheus text for the existing /metrics."""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict

# Upper bounds of the latency buckets, in seconds: a get takes about a
# millisecond, an apply with its fsync a few.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class _Method:
    """One method's histogram: a count per bucket (not yet cumulative), the sum, the count."""

    __slots__ = ("count", "in_bucket", "sum")

    def __init__(self) -> None:
        self.in_bucket = [0] * (len(BUCKETS) + 1)  # the last: above every bound (+Inf only)
        self.sum = 0.0
        self.count = 0


class RequestMetrics:
    """Calls by method and code, and a latency histogram per method; thread-safe.

    ``observe`` runs on every call, so it counts one bucket; ``render`` (a scrape)
    adds them up into Prometheus' cumulative buckets.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: dict[tuple[str, str], int] = defaultdict(int)
        self.methods: dict[str, _Method] = {}

    def observe(self, method: str, code: str, seconds: float) -> None:
        with self.lock:
            self.calls[method, code] += 1
            m = self.methods.get(method)
            if m is None:
                m = self.methods[method] = _Method()
            m.in_bucket[bisect.bisect_left(BUCKETS, seconds)] += 1  # the first bound >= seconds
            m.sum += seconds
            m.count += 1

    def render(self) -> str:
        with self.lock:
            lines = ["# TYPE stigmer_grpc_requests_total counter"]
            lines += [
                f'stigmer_grpc_requests_total{{method="{m}",code="{c}"}} {n}'
                for (m, c), n in sorted(self.calls.items())
            ]
            lines.append("# TYPE stigmer_grpc_request_duration_seconds histogram")
            for method, m in sorted(self.methods.items()):
                name, label = "stigmer_grpc_request_duration_seconds", f'method="{method}"'
                below = 0
                for b, n in zip(BUCKETS, m.in_bucket, strict=False):
                    below += n
                    lines.append(f'{name}_bucket{{{label},le="{b}"}} {below}')
                lines.append(f'{name}_bucket{{{label},le="+Inf"}} {m.count}')
                lines.append(f"{name}_sum{{{label}}} {m.sum:.6f}")
                lines.append(f"{name}_count{{{label}}} {m.count}")
        return "\n".join(lines) + "\n"
