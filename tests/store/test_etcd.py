"""What only the etcd backend does: its revisions, limits, races, restarts, compaction and leases.

Every test here runs against a real etcd (tests.etcdserver): the session's, or
one of its own when the test stops or restarts it.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from stigmer.errors import Expired, StoreError, StoreLocked
from stigmer.store import Store, open_store
from stigmer.store.etcdleader import LEASE_S, EtcdLeader
from stigmer.store.etcdstore import EtcdStore
from stigmer.store.protocol import Retention, WriteTxn
from tests.etcdserver import EtcdServer, require_etcd
from tests.factories import agent, as_agent, instance, putting
from tests.processes import ROOT, read_line, wait_until

WORKERS = [sys.executable, "-m", "tests.store._workers"]


@pytest.fixture
def etcd_store(etcd_server: EtcdServer) -> Iterator[Store]:
    store = open_store(etcd_server.url())
    yield store
    store.close()


@pytest.fixture
def own_etcd() -> Iterator[EtcdServer]:
    """An etcd of this test's own, which it may stop and start again."""
    require_etcd()
    server = EtcdServer()
    server.start()
    yield server
    server.close()


def spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*WORKERS, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_resource_versions_are_mod_revisions_and_one_transaction_shares_one(
    etcd_store: Store,
) -> None:
    assert etcd_store.revision() == 0  # an empty prefix is an empty store
    etcd_store.transact(lambda w: [w.put(agent("agt-1")), w.put(agent("agt-2"))])
    first = etcd_store.events_since(0)
    shared = first[0].revision
    assert [e.revision for e in first] == [shared, shared] and etcd_store.revision() == shared
    assert etcd_store.get("agent", "agt-2").metadata.resource_version == shared
    etcd_store.put(agent("agt-1", instructions="Newer instructions."))
    (second,) = etcd_store.events_since(shared)
    assert second.revision > shared == etcd_store.get("agent", "agt-2").metadata.resource_version
    assert etcd_store.get("agent", "agt-1").metadata.resource_version == second.revision


def test_a_write_set_above_etcds_limit_is_refused_naming_it_and_nothing_is_written(
    etcd_store: Store,
) -> None:
    with pytest.raises(StoreError, match="at most 128 operations"):
        etcd_store.transact(putting(*[agent(f"agt-{i}", slug=f"a{i}") for i in range(200)]))
    assert etcd_store.count("agent") == 0 and etcd_store.revision() == 0
    # A chunk, as the batch runner sizes it, fits.
    size = etcd_store.limits.chunk
    owners = [agent(f"agt-{i}", slug=f"a{i}") for i in range(size)]
    etcd_store.transact(putting(*owners, *[instance(f"ain-{i}", o) for i, o in enumerate(owners)]))
    assert etcd_store.count("agent_instance") == size and etcd_store.check() == []


def test_two_processes_racing_on_one_slug_exactly_one_wins(
    etcd_server: EtcdServer, tmp_path: Path
) -> None:
    url, go = etcd_server.url(), tmp_path / "go"
    procs = [spawn("claimer", url, f"agt-{n}", str(go)) for n in range(4)]
    time.sleep(0.5)  # let them open their stores, so they race on the write itself
    go.touch()
    outcomes = sorted(p.communicate(timeout=60)[0].strip() for p in procs)
    assert outcomes == ["lost", "lost", "lost", "won"]
    with closing(open_store(url)) as store:
        (winner,) = store.list("agent")
        assert store.get_by_slug("agent", "local", "contested") == winner
        assert store.check() == []


def test_four_processes_writing_at_once_lose_nothing(etcd_server: EtcdServer) -> None:
    url = etcd_server.url()
    procs = [spawn("writer", url, f"p{n}", "20") for n in range(4)]
    outputs = [p.communicate(timeout=120)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    with closing(open_store(url)) as store:
        assert {a.metadata.id for a in store.list("agent")} == {i for o in outputs for i in o}
        assert store.count("agent_instance") == 80
        events = store.events_since(0)
        assert len(events) == 160 and len({e.revision for e in events}) == 80
        assert store.check() == []


def test_etcd_restarted_in_the_middle_of_writes_the_writer_goes_on_and_nothing_is_half_written(
    own_etcd: EtcdServer,
) -> None:
    url = own_etcd.url()
    proc = spawn("writer", url, "w", "150")
    try:
        for _ in range(20):
            read_line(proc)
        own_etcd.stop()
        time.sleep(0.5)
        own_etcd.start()
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    with closing(open_store(url)) as store:
        agents = store.list("agent")
        assert len(agents) == 150
        for a in agents:  # each pair was one transaction: both or neither
            assert [o.metadata.id for o in store.list_owned(a.metadata.id)] == [
                a.metadata.id.replace("agt-", "ain-")
            ]
        assert store.check() == []


def test_compaction_while_a_watch_is_open(etcd_store: Store) -> None:
    etcd_store.put(agent("agt-0", slug="a0"))
    stop = threading.Event()
    following = etcd_store.watch(stop=stop, heartbeat=0.0)
    assert next(following) == []  # caught up and quiet: etcd's watch is open now
    behind = etcd_store.watch(etcd_store.revision())  # not read yet: it falls behind
    for i in (1, 2, 3):
        etcd_store.put(agent(f"agt-{i}", slug=f"a{i}"))
    assert etcd_store.compact(Retention(events=1)) == 3
    with pytest.raises(Expired):
        next(behind)
    etcd_store.put(agent("agt-9", slug="a9"))
    seen: list[str] = []
    while "agt-9" not in seen:  # the open watch misses nothing
        seen += [e.id for e in next(following)]
    assert seen == ["agt-1", "agt-2", "agt-3", "agt-9"]
    stop.set()
    assert [e.id for e in etcd_store.events_since(0)] == ["agt-3", "agt-9"]
    with pytest.raises(Expired):  # and a new watch from before the compaction, at once
        etcd_store.watch(1)


def _leader(store: Store) -> EtcdLeader:
    leader = store.leader()
    assert isinstance(leader, EtcdLeader)
    return leader


def test_a_lost_lease_ends_leadership_and_fences_the_writes(etcd_store: Store) -> None:
    leader = _leader(etcd_store)
    leader.acquire()
    etcd_store.put(agent("agt-1"))  # a leader writes
    lease = etcd_store.client.range(leader.key).kvs[0].lease  # type: ignore[attr-defined]
    etcd_store.client.revoke(lease)  # type: ignore[attr-defined]  # as if it expired
    with pytest.raises(StoreError, match="no longer leads"):
        etcd_store.put(agent("agt-2"))
    wait_until(lambda: not leader.is_leader(), timeout=10, what="leadership to end")
    assert etcd_store.find("agent", "agt-2") is None
    other = _leader(etcd_store)
    leader.resign()  # lets the store write again, unfenced
    other.acquire()
    assert other.fence > 0
    other.resign()


def _campaign(store: Store, deadline_s: float) -> float:
    """Acquires leadership as a waiting replica does; the seconds it took."""
    leader, start, stop = _leader(store), time.monotonic(), threading.Event()
    while time.monotonic() - start < deadline_s:
        try:
            leader.acquire()
            return time.monotonic() - start
        except StoreLocked:
            leader.wait(stop)
    raise AssertionError(f"no leadership within {deadline_s} s")


@pytest.mark.slow
def test_a_sigkilled_leader_is_replaced_within_the_lease(etcd_server: EtcdServer) -> None:
    url = etcd_server.url()
    proc = spawn("fenced_writer", url)
    try:
        assert read_line(proc).strip() == "leading"
        with closing(open_store(url)) as store:
            with pytest.raises(StoreLocked, match=f"pid {proc.pid}"):
                _leader(store).acquire()
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=20)
            _campaign(store, LEASE_S + 1.0)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


@pytest.mark.slow
def test_a_paused_leader_resumed_after_losing_its_lease_cannot_write(
    etcd_server: EtcdServer,
) -> None:
    url = etcd_server.url()
    proc = spawn("fenced_writer", url)
    try:
        assert read_line(proc).strip() == "leading"
        assert read_line(proc).startswith("wrote")
        proc.send_signal(signal.SIGSTOP)
        with closing(open_store(url)) as store:
            _campaign(store, LEASE_S + 3.0)
            taken = store.revision()
            proc.send_signal(signal.SIGCONT)
            while not (line := read_line(proc)).startswith("refused"):
                assert line.startswith("wrote")  # a write sent before the pause ended
            assert all(e.revision <= taken for e in store.events_since(0))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_an_object_read_ahead_and_changed_before_the_commit_runs_the_transaction_again(
    etcd_server: EtcdServer,
) -> None:
    url = etcd_server.url()
    with closing(open_store(url)) as store, closing(open_store(url)) as other:
        store.put(agent("agt-1", slug="helper"))
        seen: list[str] = []

        def fn(w: WriteTxn) -> None:
            w.prefetch([("agent", "local", "helper")])
            live = as_agent(w.get_by_slug("agent", "local", "helper"))
            seen.append(live.spec.instructions)
            if len(seen) == 1:  # another writer commits between the read ahead and the commit
                other.put(agent("agt-1", slug="helper", instructions="Changed elsewhere."))
            w.put(agent("agt-1", slug="helper", instructions=live.spec.instructions + " Again."))

        store.transact(fn)
        assert seen[1] == "Changed elsewhere."
        stored = as_agent(store.get("agent", "agt-1"))
        assert stored.spec.instructions == "Changed elsewhere. Again."


def test_a_list_by_org_reads_that_orgs_objects_only(
    etcd_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The org's index entries, then its objects: not every object of the kind."""
    for part in range(2):
        big = [agent(f"agt-b{part}-{i}", org="big") for i in range(20)]
        etcd_store.transact(putting(*big))
    etcd_store.transact(putting(agent("agt-s1", org="small"), agent("agt-s2", org="small")))
    assert isinstance(etcd_store, EtcdStore)
    client, returned = etcd_store.client, []
    real_range, real_txn = client.range, client.txn

    def counting_range(*args: Any, **options: Any) -> Any:
        reply = real_range(*args, **options)
        returned.append(len(reply.kvs))
        return reply

    def counting_txn(*args: Any) -> Any:
        reply = real_txn(*args)
        returned.append(sum(len(r.response_range.kvs) for r in reply.responses))
        return reply

    monkeypatch.setattr(client, "range", counting_range)
    monkeypatch.setattr(client, "txn", counting_txn)
    assert [a.metadata.id for a in etcd_store.list("agent", org="small")] == ["agt-s1", "agt-s2"]
    in_txn = etcd_store.transact(lambda w: [a.metadata.id for a in w.list("agent", org="small")])
    assert in_txn == ["agt-s1", "agt-s2"]
    assert sum(returned) <= 2 * (2 + 2 + 1)  # index keys and objects, twice; a revision key each


def adding(tuples: list[str]) -> Callable[[WriteTxn], list[bool]]:
    return lambda w: [w.add_tuple(t) for t in tuples]


@pytest.mark.parametrize("listed", [2, 150], ids=["few keys", "more keys than etcd compares"])
def test_a_key_deleted_between_a_listing_and_the_commit_runs_the_transaction_again(
    etcd_server: EtcdServer, listed: int
) -> None:
    url = etcd_server.url()
    with closing(open_store(url)) as store, closing(open_store(url)) as other:
        viewers = [f"agent:agt-1#viewer@user:u{n:03}" for n in range(listed)]
        for start in range(0, listed, 75):  # a transaction of 75 writes fits etcd's 128
            store.transact(adding(viewers[start : start + 75]))
        counts: list[int] = []

        def fn(w: WriteTxn) -> None:
            counts.append(len(w.tuples("agent:agt-1#viewer@")))
            if len(counts) == 1:  # another writer deletes one between the listing and the commit
                other.transact(lambda o: o.remove_tuple("agent:agt-1#viewer@user:u000"))
            w.set_meta("viewers", str(counts[-1]))

        store.transact(fn)
        assert counts == [listed, listed - 1]
        assert store.get_meta("viewers") == str(listed - 1)
