"""stigmer.Client is the one application layer: identity per view, IAM and the tools.

A server serves many users on one open store through ``client.as_user(name)``;
the CLI (and the server) reach roles, store tools, sync, serve and migrate
only through the Client. These run through the re-running store wrapper too.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stigmer.api.kinds import Resource
from stigmer.cli.state import State
from stigmer.client import Client
from stigmer.errors import Forbidden, NotFound, StepFailed, UsageError
from stigmer.gitops.syncing import SyncReport
from stigmer.iam import CONTROLLER
from stigmer.reconcilers.events import Change
from tests.factories import agent
from tests.iam.helpers import SECRET, agent_yaml


@pytest.fixture
def alice(data_dir: Path) -> Iterator[Client]:
    """The CLI's kind of client (IAM enforced) on a fresh store, which alice owns."""
    with Client.for_user(str(data_dir), user="alice") as c:
        yield c


def created_by(obj: Resource) -> str:
    return obj.status.audit.spec_audit.created_by.id


def test_two_views_act_as_two_users_on_one_open_store(alice: Client) -> None:
    bob = alice.as_user("bob")
    heard: list[Change] = []
    alice.bus.subscribe(heard.append)

    denied = bob.apply([agent("agt-1", slug="bobs")])
    alice.grant("bob", "editor")
    mine, theirs = alice.apply([agent("agt-2", slug="alices")]), bob.apply([agent("agt-3")])
    bob.close()  # a view's close leaves the store open for its client

    assert bob.store is alice.store
    assert isinstance(denied[0].error, StepFailed) and isinstance(denied[0].error.cause, Forbidden)
    assert 'user "bob" cannot apply' in str(denied[0].error)
    assert created_by(alice.get("agents", "alices")) == "alice"
    assert created_by(alice.get("agents", theirs[0].name)) == "bob"
    assert mine[0].ok and theirs[0].ok
    assert {c.object.metadata.slug for c in heard} >= {"alices", theirs[0].name}  # one bus


def test_the_controller_identity_cannot_be_taken(data_dir: Path) -> None:
    with pytest.raises(UsageError, match="built-in controller"):
        Client.for_user(str(data_dir), user=CONTROLLER)
    assert not data_dir.exists()


def test_a_view_cannot_take_the_controller_identity(alice: Client) -> None:
    with pytest.raises(UsageError, match="built-in controller"):
        alice.as_user(CONTROLLER)
    with pytest.raises(UsageError, match="built-in controller"):
        alice.as_user("bob").as_user(CONTROLLER)
    assert alice.actor == "alice"


def test_grant_revoke_and_bindings_through_the_client(alice: Client) -> None:
    bob = alice.as_user("bob")
    assert alice.grant("bob", "viewer", org="acme") is True
    assert alice.grant("bob", "viewer", org="acme") is False
    alice.grant("carol", "editor", org="globex")

    with pytest.raises(Forbidden):
        bob.grant("bob", "admin", org="acme")
    seen_by_bob = {(b.org, b.user, b.role) for b in bob.bindings()}
    seen_by_alice = {(b.org, b.user, b.role) for b in alice.bindings()}
    alice.revoke("bob", "viewer", org="acme")
    with pytest.raises(NotFound):
        alice.revoke("bob", "viewer", org="acme")

    assert ("acme", "bob", "viewer") in seen_by_bob
    assert ("globex", "carol", "editor") not in seen_by_bob  # bob may not view globex
    assert ("globex", "carol", "editor") in seen_by_alice
    assert ("*", "alice", "admin") in seen_by_bob  # built-in roles are always shown
    assert all(b.user != "bob" for b in alice.bindings(org="acme"))


def test_check_says_why_and_asking_about_others_needs_viewer(alice: Client) -> None:
    alice.grant("bob", "viewer", org="acme")
    bob = alice.as_user("bob")

    mine = bob.check("bob", "delete", "agents", org="acme")
    theirs = alice.check("bob", "get", org="acme")

    assert not mine.allowed and "viewer" in mine.reason
    assert theirs.allowed
    with pytest.raises(Forbidden):
        bob.check("alice", "get", org="globex")
    with pytest.raises(UsageError, match="unknown verb"):
        alice.check("bob", "fly")


def test_store_tools_are_for_admins_of_every_org_and_mask(alice: Client, tmp_path: Path) -> None:
    report = alice.apply_files([agent_yaml(tmp_path / "m" / "bot.yaml", org="acme")])
    assert report.ok, report
    alice.grant("bob", "admin", org="acme")  # of one org only: not enough
    bob = alice.as_user("bob")

    for tool in (bob.check_store, bob.repair_store, bob.dump, bob.stats):
        with pytest.raises(Forbidden):
            tool()
    dumped = alice.dump("agents")

    assert alice.check_store() == []
    assert alice.stats().counts["agent"]["acme"] == 1
    assert [o.metadata.slug for o in dumped] == ["bot"]
    assert SECRET not in str(dumped)


def test_sync_serve_and_migrate_act_as_the_view(alice: Client, tmp_path: Path) -> None:
    agent_yaml(tmp_path / "repo" / "bot.yaml", org="local")
    alice.grant("eddie", "editor")
    bob, eddie = alice.as_user("bob"), alice.as_user("eddie")

    with pytest.raises(Forbidden):
        bob.syncer(tmp_path / "repo")
    with pytest.raises(Forbidden):
        bob.copy_to(f"lmdb:{tmp_path / 'copy'}")
    with pytest.raises(Forbidden), bob.controller(threading.Event()):
        pass
    assert eddie.syncer(tmp_path / "repo").sync().ok

    assert created_by(alice.get("agents", "bot")) == "eddie"
    assert not (tmp_path / "copy").exists()
    assert alice.copy_to(f"lmdb:{tmp_path / 'copy'}").ok


def test_the_syncer_the_client_returns_follows_its_directory(alice: Client, tmp_path: Path) -> None:
    """``sync --watch`` is the Syncer's follow loop: the CLI calls nothing under the Client."""
    agent_yaml(tmp_path / "repo" / "bot.yaml", org="local")
    stop, reports = threading.Event(), []

    def report(r: SyncReport) -> None:
        reports.append(r)
        stop.set()  # after the first full sync

    syncer = alice.syncer(tmp_path / "repo")
    follower = threading.Thread(target=syncer.follow, args=(stop,), kwargs={"report": report})
    follower.start()
    follower.join(timeout=60)
    stop.set()
    follower.join()

    assert reports and reports[0].ok
    assert created_by(alice.get("agents", "bot")) == "alice"


def test_manifest_text_applies_as_files_do(alice: Client) -> None:
    text = "apiVersion: agentic.stigmer.ai/v1\nkind: Agent\nmetadata:\n  name: {name}\n"
    text += "spec:\n  instructions: You are a careful assistant.\n"

    bad = alice.apply_text(text.format(name="one") + "  bogus: 1\n")
    good = alice.apply_text(text.format(name="two") + "---\n" + text.format(name="three"))

    assert not bad.ok and not bad.results
    assert bad.problems[0].file == "<stdin>" and "bogus" in str(bad.problems[0])
    assert [r.name for r in good.results] == ["two", "three"] and good.ok
    assert sorted(o.metadata.slug for o in alice.list("agents")) == ["three", "two"]


def test_declared_names_what_manifests_declare_without_writing(
    alice: Client, tmp_path: Path
) -> None:
    agent_yaml(tmp_path / "m" / "a.yaml", org="acme")
    agent_yaml(tmp_path / "m" / "b.yaml", "helper", org="local")
    (tmp_path / "m" / "c.yaml").write_text("kind: Agent\n")
    revision = alice.revision()

    problems, declared = alice.declared([tmp_path / "m"])

    assert declared == [("agent", "acme", "bot"), ("agent", "local", "helper")]
    assert problems and all(p.file.endswith("c.yaml") for p in problems)
    assert alice.revision() == revision


# Any on these would hide from mypy what the CLI and a server may rely on.
ANY = re.compile(r"\bAny\b")


def _with_any(surfaces: list[tuple[Any, str]]) -> list[str]:
    """The attributes (methods, properties, fields) among ``surfaces`` annotated with Any."""
    found = []
    for owner, name in surfaces:
        attr = getattr(owner, name, None)
        attr = attr.fget if isinstance(attr, property) else getattr(attr, "__func__", attr)
        hints = dict(getattr(attr, "__annotations__", {}))
        if name in getattr(owner, "__annotations__", {}):
            hints[name] = owner.__annotations__[name]
        found += [f"{owner.__name__}.{name}" for h in hints.values() if ANY.search(str(h))]
    return found


def test_no_any_on_the_clients_public_surface_or_the_cli_state() -> None:
    surfaces: list[tuple[Any, str]] = [(Client, n) for n in dir(Client) if not n.startswith("_")]
    surfaces += [(State, n) for n in (*State.__dataclass_fields__, "client", "url")]
    assert _with_any(surfaces) == []


def test_no_any_in_what_the_client_takes_or_returns_nor_in_the_cli_helpers() -> None:
    """A write's Request, the Syncer, the remote connection and the CLI's context helpers."""
    from stigmer.cli import state
    from stigmer.gitops.syncing import Syncer
    from stigmer.reconcilers.framework import Request
    from stigmer.remote.channel import Connection  # RemoteClient.connection

    surfaces: list[tuple[Any, str]] = [(Request, n) for n in Request.__dataclass_fields__]
    surfaces += [(Syncer, n) for n in dir(Syncer) if not n.startswith("_")]
    surfaces += [(Connection, n) for n in dir(Connection) if not n.startswith("_")]
    surfaces += [(state, "_report"), (state, "_set_org"), (state, "state")]
    surfaces += [(state.Command, "parse_args"), (state.Command, "invoke")]
    assert _with_any(surfaces) == []
