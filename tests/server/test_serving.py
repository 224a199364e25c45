"""The API server as a process: many clients, crashes, shutdown, health, upstream's own client."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading
import urllib.request
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from stigmer.api.v1.agent_service_pb2 import AgentId
from stigmer.client import Client
from tests.cli.test_imports import loaded_at_exit
from tests.processes import ROOT, stigmer, wait_until
from tests.server.conftest import (
    Server,
    Stubs,
    bearer,
    code_of,
    compile_stubs,
    make_token,
    new_agent,
    start_server,
)

UPSTREAM = ROOT / "tests" / "testdata" / "upstream"
NOT_FOUND = grpc.StatusCode.NOT_FOUND


def test_fifty_concurrent_clients_each_get_their_agent(server: Server, stubs: Stubs) -> None:
    md = bearer(make_token(server.data_dir, "alice"))
    failures: list[BaseException] = []

    def one(i: int) -> None:
        try:
            with server.channel() as channel:
                cmd = stubs.agent.AgentCommandControllerStub(channel)
                made = cmd.apply(new_agent(f"Agent {i}"), metadata=md)
                assert made.metadata.slug == f"agent-{i}"
        except BaseException as e:
            failures.append(e)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    with Client(server.data_dir, actor="alice") as local:
        assert len(local.list("agent")) == 50 and len(local.list("agentinstance")) == 50
        assert local.check_store() == []


def test_a_sigkill_mid_apply_leaves_a_sound_store_and_a_reapply_converges(
    owned: Path, stubs: Stubs
) -> None:
    server = start_server(owned)
    md = bearer(make_token(owned, "alice"))
    done: list[int] = []
    stop = threading.Event()

    def writer(first: int) -> None:
        with server.channel() as channel:
            cmd = stubs.agent.AgentCommandControllerStub(channel)
            for i in range(first, first + 1000, 1):
                if stop.is_set():
                    return
                try:
                    cmd.apply(new_agent(f"Agent {i}"), metadata=md, timeout=30)
                except grpc.RpcError:
                    return  # the server is gone
                done.append(i)

    threads = [threading.Thread(target=writer, args=(n * 1000,)) for n in range(4)]
    for t in threads:
        t.start()
    wait_until(lambda: len(done) >= 40, what="applies under way", proc=server.proc)
    server.stop(signal.SIGKILL)
    stop.set()
    for t in threads:
        t.join()
    check = stigmer("store", "check", data_dir=owned)
    assert check.returncode == 0, check.stdout + check.stderr
    acknowledged = list(done)
    again = start_server(owned)
    try:
        cmd = stubs.agent.AgentCommandControllerStub(again.channel())
        for i in acknowledged:
            cmd.apply(new_agent(f"Agent {i}"), metadata=md)
    finally:
        again.stop(signal.SIGTERM)
    with Client(owned, actor="alice") as local:
        agents = {a.metadata.slug: a for a in local.list("agent")}
        assert {f"agent-{i}" for i in acknowledged} <= set(agents)  # acknowledged is durable
        instances = {i.metadata.id for i in local.list("agentinstance")}
        for a in agents.values():
            assert a.status.default_instance_id in instances  # type: ignore[union-attr]
        assert local.check_store() == []


def test_sigterm_lets_calls_in_flight_finish(owned: Path, stubs: Stubs) -> None:
    server = start_server(owned)
    md = bearer(make_token(owned, "alice"))
    codes: list[grpc.StatusCode] = []
    ok: list[str] = []
    started = threading.Event()

    def writer(n: int) -> None:
        with server.channel() as channel:
            cmd = stubs.agent.AgentCommandControllerStub(channel)
            for i in range(200):
                try:
                    ok.append(
                        cmd.apply(new_agent(f"W{n} {i}"), metadata=md, timeout=30).metadata.slug
                    )
                    started.set()
                except grpc.RpcError as e:
                    codes.append(e.code())
                    return

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    started.wait(timeout=60)
    assert server.stop(signal.SIGTERM) == 0
    for t in threads:
        t.join()
    # Refused while draining (UNAVAILABLE); a call still on the wire when the
    # transport closes may be CANCELLED before any handler saw it. Never INTERNAL.
    assert set(codes) <= {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED}
    with Client(owned, actor="alice") as local:
        agents = local.list("agent")
        instances = {i.metadata.id for i in local.list("agentinstance")}
        assert local.check_store() == []
    assert set(ok) <= {a.metadata.slug for a in agents}  # every OK is in the store
    for a in agents:  # and nothing is half done: each agent has its default instance
        assert a.status.default_instance_id in instances  # type: ignore[union-attr]


def test_health_reflection_and_request_metrics(owned: Path, stubs: Stubs, unused_port: int) -> None:
    server = start_server(owned, "--health-port", str(unused_port))
    try:
        channel = server.channel()
        checked = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
        assert checked.status == health_pb2.HealthCheckResponse.SERVING
        names = set(ProtoReflectionDescriptorDatabase(channel).get_services())
        assert {
            "ai.stigmer.agentic.agent.v1.AgentCommandController",
            "ai.stigmer.agentic.agent.v1.AgentQueryController",
            "ai.stigmer.agentic.agentinstance.v1.AgentInstanceCommandController",
            "ai.stigmer.agentic.agentinstance.v1.AgentInstanceQueryController",
            "grpc.health.v1.Health",
        } <= names
        cmd = stubs.agent.AgentCommandControllerStub(channel)
        md = bearer(make_token(owned, "alice"))
        cmd.apply(new_agent("Pirate"), metadata=md)
        code_of(lambda: cmd.apply(new_agent("Pirate")))
        huge = new_agent("Huge", instructions="x" * (5 * 1024 * 1024))
        code, details = code_of(lambda: cmd.apply(huge, metadata=md))
        assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert details.startswith("Received message larger than max (")
        with urllib.request.urlopen(f"http://127.0.0.1:{unused_port}/metrics", timeout=5) as r:
            text = r.read().decode()
        path = "/ai.stigmer.agentic.agent.v1.AgentCommandController/apply"
        assert f'stigmer_grpc_requests_total{{method="{path}",code="OK"}} 1' in text
        assert f'stigmer_grpc_requests_total{{method="{path}",code="UNAUTHENTICATED"}} 1' in text
        assert f'stigmer_grpc_requests_total{{method="{path}",code="RESOURCE_EXHAUSTED"}} 1' in text
        assert f'stigmer_grpc_request_duration_seconds_count{{method="{path}"}} 3' in text
        assert "stigmer_reconcile_total" in text  # the controller's metrics are still there
    finally:
        server.stop(signal.SIGKILL)


def test_calls_refused_while_draining_and_unknown_methods_are_counted(
    owned: Path, stubs: Stubs, unused_port: int
) -> None:
    server = start_server(owned, "--health-port", str(unused_port))
    md = bearer(make_token(owned, "alice"))
    channel = server.channel()
    try:
        unknown = channel.unary_unary("/stigmer.api.v1.Stigmer/Nope")
        assert code_of(lambda: unknown(b"", metadata=md))[0] == grpc.StatusCode.UNIMPLEMENTED
        # An apply held in flight by this process's write transaction keeps serve draining.
        held, release = threading.Event(), threading.Event()

        def holding(_txn: object) -> None:
            held.set()
            release.wait(60)

        def hold() -> None:
            with Client(owned, actor="alice") as local:
                local.store.transact(holding)

        holder = threading.Thread(target=hold)
        holder.start()
        held.wait(timeout=30)
        cmd = stubs.agent.AgentCommandControllerStub(channel)
        query = stubs.agent.AgentQueryControllerStub(channel)
        applying = cmd.apply.future(new_agent("Held"), metadata=md, timeout=60)
        # A call sent after it on the same connection is answered: the apply has arrived.
        assert code_of(lambda: query.get(AgentId(value="agt-x"), metadata=md))[0] == NOT_FOUND
        server.proc.send_signal(signal.SIGTERM)
        checker = health_pb2_grpc.HealthStub(channel)
        not_serving = health_pb2.HealthCheckResponse.NOT_SERVING
        wait_until(
            lambda: checker.Check(health_pb2.HealthCheckRequest()).status == not_serving,
            what="serve draining",
        )
        code = code_of(lambda: query.get(AgentId(value="agt-x"), metadata=md))[0]
        assert code == grpc.StatusCode.UNAVAILABLE
        with urllib.request.urlopen(f"http://127.0.0.1:{unused_port}/metrics", timeout=5) as r:
            text = r.read().decode()
        release.set()
        holder.join()
        assert applying.result().metadata.slug == "held"  # the call in flight finished
        path = "/ai.stigmer.agentic.agent.v1.AgentQueryController/get"
        assert f'stigmer_grpc_requests_total{{method="{path}",code="UNAVAILABLE"}} 1' in text
        assert 'stigmer_grpc_requests_total{method="unknown",code="UNIMPLEMENTED"} 1' in text
    finally:
        release.set()
        channel.close()
        server.stop(signal.SIGKILL)


def test_a_non_loopback_address_without_tls_warns(owned: Path) -> None:
    quiet = start_server(owned)  # loopback: no warning
    quiet.stop(signal.SIGTERM)
    assert not any("without TLS" in line for line in quiet.stderr)
    loud = start_server(owned, listen="0.0.0.0:0")
    loud.stop(signal.SIGTERM)
    assert any(
        line.startswith("WARNING stigmer.server: the API listens on 0.0.0.0:0 without TLS")
        for line in loud.stderr
    ), loud.stderr


def test_a_bad_listen_address_is_a_usage_error(owned: Path) -> None:
    done = stigmer("serve", "--listen", "0.0.0.0:99999", data_dir=owned)
    assert done.returncode == 2
    assert done.stderr == (
        'error: --listen "0.0.0.0:99999" is not HOST:PORT (or none, to serve no API)\n'
    )


def test_a_port_in_use_is_one_line_and_exit_1(owned: Path, tmp_path: Path) -> None:
    first = start_server(owned)
    try:
        other = tmp_path / "other"
        Client(other, actor="alice").close()
        done = stigmer("serve", "--listen", first.address, data_dir=other)
        assert done.returncode == 1
        assert done.stderr.endswith(
            f"error: cannot listen on {first.address}: the address is in use\n"
        ), done.stderr
        assert "Traceback" not in done.stderr
    finally:
        first.stop(signal.SIGKILL)


def test_tls_needs_both_the_certificate_and_the_key(owned: Path) -> None:
    cert = owned.parent / "cert.pem"
    cert.write_text("not really")
    done = stigmer("serve", "--listen", "127.0.0.1:0", "--tls-cert", str(cert), data_dir=owned)
    assert done.returncode == 2
    assert done.stderr == "error: --tls-cert and --tls-key go together\n"


def test_local_commands_never_import_grpc(data_dir: Path) -> None:
    for args in (("apply", "-f", "manifests/examples/"), ("get", "agents"), ("iam", "list")):
        _, modules = loaded_at_exit(*args, data_dir=data_dir)
        assert not {m for m in modules if m == "grpc" or m.startswith("grpc.")}, args


UPSTREAM_CLIENT = """
import sys
import grpc
from ai.stigmer.agentic.agent.v1 import api_pb2, api_pb2_grpc
from ai.stigmer.commons.apiresource import io_pb2

channel = grpc.insecure_channel(sys.argv[1])
md = (("authorization", "Bearer " + sys.argv[2]),)
agent = api_pb2.Agent(api_version="agentic.stigmer.ai/v1", kind="Agent")
agent.metadata.name = "Upstream Bot"
agent.spec.instructions = "Built from upstream's own protos."
made = api_pb2_grpc.AgentCommandControllerStub(channel).apply(agent, metadata=md)
query = api_pb2_grpc.AgentQueryControllerStub(channel)
got = query.get(api_pb2.AgentId(value=made.metadata.id), metadata=md)
ref = io_pb2.ApiResourceReference(org=made.metadata.org, slug="upstream-bot")
by_ref = query.getByReference(ref, metadata=md)
same = by_ref.metadata.id == made.metadata.id
print(made.metadata.slug, made.status.default_instance_id[:4], got.spec.instructions, same)
"""


def test_a_client_built_from_upstreams_protos_calls_the_server(
    server: Server, tmp_path: Path
) -> None:
    out = tmp_path / "upstream-client"
    out.mkdir()
    compile_stubs(
        out,
        UPSTREAM / "ai/stigmer/commons/apiresource/io.proto",
        UPSTREAM / "ai/stigmer/agentic/agent/v1/api.proto",
        include=UPSTREAM,
    )
    (out / "client.py").write_text(textwrap.dedent(UPSTREAM_CLIENT))
    token = make_token(server.data_dir, "alice")
    done = subprocess.run(  # its own process: upstream's names, nothing of stigmer's loaded
        [sys.executable, "client.py", server.address, token],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "upstream-bot ain- Built from upstream's own protos. True\n"
