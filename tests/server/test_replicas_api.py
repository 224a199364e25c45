"""Every replica of ``stigmer serve --store etcd://...`` serves the API, leading or not."""

from __future__ import annotations

import signal
import urllib.request
from pathlib import Path

from stigmer.api.v1.agent_service_pb2 import AgentId
from tests.etcdserver import EtcdServer, free_port
from tests.processes import stigmer, wait_until
from tests.server.conftest import Server, Stubs, new_agent, start_server


def _healthz(port: int) -> str:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
            return str(r.read().decode())
    except OSError:
        return ""


def test_a_replica_waiting_its_turn_serves_the_api(
    etcd_server: EtcdServer, data_dir: Path, stubs: Stubs
) -> None:
    url, ports = etcd_server.url(), (free_port(), free_port())
    created = stigmer(
        "--store",
        url,
        "agent",
        "create",
        "Owner Bot",
        "--instructions",
        "Say hello.",
        data_dir=data_dir,
    )
    assert created.returncode == 0, created.stderr  # alice's first write: she owns the store
    replicas: list[Server] = []
    try:
        for port in ports:
            replicas.append(
                start_server(
                    data_dir, "--health-port", str(port), "--anonymous-user", "alice", store=url
                )
            )
        first, second = replicas
        leads = f"leader: pid {first.proc.pid} on "
        wait_until(lambda: leads in _healthz(ports[1]), what="the second to see the first lead")
        # The second replica does not lead, and still takes writes and reads.
        cmd = stubs.agent.AgentCommandControllerStub(second.channel())
        made = cmd.create(new_agent("Follower Bot"))
        got = stubs.agent.AgentQueryControllerStub(first.channel()).get(
            AgentId(value=made.metadata.id)
        )
        assert got.metadata.slug == "follower-bot" and got.status.default_instance_id
    finally:
        for replica in replicas:
            replica.stop(signal.SIGTERM)
