"""Object tuples live and die with their objects; the data dir stays private."""

from __future__ import annotations

from pathlib import Path

from stigmer.api.kinds import Resource
from stigmer.api.v1.agent_instance_pb2 import AgentInstance
from stigmer.client import Client
from stigmer.iam import Iam
from stigmer.store import WriteTxn, open_store
from tests.iam.helpers import OWN, OWNER, agent_yaml, build_world, cli, run


def all_tuples(data: Path) -> list[str]:
    store = open_store(data)
    try:
        return store.tuples()
    finally:
        store.close()


def object_tuples(data: Path) -> list[str]:
    return [t for t in all_tuples(data) if not t.startswith("org:")]


def test_apply_records_owner_and_org_tuples_and_delete_removes_them(
    data_dir: Path, tmp_path: Path
) -> None:
    assert cli(data_dir, OWNER, "apply", "-f", str(agent_yaml(tmp_path / "a.yaml"))).exit_code == 0
    store = open_store(data_dir)
    try:
        agent = store.get_by_slug("agent", OWN, "bot")
        inst = store.get_by_slug("agent_instance", OWN, "bot-default")
    finally:
        store.close()
    a, i = f"agent:{agent.metadata.id}", f"agent_instance:{inst.metadata.id}"
    assert sorted(object_tuples(data_dir)) == sorted(
        [
            f"{a}#org@org:{OWN}",
            f"{a}#owner@user:{OWNER}",
            f"{i}#org@org:{OWN}",
            f"{i}#owner@user:{OWNER}",
        ]
    )
    assert cli(data_dir, OWNER, "--org", OWN, "iam", "grant", "bob", "viewer").exit_code == 0
    assert cli(data_dir, OWNER, "--org", OWN, "delete", "agent", "bot").exit_code == 0
    assert object_tuples(data_dir) == []  # the cascaded instance's too
    assert all_tuples(data_dir) == ["org:acme#viewer@user:bob"]  # role bindings stay


def test_a_reapply_by_another_editor_keeps_the_first_owner(data_dir: Path, tmp_path: Path) -> None:
    build_world(data_dir)
    edited = agent_yaml(tmp_path / "bot.yaml", instructions="Edited by eddie, an editor.")
    done = cli(data_dir, "eddie", "apply", "-f", str(edited))
    assert done.stdout == 'agent/bot configured in org "acme"\n'
    owners = [t for t in object_tuples(data_dir) if "#owner@" in t]
    assert owners and all(t.endswith(f"@user:{OWNER}") for t in owners)


class FailsOnInstances(Iam):
    """Records tuples as Iam does, then fails while recording the default instance's."""

    def record(self, txn: WriteTxn, obj: Resource, actor: str) -> None:
        super().record(txn, obj, actor)
        if isinstance(obj, AgentInstance):
            raise RuntimeError("disk on fire")


def test_tuples_commit_in_the_same_transaction_as_the_object(
    data_dir: Path, tmp_path: Path
) -> None:
    """A fault after the agent's tuples were written undoes them with the agent."""
    manifest = agent_yaml(tmp_path / "a.yaml")
    with Client(data_dir, actor=OWNER, authorizer=FailsOnInstances()) as c:
        before = c.store.revision()
        (result,) = c.apply_files([manifest]).results  # the document fails alone
        assert "RuntimeError: disk on fire" in str(result.error)
        assert c.store.revision() == before
        assert c.store.list("agent") == []
    assert object_tuples(data_dir) == []
    with Client(data_dir, actor=OWNER, authorizer=Iam()) as c:
        assert c.apply_files([manifest]).ok
    assert len(object_tuples(data_dir)) == 4


def test_a_fresh_data_dir_is_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run(data, "apply", "-f", str(agent_yaml(tmp_path / "a.yaml"))).returncode == 0
    assert data.stat().st_mode & 0o777 == 0o700
    for name in ("data.mdb", "lock.mdb"):
        assert (data / name).stat().st_mode & 0o777 == 0o600


def test_a_loose_data_dir_gets_a_warning_on_stderr(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run(data, "apply", "-f", str(agent_yaml(tmp_path / "a.yaml"))).returncode == 0
    data.chmod(0o755)
    result = run(data, "--org", OWN, "get", "agents")
    assert result.returncode == 0
    assert "bot" in result.stdout
    assert f"data dir {data} is readable by others (mode 755); run: chmod 700 {data}" in (
        result.stderr
    )
