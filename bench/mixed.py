"""Mixed apply benchmark: referenced kinds and their referrers (issue 15's Performance).

Run: .venv/bin/python -m bench.mixed [--rounds N] [--cycles N]

In-process through stigmer.Client on a fresh data dir:
- agents only: bench.apply's 10,000 agents (20,000 objects with their default instances);
- mixed: 100 Environments, 100 Skills, 10,000 agents each naming a skill, and 10,000
  instances each naming 2 of the 100 environments (30,200 objects). One environment,
  env-0, is named by 1,000 of the instances.

It reports the cold apply of each per object and their ratio (the issue asks for at most
1.3), then the time of one apply of env-0 that changes a value (its 1,000 referrers are
re-evaluated, and stay Ready), of its delete (they turn ResolvedRefs=False) and of its
re-creation (they turn True again): each at most 0.5 s. Prints one JSON object on its
last line. Each figure in seconds also comes as CPU time (``..._cpu_s``: user + system,
a parse worker's included), which moves less than wall time on a loaded machine.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from bench._common import emit
from bench.apply import write_manifests
from stigmer.api.v1.agent_instance_pb2 import AgentInstance
from stigmer.client import Client

ENVS, SKILLS, AGENTS = 100, 100, 10_000
SHARED = 1_000  # instances naming env-0

ENVIRONMENT = """apiVersion: agentic.stigmer.ai/v1
kind: Environment
metadata: {{name: env-{i}}}
spec:
  description: Settings of stage {i}.
  data:
    REGION: {{value: eu-{i}}}
    API_TOKEN: {{value: token-{i}-{variant}, isSecret: true}}
"""
SKILL = """apiVersion: agentic.stigmer.ai/v1
kind: Skill
metadata: {{name: skill-{i}}}
spec:
  skillMd: "# Skill {i}\\nHow to answer questions about topic {i}."
"""
AGENT = """apiVersion: agentic.stigmer.ai/v1
kind: Agent
metadata: {{name: agent-{i}}}
spec:
  instructions: You answer customer questions, number {i}.
  skillRefs: [{{slug: skill-{skill}}}]
  envSpec:
    data:
      REGION: {{}}
---
apiVersion: agentic.stigmer.ai/v1
kind: AgentInstance
metadata: {{name: agent-{i}-prod}}
spec:
  agentId: agent-{i}
  environmentRefs: [{{slug: env-{first}}}, {{slug: env-{second}}}]
"""


def environment(i: int, variant: str = "a") -> str:
    return ENVIRONMENT.format(i=i, variant=variant)


def write_mixed(path: Path) -> None:
    docs = [environment(i) for i in range(ENVS)]
    docs += [SKILL.format(i=i) for i in range(SKILLS)]
    for i in range(AGENTS):
        # Every tenth instance names env-0 first: 1,000 of them share it.
        first = 0 if i % (AGENTS // SHARED) == 0 else 1 + i % (ENVS - 1)
        second = 1 + (i * 7) % (ENVS - 1)
        docs.append(AGENT.format(i=i, skill=i % SKILLS, first=first, second=second))
    path.write_text("---\n".join(docs))


def cpu() -> float:
    """CPU seconds of this process and its finished children (the parse worker) so far."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def cold(data_dir: Path, manifest: Path) -> tuple[float, float, int]:
    """Wall and CPU seconds of a cold apply, and how many objects it stored."""
    started, cpu_before = time.perf_counter(), cpu()
    with Client(data_dir) as client:
        report = client.apply_files([manifest])
        elapsed, cpu_used = time.perf_counter() - started, cpu() - cpu_before
        if not report.ok:
            raise SystemExit("apply failed")
        stored = sum(n for per_org in client.stats().counts.values() for n in per_org.values())
    return elapsed, cpu_used, stored


def _ready_count(client: Client) -> int:
    shared: list[AgentInstance] = []
    for inst in client.list("agentinstance"):
        assert isinstance(inst, AgentInstance)
        if inst.spec.environment_refs and inst.spec.environment_refs[0].slug == "env-0":
            shared.append(inst)
    assert len(shared) == SHARED, len(shared)
    return sum(
        any(c.type == "ResolvedRefs" and c.status == "True" for c in i.status.conditions)
        for i in shared
    )


def _apply(client: Client, path: Path) -> None:
    if not client.apply_files([path]).ok:
        raise SystemExit(f"apply of {path} failed")


def converge(data_dir: Path, tmp: Path, cycles: int = 1) -> dict[str, float]:
    """Times env-0's change, delete and re-creation, checking its 1,000 referrers follow.

    With ``cycles`` > 1 it does so that many times (each change swaps env-0's
    secret for the other variant) and gives the median of each figure.
    """
    out: dict[str, list[float]] = {}

    def timed(name: str, fn: Callable[[], object]) -> None:
        started, cpu_before = time.perf_counter(), cpu()
        fn()
        out.setdefault(f"{name}_s", []).append(time.perf_counter() - started)
        out.setdefault(f"{name}_cpu_s", []).append(cpu() - cpu_before)

    with Client(data_dir) as client:
        for cycle in range(cycles):
            changed = tmp / f"env-0-{cycle % 2}.yaml"
            changed.write_text(environment(0, variant="ba"[cycle % 2]))
            timed("change_shared_env", partial(_apply, client, changed))
            assert _ready_count(client) == SHARED
            timed("delete_shared_env", lambda: client.delete("environment", "env-0"))
            assert _ready_count(client) == 0
            timed("recreate_shared_env", partial(_apply, client, changed))
            assert _ready_count(client) == SHARED
    return {key: statistics.median(values) for key, values in out.items()}


def one_round(tmp: Path, n: int, cycles: int) -> dict[str, float]:
    agents_s, agents_cpu, agents_n = cold(tmp / f"agents-{n}", tmp / "agents.yaml")
    mixed_s, mixed_cpu, mixed_n = cold(tmp / f"mixed-{n}", tmp / "mixed.yaml")
    per_agents, per_mixed = agents_s / agents_n, mixed_s / mixed_n
    return {
        "cold_agents_only_s": agents_s,
        "cold_agents_only_cpu_s": agents_cpu,
        "cold_agents_only_objects": agents_n,
        "cold_agents_only_per_object_ms": per_agents * 1000,
        "cold_mixed_s": mixed_s,
        "cold_mixed_cpu_s": mixed_cpu,
        "cold_mixed_objects": mixed_n,
        "cold_mixed_per_object_ms": per_mixed * 1000,
        "cold_mixed_to_agents_only_per_object": per_mixed / per_agents,
        "cold_mixed_to_agents_only_per_object_cpu": (mixed_cpu / mixed_n) / (agents_cpu / agents_n),
        **converge(tmp / f"mixed-{n}", tmp, cycles),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cycles", type=int, default=1, help="env-0 change/delete/re-creations")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        write_manifests(tmp / "agents.yaml")
        write_mixed(tmp / "mixed.yaml")
        runs = [one_round(tmp, n, args.cycles) for n in range(args.rounds)]
    emit({key: round(statistics.median(r[key] for r in runs), 4) for key in runs[0]})


if __name__ == "__main__":
    main()
