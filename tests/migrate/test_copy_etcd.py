"""``stigmer migrate copy`` to etcd and back: nothing lost, revisions re-based."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

from stigmer.api.kinds import Resource
from stigmer.api.v1.event_pb2 import Event
from stigmer.client import Client
from stigmer.store import Store, open_store
from stigmer.store.protocol import EventRecord, ObjectRecord
from tests.etcdserver import EtcdServer
from tests.factories import agent
from tests.migrate.conftest import Run
from tests.migrate.test_copying import populate
from tests.migrate.upstream import UpstreamDb
from tests.reconcilers.helpers import assert_converged, new_agent


def _unversioned(obj: Resource) -> bytes:
    """An object's bytes without its resource_version, which a copy into etcd re-bases."""
    copy = type(obj).FromString(obj.SerializeToString())
    copy.metadata.resource_version = 0
    return copy.SerializeToString()


def _event(event: Event) -> Event:
    copy = Event.FromString(event.SerializeToString())
    copy.revision = 0
    return copy


def _same_store_but_revisions(original: Store, copy: Store) -> None:
    for kind in ("agent", "agent_instance"):
        assert [_unversioned(o) for o in copy.list(kind)] == [
            _unversioned(o) for o in original.list(kind)
        ]
    there, here = original.events_since(0), copy.events_since(0)
    assert [_event(e) for e in here] == [_event(e) for e in there]
    # re-based, but in the same order: a later event never gets an earlier revision
    assert [e.revision for e in here] == sorted(e.revision for e in here)
    assert copy.tuples() == original.tuples()
    assert copy.get_meta("owner") == original.get_meta("owner")
    assert copy.check() == []


def test_lmdb_to_etcd_to_lmdb_loses_nothing_and_rebases_revisions(
    tmp_path: Path, etcd_server: EtcdServer, run: Run, data_dir: Path
) -> None:
    with closing(open_store(data_dir)) as original:
        populate(original, tmp_path)
        with Client(original, actor="bob") as client:  # more than one etcd transaction holds
            client.apply([new_agent(f"Bulk {i}") for i in range(30)])
    url, back = etcd_server.url(), tmp_path / "back"

    there = run("migrate", "copy", "--to", url)
    home = run("migrate", "copy", "--from", url, "--to", f"lmdb:{back}")

    assert there.exit_code == 0, there.output
    assert there.stdout.splitlines()[0] == f"copied lmdb:{data_dir} to {url}"
    assert there.stdout.splitlines()[-1] == f"store {url} is consistent"
    assert home.exit_code == 0, home.output
    with (
        closing(open_store(data_dir)) as original,
        closing(open_store(url)) as middle,
        closing(open_store(back)) as restored,
    ):
        _same_store_but_revisions(original, middle)
        _same_store_but_revisions(original, restored)
        records = list(middle.records())
        assert list(restored.records()) == records  # from etcd on, the copy is exact
        assert {type(r) for r in records} >= {ObjectRecord, EventRecord}
        assert_converged(middle)
        middle.put(agent("agt-after", slug="after"))
        assert (
            middle.get("agent", "agt-after").metadata.resource_version
            > middle.events_since(0)[-2].revision
        )


def test_a_copy_into_a_prefix_that_holds_anything_is_refused(
    tmp_path: Path, etcd_server: EtcdServer, run: Run, upstream: UpstreamDb
) -> None:
    url = etcd_server.url()
    with closing(open_store(url)) as taken:
        taken.put(agent("agt-here", slug="here"))
    with closing(open_store(tmp_path / "data")) as source:
        source.put(agent("agt-1", slug="one"))
    refused = run("migrate", "copy", "--to", url)
    assert refused.exit_code == 1
    assert f"destination {url} is not empty" in refused.output
    assert "Traceback" not in refused.output
    with closing(open_store(url)) as taken:
        assert [a.metadata.id for a in taken.list("agent")] == ["agt-here"]
