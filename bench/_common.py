"""Shared by the bench scripts: realistic objects and timing helpers."""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from stigmer.api.kinds import AGENT, AGENT_INSTANCE
from stigmer.api.v1.agent_instance_pb2 import AgentInstance
from stigmer.api.v1.agent_pb2 import Agent
from stigmer.api.v1.commons_pb2 import ApiResourceOwnerScope


def make_agent(i: int, org: str = "local") -> Agent:
    """An agent shaped like the examples: instructions, one MCP server, labels."""
    a = AGENT.new()
    assert isinstance(a, Agent)
    md = a.metadata
    md.name, md.slug, md.id, md.org = f"Agent {i}", f"agent-{i}", f"agt-{i:026d}", org
    md.owner_scope = ApiResourceOwnerScope.organization
    md.labels.update({"team": f"team-{i % 10}", "tier": "gold" if i % 2 else "silver"})
    md.generation = 1
    s = a.spec
    s.description = f"Benchmark agent number {i}"
    s.instructions = "You are a helpful support agent. Answer briefly and cite sources."
    mcp = s.mcp_servers.add(name="github")
    mcp.stdio.command = "npx"
    mcp.stdio.args.extend(["-y", "@modelcontextprotocol/server-github"])
    a.status.default_instance_id = f"ain-{i:026d}"
    a.status.observed_generation = 1
    a.status.conditions.add(type="Ready", status="True", reason="DefaultInstanceReady")
    return a


def make_instance(agent: Agent) -> AgentInstance:
    inst = AGENT_INSTANCE.new()
    assert isinstance(inst, AgentInstance)
    md, amd = inst.metadata, agent.metadata
    md.name, md.slug, md.org = f"{amd.name}-default", f"{amd.slug}-default", amd.org
    md.id = agent.status.default_instance_id
    md.owner_scope = ApiResourceOwnerScope.organization
    md.generation = 1
    md.owner_references.add(kind="Agent", id=amd.id, slug=amd.slug, controller=True)
    inst.spec.agent_id = amd.id
    inst.spec.description = "Default instance (auto-created, no custom configuration)"
    return inst


def timings(fn: Callable[[], object], repeat: int) -> list[float]:
    """The seconds each of ``repeat`` runs of ``fn`` took."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def best_of(fn: Callable[[], object], repeat: int = 5) -> float:
    """The fastest of ``repeat`` runs, in seconds: the least disturbed by noise."""
    return min(timings(fn, repeat))


def median_of(fn: Callable[[], object], repeat: int = 5) -> float:
    return statistics.median(timings(fn, repeat))


def emit(result: Mapping[str, object]) -> None:
    """Prints the figures as one JSON object on the last line."""
    print(json.dumps(result, sort_keys=True))


def cpu_seconds(pid: int) -> float:
    """The CPU time (user plus system) a running process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """A running process's resident memory, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise ValueError(f"process {pid} reports no VmRSS")
