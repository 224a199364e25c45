"""The SDK's remote mode: ``stigmer.Client("grpc://HOST:PORT", token=...)``."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import stigmer
from stigmer import errors
from stigmer.api import kinds
from stigmer.api.kinds import AGENT_INSTANCE
from stigmer.api.v1.agent_pb2 import Agent
from stigmer.client import Client, Until, Waited
from stigmer.reconcilers.framework import create_request, update_request
from stigmer.remote.client import (
    INHERITED,
    LOCAL_ONLY_CONSTRUCTORS,
    LOCAL_ONLY_METHODS,
    RemoteClient,
)
from stigmer.store.protocol import Retention
from stigmer.tokens import Unauthenticated
from tests.processes import ROOT, wait_until
from tests.server.conftest import Server, make_token, new_agent

MANIFEST = """\
apiVersion: agentic.stigmer.ai/v1
kind: Agent
metadata:
  name: Remote One
spec:
  instructions: Answer remotely.
"""


@pytest.fixture
def remote(server: Server) -> Iterator[Client]:
    with stigmer.Client(
        f"grpc://{server.address}", token=make_token(server.data_dir, "alice")
    ) as c:
        yield c


def test_apply_get_list_delete_through_the_server(remote: Client, server: Server) -> None:
    report = remote.apply_text(MANIFEST)
    assert report.ok and [(r.name, r.outcome) for r in report.results] == [
        ("remote-one", "created")
    ]
    agent = remote.get("agents", "remote-one")
    assert isinstance(agent, Agent) and agent.status.default_instance_id
    assert [a.metadata.slug for a in remote.list("agents")] == ["remote-one"]
    with Client(server.data_dir, actor="alice") as local:  # it is in the server's store
        assert local.get("agents", "remote-one").metadata.id == agent.metadata.id
    deleted = remote.delete("agents", "remote-one")
    assert [o.metadata.slug for o in deleted] == ["remote-one", "remote-one-default"]
    assert remote.list("agents") == []


def test_errors_are_the_local_clients_types(remote: Client, server: Server) -> None:
    with pytest.raises(errors.NotFound, match='agent "nope" not found in org "local"'):
        remote.get("agents", "nope")
    remote.create(new_agent("Twice"))
    with pytest.raises(errors.AlreadyExists):
        remote.create(new_agent("Twice"))
    stale = remote.get("agents", "twice")
    [changed] = remote.apply([new_agent("Twice", instructions="Changed meanwhile.")])
    assert changed.ok, changed.error
    [result] = remote.apply([stale], expect_version=True)
    assert isinstance(result.error, errors.Conflict)
    with pytest.raises(errors.UsageError):  # a UsageError on the server stays one (exit 2)
        remote.check("bob", "fly")
    bob = stigmer.Client(f"grpc://{server.address}", token=make_token(server.data_dir, "bob"))
    with bob, pytest.raises(errors.Forbidden, match='user "bob" cannot list agents'):
        bob.list("agents")


def test_a_bad_token_is_unauthenticated(server: Server) -> None:
    with (
        stigmer.Client(f"grpc://{server.address}", token="stg_nope.nope") as c,
        pytest.raises(Unauthenticated),
    ):
        c.list("agents")


def test_invalid_manifests_name_their_field(remote: Client) -> None:
    report = remote.apply_text(MANIFEST.replace("instructions: Answer remotely.", "nope: 1"))
    assert not report.ok and not report.results
    assert [p.path for p in report.problems] == ["spec.instructions", "spec.nope"]
    assert str(report.problems[0]).startswith("<stdin>:")


def test_watch_sees_changes_and_expired_means_relist(remote: Client, server: Server) -> None:
    seen: list[str] = []
    stop = threading.Event()
    changes = remote.watch("agents", stop=stop)

    def follow() -> None:
        for change in changes:
            seen.append(change.object.metadata.slug)

    reader = threading.Thread(target=follow)
    reader.start()
    with Client(server.data_dir, actor="alice") as local:
        local.apply([new_agent("Watched")])
    wait_until(lambda: "watched" in seen, what="the remote change")
    stop.set()  # ends the stream, as a local watch ends
    reader.join(timeout=30)
    assert not reader.is_alive()
    with Client(server.data_dir, actor="alice") as local:
        local.apply([new_agent(f"Agent {i}") for i in range(5)])
        local.store.compact(Retention(events=1))
    with pytest.raises(errors.Expired, match="list again"):
        next(iter(remote.watch("agents", since=1)))


def test_a_local_client_never_imports_grpc(tmp_path: Path) -> None:
    code = (
        "import sys, stigmer\n"
        f"stigmer.Client({str(tmp_path / 'data')!r}, actor='alice').close()\n"
        f"stigmer.Client('sqlite:{tmp_path / 'db.sqlite'}', actor='alice').close()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'grpc'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "[]\n"


def test_a_token_is_refused_for_a_local_store(tmp_path: Path) -> None:
    with pytest.raises(errors.UsageError, match="grpc://"):
        Client(tmp_path / "data", token="x")


def test_concurrent_applies_of_objects_land_each_in_its_callers_org(server: Server) -> None:
    token = make_token(server.data_dir, "alice")
    out: dict[str, list[bool]] = {}

    def send(org: str) -> None:
        with stigmer.Client(f"grpc://{server.address}", token=token, org=org) as c:
            # The instance first: one call's objects are applied as one batch, agents first.
            extra = AGENT_INSTANCE.new()
            extra.metadata.name = f"Bot {org} Extra"
            extra.spec.agent_id = f"bot-{org}"  # type: ignore[union-attr]
            out[org] = [r.ok for r in c.apply([extra, new_agent(f"Bot {org}")])]

    orgs = [f"org{i}" for i in range(6)]
    threads = [threading.Thread(target=send, args=(o,)) for o in orgs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert out == {o: [True, True] for o in orgs}
    with Client(server.data_dir, actor="alice") as local:
        for org in orgs:
            assert [a.metadata.slug for a in local.list("agents", org=org)] == [f"bot-{org}"]
            slugs = {i.metadata.slug for i in local.list("agentinstances", org=org)}
            assert slugs == {f"bot-{org}-default", f"bot-{org}-extra"}
        assert local.check_store() == []


def test_every_member_of_the_local_client_is_served_or_refused_remotely() -> None:
    """Each public member: made as calls here, inherited as it is, or local-only (documented)."""
    public = {n for n in dir(Client) if not n.startswith("_")}
    own = {n for n in public if n in RemoteClient.__dict__}
    local_only = LOCAL_ONLY_METHODS | LOCAL_ONLY_CONSTRUCTORS
    assert public - own - INHERITED == set()
    assert INHERITED & set(RemoteClient.__dict__) == set()  # really inherited, not overridden
    assert local_only <= own
    remote = stigmer.Client("grpc://127.0.0.1:1", token="stg_x.y")  # nothing listens: no call
    with remote:
        for name in sorted(LOCAL_ONLY_METHODS - {"bus"}):
            with pytest.raises(errors.UsageError, match="needs a local store"):
                getattr(remote, name)()
        with pytest.raises(errors.UsageError, match="needs a local store"):
            remote.bus  # noqa: B018
        with pytest.raises(errors.UsageError, match="needs a local store"):
            remote.events()  # an org's events read the store's feed
    for name in sorted(LOCAL_ONLY_CONSTRUCTORS):
        with pytest.raises(errors.UsageError, match="needs a local store"):
            getattr(RemoteClient, name)("grpc://127.0.0.1:1")
    doc = (ROOT / "docs" / "architecture.md").read_text()
    assert [n for n in sorted(local_only) if f"`{n}`" not in doc] == []


def test_update_write_and_get_by_id_through_the_server(remote: Client, server: Server) -> None:
    created = remote.create(new_agent("Upd")).object
    assert created is not None
    live = remote.get("agents", "upd")
    live.spec.instructions = "Changed remotely."  # type: ignore[union-attr]
    updated = remote.update(live, expect_version=True)
    assert updated.outcome == "configured"
    with pytest.raises(errors.Conflict):  # live still carries the version it was read at
        remote.update(live, expect_version=True)
    gone = kinds.clone(live)
    gone.metadata.id = "agt-nope"
    with pytest.raises(errors.NotFound):  # update never creates, unlike apply
        remote.update(gone)
    other = new_agent("Elsewhere", org="other")
    results = remote.write([create_request(other), update_request(live), create_request(other)])
    assert [r.outcome for r in results[:2]] == ["created", "unchanged"]
    assert isinstance(results[2].error, errors.AlreadyExists)
    found = results[0].object
    assert found is not None
    assert remote.get_by_id("agents", found.metadata.id).metadata.slug == "elsewhere"
    with pytest.raises(errors.NotFound, match='agent "agt-nope" not found'):
        remote.get_by_id("agents", "agt-nope")
    with Client(server.data_dir, actor="alice") as local:
        assert local.get("agents", "upd").spec.instructions == "Changed remotely."  # type: ignore[union-attr]


def test_delete_objects_reconcile_and_apply_sources_through_the_server(
    remote: Client, server: Server
) -> None:
    report = remote.apply_sources([("one.yaml", MANIFEST)])
    assert report.ok and [r.outcome for r in report.results] == ["created"]
    [one] = remote.reconcile("agents", "remote-one")
    assert one.ok and one.name == "remote-one"
    everything = remote.reconcile()
    assert {(r.kind.name, r.name) for r in everything if r.ok} == {
        ("Agent", "remote-one"),
        ("AgentInstance", "remote-one-default"),
    }
    with pytest.raises(errors.NotFound):
        remote.reconcile("agents", "nope")
    agent = remote.get("agents", "remote-one")
    [dry] = remote.delete_objects([agent], dry_run=True)
    assert dry.ok and remote.list("agents")
    [deleted] = remote.delete_objects([agent])
    assert [o.metadata.slug for o in deleted.deleted] == ["remote-one", "remote-one-default"]
    with Client(server.data_dir, actor="alice") as local:
        assert local.list("agents") == [] and local.list("agentinstances") == []


def test_authorize_and_one_objects_events_through_the_server(
    remote: Client, server: Server
) -> None:
    remote.create(new_agent("Seen"))
    remote.authorize("apply", "agents")  # alice owns the store: no error
    assert [e.slug for e in remote.events("agents", "seen")] == ["seen"]
    with Client(server.data_dir, actor="alice") as local:
        local.grant("bob", "viewer", org="local")
    token = make_token(server.data_dir, "bob")
    with stigmer.Client(f"grpc://{server.address}", token=token) as bob:
        bob.authorize("get", "agents")
        with pytest.raises(errors.Forbidden) as refused:
            bob.authorize("apply", "agents")
    assert str(refused.value) == 'forbidden: user "bob" cannot apply agents in org "local"'


class Logged(logging.Handler):
    """Sets ``seen`` once a record is logged: a wait says it is waiting before it follows."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.seen = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.set()


def test_wait_follows_the_servers_feed(remote: Client, server: Server) -> None:
    remote.create(new_agent("Awaited"))
    assert remote.wait("agents", [(None, "awaited")], until=Until.parse("condition=Ready")) == []
    pending: list[list[Waited]] = []
    waiter = threading.Thread(
        target=lambda: pending.append(
            remote.wait("agents", [(None, "awaited")], until=Until.parse("delete"), timeout=60)
        )
    )
    logger, waiting = logging.getLogger("stigmer.client"), Logged()
    logger.addHandler(waiting)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        waiter.start()
        assert waiting.seen.wait(timeout=60)  # checked once: it still exists, so it follows
    finally:
        logger.removeHandler(waiting)
        logger.setLevel(level)
    with Client(server.data_dir, actor="alice") as local:
        local.delete("agents", "awaited")
    waiter.join()
    assert pending == [[]]
