"""A program the fault tests run: apply agents, dying by SIGKILL after a given step.

python -m tests.reconcilers._crash DATA_DIR STEP COUNT CHUNK
"""

from __future__ import annotations

import os
import signal
import sys

from stigmer.client import Client
from stigmer.reconcilers import catalog
from stigmer.reconcilers.framework import Context, Pipeline
from tests.reconcilers.helpers import new_agent


def with_kill_after(pipeline: Pipeline, step: str, after_documents: int) -> Pipeline:
    seen = {"n": 0}

    def kill(ctx: Context) -> None:
        seen["n"] += 1
        if seen["n"] > after_documents:
            os.kill(os.getpid(), signal.SIGKILL)

    steps = []
    for name, fn in pipeline.steps:
        steps.append((name, fn))
        if name == step:
            steps.append(("Kill", kill))
    return Pipeline(pipeline.name, tuple(steps))


def main() -> None:
    data_dir, step, count, chunk = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    catalog._PIPELINES[("agent", "apply")] = with_kill_after(catalog.AGENT_APPLY, step, chunk)
    with Client(data_dir, actor="crash") as client:
        client.store.limits = client.store.limits._replace(chunk=chunk)
        client.apply([new_agent(f"Agent {i}") for i in range(count)])


if __name__ == "__main__":
    main()
