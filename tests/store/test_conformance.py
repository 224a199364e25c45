"""The Store contract. Written against the protocol only, so every backend runs it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from stigmer.api.v1.event_pb2 import Event, EventType
from stigmer.errors import AlreadyExists, Conflict, NotFound, StoreClosed, StoreError
from stigmer.store import Store, open_store
from stigmer.store.protocol import (
    EventRecord,
    MetaRecord,
    ObjectRecord,
    Record,
    RevisionRecord,
    TupleRecord,
    WriteTxn,
)
from stigmer.store.selectors import parse
from tests.factories import agent, as_agent, instance, putting
from tests.store.conftest import KEEPS_REVISIONS

_BIG = (
    "one transaction of thousands of writes is above etcd's 128 operations; "
    "test_etcd.py checks that it is refused, naming the limit"
)
_REBASE = (
    "a restore into etcd cannot set etcd's revisions: it re-bases them "
    "(tests/migrate/test_copy_etcd.py covers the copy)"
)


def ids(objs: list) -> list[str]:  # type: ignore[type-arg]
    return [o.metadata.id for o in objs]


def test_put_then_get_by_id_and_by_slug(store: Store) -> None:
    a = agent("agt-1", slug="helper")
    store.put(a)
    assert store.get("agent", "agt-1") == a
    assert store.get_by_slug("agent", "local", "helper") == a
    assert store.find("agent", "nope") is None
    assert store.find_by_slug("agent", "local", "nope") is None


def test_missing_objects_raise_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        store.get("agent", "agt-missing")
    with pytest.raises(NotFound):
        store.get_by_slug("agent", "local", "missing")


@pytest.mark.parametrize("weird", ["a-b", "a_b", "a.b", "a:b", "a/b", "a@b", "a+b", "-_.:/@+"])
def test_ids_with_punctuation_round_trip_through_every_index(store: Store, weird: str) -> None:
    owner = agent(f"agt-{weird}", slug="owner")
    child = instance(f"ain-{weird}", owner, slug="child")
    store.transact(lambda w: (w.put(owner), w.put(child)))
    assert store.get("agent", f"agt-{weird}") == owner
    assert ids(store.list("agent", org="local")) == [f"agt-{weird}"]
    assert ids(store.list_owned(f"agt-{weird}")) == [f"ain-{weird}"]
    assert store.check() == []
    store.transact(lambda w: w.delete("agent", f"agt-{weird}"))
    assert store.list("agent") == []
    assert store.check() == []


def test_an_owner_whose_id_prefixes_another_does_not_see_its_children(store: Store) -> None:
    short, long_ = agent("a", slug="short"), agent("a/agent", slug="long")
    store.transact(lambda w: (w.put(short), w.put(long_), w.put(instance("i", long_))))
    assert store.list_owned("a") == []
    assert ids(store.list_owned("a/agent")) == ["i"]


def test_empty_store_lists_are_empty_not_errors(store: Store) -> None:
    assert store.list("agent") == []
    assert store.list("agent", org="nowhere") == []
    assert store.list("agent", selector=parse("a=b")) == []
    assert store.list_owned("agt-x") == []
    assert store.count("agent") == 0
    assert store.orgs("agent") == []
    assert store.revision() == 0
    assert store.events_since(0) == []
    assert store.tuples() == []


def test_list_by_org_returns_only_that_org(store: Store) -> None:
    objs = [agent(f"agt-{i}", org=org) for i, org in enumerate(["acme", "globex", "acme", "a"])]
    store.transact(lambda w: [w.put(o) for o in objs])
    assert ids(store.list("agent", org="acme")) == ["agt-0", "agt-2"]
    assert ids(store.list("agent", org="a")) == ["agt-3"]
    assert ids(store.list("agent")) == ["agt-0", "agt-1", "agt-2", "agt-3"]
    assert store.count("agent", org="acme") == 2
    assert store.orgs("agent") == ["a", "acme", "globex"]


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("tier=gold", ["agt-1"]),
        ("tier==gold", ["agt-1"]),
        ("tier!=gold", ["agt-2", "agt-3"]),
        ("tier", ["agt-1", "agt-2"]),
        ("!tier", ["agt-3"]),
        ("tier in (gold,silver)", ["agt-1", "agt-2"]),
        ("tier notin (gold)", ["agt-2", "agt-3"]),
        ("tier,team=a", ["agt-1"]),
        ("", ["agt-1", "agt-2", "agt-3"]),
    ],
)
def test_list_with_label_selector(store: Store, selector: str, expected: list[str]) -> None:
    store.transact(
        lambda w: [
            w.put(agent("agt-1", labels={"tier": "gold", "team": "a"})),
            w.put(agent("agt-2", labels={"tier": "silver"})),
            w.put(agent("agt-3", labels={"team": "a"})),
        ]
    )
    assert ids(store.list("agent", selector=parse(selector))) == expected


def test_kinds_are_separate_namespaces(store: Store) -> None:
    a = agent("x", slug="same")
    store.transact(lambda w: (w.put(a), w.put(instance("x", a, slug="same"))))
    assert store.get("agent", "x").metadata.slug == "same"
    assert store.get("agent_instance", "x").metadata.slug == "same"
    assert store.count("agent") == 1
    assert store.count("agent_instance") == 1


def test_slug_is_unique_per_kind_and_org_only(store: Store) -> None:
    store.put(agent("agt-1", slug="bot"))
    with pytest.raises(AlreadyExists, match='"bot" already exists in org "local"'):
        store.transact(lambda w: w.put(agent("agt-2", slug="bot")))
    store.transact(lambda w: w.put(agent("agt-3", slug="bot", org="other")))
    assert store.get_by_slug("agent", "other", "bot").metadata.id == "agt-3"


def test_compare_and_swap(store: Store) -> None:
    a = agent("agt-1")
    store.transact(lambda w: w.put(a, expected_version=0))
    rv = store.get("agent", "agt-1").metadata.resource_version
    with pytest.raises(Conflict):
        store.transact(lambda w: w.put(agent("agt-1"), expected_version=0))
    with pytest.raises(Conflict):
        store.transact(lambda w: w.put(agent("agt-1"), expected_version=rv + 5))
    b = agent("agt-1", instructions="Changed instructions here.")
    store.transact(lambda w: w.put(b, expected_version=rv))
    assert as_agent(store.get("agent", "agt-1")).spec.instructions == "Changed instructions here."
    with pytest.raises(Conflict):  # the old version is gone now
        store.transact(lambda w: w.put(agent("agt-1"), expected_version=rv))
    with pytest.raises(Conflict):
        store.transact(lambda w: w.delete("agent", "agt-1", expected_version=rv))


def _versions(store: Store, *ids_: str) -> list[int]:
    return [store.get("agent", id_).metadata.resource_version for id_ in ids_]


def test_resource_version_is_the_revision_of_the_last_write(store: Store) -> None:
    # The contract etcd can meet (docs/architecture.md, "The Store contract"): the
    # writes of one transaction may share a revision, and every revision of a later
    # transaction is above every one of an earlier transaction.
    store.transact(lambda w: [w.put(agent("agt-1")), w.put(agent("agt-2"))])
    first = store.events_since(0)
    assert [e.id for e in first] == ["agt-1", "agt-2"]
    assert _versions(store, "agt-1", "agt-2") == [e.revision for e in first]
    assert 0 < first[0].revision <= first[1].revision == store.revision()
    store.transact(lambda w: w.put(agent("agt-1")))
    (second,) = store.events_since(first[-1].revision)
    assert second.id == "agt-1" and second.revision > first[-1].revision
    assert _versions(store, "agt-1", "agt-2") == [second.revision, first[1].revision]
    assert store.revision() == second.revision


def test_events_are_ordered_by_revision_and_a_limit_never_splits_a_revision(
    store: Store,
) -> None:
    for n in range(3):
        store.transact(putting(*[agent(f"agt-{n}-{i}") for i in range(3)]))
    events = store.events_since(0)
    assert [e.id for e in events] == [f"agt-{n}-{i}" for n in range(3) for i in range(3)]
    assert [e.revision for e in events] == sorted(e.revision for e in events)
    seen: list[Event] = []
    after = 0
    while batch := store.events_since(after, limit=2):
        assert len(batch) >= 2 or batch == events[len(seen) :]
        last = batch[-1].revision  # a batch ends with the whole of its last revision
        assert all(e.revision <= last for e in events[: len(seen) + len(batch)])
        assert all(e.revision > last for e in events[len(seen) + len(batch) :])
        seen += batch
        after = last
    assert seen == events == list(store.iter_events(0))


def test_update_that_moves_org_and_slug_moves_the_indexes(store: Store) -> None:
    store.transact(lambda w: w.put(agent("agt-1", slug="old", org="a")))
    store.transact(lambda w: w.put(agent("agt-1", slug="new", org="b")))
    assert store.find_by_slug("agent", "a", "old") is None
    assert store.get_by_slug("agent", "b", "new").metadata.id == "agt-1"
    assert store.list("agent", org="a") == []
    assert store.check() == []


def test_delete_removes_object_and_indexes_and_returns_it(store: Store) -> None:
    a = agent("agt-1", slug="bot")
    child = instance("ain-1", a)
    store.transact(lambda w: (w.put(a), w.put(child)))
    deleted = store.transact(lambda w: w.delete("agent_instance", "ain-1"))
    assert deleted is not None and deleted.metadata.id == "ain-1"
    assert store.list_owned("agt-1") == []
    store.transact(lambda w: w.delete("agent", "agt-1"))
    assert store.find_by_slug("agent", "local", "bot") is None
    assert store.list("agent", org="local") == []
    assert store.check() == []
    store.transact(lambda w: w.put(agent("agt-2", slug="bot")))  # the slug is free again


def test_delete_of_a_missing_id_is_not_an_error(store: Store) -> None:
    assert store.transact(lambda w: w.delete("agent", "agt-nope")) is None
    assert store.revision() == 0
    assert store.events_since(0) == []


def test_delete_all_of_a_kind_returns_the_count(store: Store) -> None:
    a = agent("agt-1")
    store.transact(lambda w: [w.put(a), w.put(agent("agt-2")), w.put(instance("ain-1", a))])
    assert store.transact(lambda w: w.delete_all("agent")) == 2
    assert store.list("agent") == []
    assert store.count("agent_instance") == 1
    assert store.transact(lambda w: w.delete_all("agent")) == 0


def test_every_write_appends_an_event(store: Store) -> None:
    store.transact(lambda w: w.put(agent("agt-1")), actor="alice")
    store.transact(lambda w: w.put(agent("agt-1")), actor="bob")
    store.transact(lambda w: w.delete("agent", "agt-1"), actor="carol")
    events = store.events_since(0)
    assert [(e.type, e.id, e.actor) for e in events] == [
        (EventType.created, "agt-1", "alice"),
        (EventType.updated, "agt-1", "bob"),
        (EventType.deleted, "agt-1", "carol"),
    ]
    r1, r2, r3 = (e.revision for e in events)
    assert 0 < r1 < r2 < r3 == store.revision()  # three transactions: three growing revisions
    assert all(e.kind == "agent" and e.org == "local" for e in events)
    assert store.events_since(r1) == events[1:]
    assert store.events_since(0, limit=2) == events[:2]
    assert store.events_since(r3) == []
    assert list(store.iter_events(r1)) == events[1:]


def test_transaction_events_are_visible_to_the_writer(store: Store) -> None:
    def fn(w):  # type: ignore[no-untyped-def]
        w.put(agent("agt-1"))
        w.put(agent("agt-2"))
        return [e.id for e in w.events]

    assert store.transact(fn) == ["agt-1", "agt-2"]


def test_a_failing_transaction_writes_nothing(store: Store) -> None:
    store.transact(lambda w: w.put(agent("agt-0")))

    def fn(w):  # type: ignore[no-untyped-def]
        w.put(agent("agt-1"))
        w.delete("agent", "agt-0")
        w.add_tuple("org:x#admin@user:y")
        w.set_meta("owner", "z")
        raise RuntimeError("injected fault")

    with pytest.raises(RuntimeError, match="injected fault"):
        store.transact(fn)
    assert ids(store.list("agent")) == ["agt-0"]
    assert store.revision() == _versions(store, "agt-0")[0]
    assert len(store.events_since(0)) == 1
    assert store.tuples() == []
    assert store.get_meta("owner") is None
    assert store.check() == []


def test_reads_inside_a_transaction_see_its_writes(store: Store) -> None:
    def fn(w):  # type: ignore[no-untyped-def]
        w.put(agent("agt-1", slug="bot"))
        return w.get_by_slug("agent", "local", "bot").metadata.id

    assert store.transact(fn) == "agt-1"


def test_a_read_snapshot_is_consistent(store: Store, reopen: Callable[[], Store]) -> None:
    store.transact(lambda w: w.put(agent("agt-1")))
    first = store.revision()
    with store.read() as r:
        reopen().transact(lambda w: w.put(agent("agt-2")))
        assert r.count("agent") == 1
        assert r.revision() == first
    assert store.count("agent") == 2


def test_meta_and_relation_tuples(store: Store) -> None:
    assert store.transact(lambda w: w.add_tuple("org:acme#editor@user:bob"))
    assert not store.transact(lambda w: w.add_tuple("org:acme#editor@user:bob"))
    store.transact(lambda w: w.add_tuple("agent:agt-1#owner@user:alice"))
    store.transact(lambda w: w.set_meta("owner", "alice"))
    assert store.tuples() == ["agent:agt-1#owner@user:alice", "org:acme#editor@user:bob"]
    assert store.tuples("org:") == ["org:acme#editor@user:bob"]
    assert store.get_meta("owner") == "alice"
    assert store.transact(lambda w: w.remove_tuple("org:acme#editor@user:bob"))
    assert not store.transact(lambda w: w.remove_tuple("org:acme#editor@user:bob"))
    assert store.tuples("org:") == []


@pytest.mark.not_on_etcd(_BIG)
def test_a_thousand_objects(store: Store) -> None:
    agents = [agent(f"agt-{i:04d}", org=f"org{i % 10}") for i in range(1000)]
    store.transact(lambda w: [w.put(a) for a in agents])
    assert store.count("agent") == 1000
    assert len(store.list("agent", org="org3")) == 100
    assert store.get_by_slug("agent", "org7", "a0997").metadata.id == "agt-0997"
    assert store.revision() == max(e.revision for e in store.iter_events(0))
    assert store.stats().counts["agent"]["org0"] == 100
    assert store.check() == []


def test_writes_are_seen_by_another_handle(store: Store, reopen: Callable[[], Store]) -> None:
    other = reopen()
    store.transact(lambda w: w.put(agent("agt-1")))
    assert other.get("agent", "agt-1").metadata.id == "agt-1"
    other.close()
    assert store.get("agent", "agt-1").metadata.id == "agt-1"  # closing one keeps the other


def test_every_call_after_close_raises_store_closed(store: Store) -> None:
    store.close()
    store.close()  # idempotent
    calls: list[Callable[[], object]] = [
        lambda: store.get("agent", "x"),
        lambda: store.find("agent", "x"),
        lambda: store.get_by_slug("agent", "local", "x"),
        lambda: store.find_by_slug("agent", "local", "x"),
        lambda: store.list("agent"),
        lambda: store.list_owned("x"),
        lambda: store.count("agent"),
        lambda: store.orgs("agent"),
        store.revision,
        lambda: store.get_meta("x"),
        store.tuples,
        lambda: store.transact(lambda w: None),
        lambda: store.events_since(0),
        store.check,
        store.stats,
        lambda: store.read().__enter__(),
    ]
    for call in calls:
        with pytest.raises(StoreClosed, match="is closed"):
            call()


@pytest.mark.not_on_etcd(_BIG)
def test_check_passes_on_a_busy_store(store: Store) -> None:
    owners = [agent(f"agt-{i}", org=f"o{i % 3}") for i in range(30)]
    store.transact(lambda w: [w.put(o) for o in owners])
    store.transact(lambda w: [w.put(instance(f"ain-{i}", o)) for i, o in enumerate(owners)])
    store.transact(lambda w: [w.delete("agent", f"agt-{i}") for i in range(0, 30, 2)])
    store.transact(lambda w: w.put(agent("agt-1", org="moved", slug="moved")))
    assert store.check() == []


def test_a_failed_nested_transaction_undoes_only_itself(store: Store) -> None:
    def fn(w):  # type: ignore[no-untyped-def]
        w.put(agent("agt-1"))

        def failing(t):  # type: ignore[no-untyped-def]
            t.put(agent("agt-2"))
            t.put(agent("agt-1", instructions="Changed inside the nested one."))
            t.add_tuple("org:x#admin@user:y")
            raise RuntimeError("document failed")

        with pytest.raises(RuntimeError):
            w.nested(failing)
        assert w.find("agent", "agt-2") is None
        assert w.get("agent", "agt-1").spec.instructions == "You are a helpful agent."
        assert w.nested(lambda t: t.put(agent("agt-3"))).metadata.id == "agt-3"
        return [e.id for e in w.events]

    assert store.transact(fn) == ["agt-1", "agt-3"]
    assert ids(store.list("agent")) == ["agt-1", "agt-3"]
    assert store.tuples() == []
    events = store.events_since(0)
    assert [(e.revision, e.id) for e in events] == list(
        zip(_versions(store, "agt-1", "agt-3"), ["agt-1", "agt-3"], strict=True)
    )
    assert store.check() == []


def test_every_kind_of_write_counts_and_the_count_never_goes_back(store: Store) -> None:
    def fn(w):  # type: ignore[no-untyped-def]
        seen = [w.writes]

        def step(write: Callable[[], object]) -> None:
            write()
            seen.append(w.writes)

        step(lambda: w.put(agent("agt-1")))
        step(lambda: w.put(agent("agt-1", instructions="Rewritten in the same transaction.")))
        step(lambda: w.add_tuple("org:x#admin@user:y"))
        step(lambda: w.set_meta("k", "v"))
        step(lambda: w.remove_tuple("org:x#admin@user:y"))
        step(lambda: w.delete("agent", "agt-1"))
        wrote_nothing = w.writes
        w.add_tuple("org:x#admin@user:z")
        w.add_tuple("org:x#admin@user:z")  # already there: not a write
        w.remove_tuple("org:none#admin@user:none")  # not there: not a write
        w.delete("agent", "agt-none")  # not there: not a write
        assert w.writes == wrote_nothing + 1

        def failing(t):  # type: ignore[no-untyped-def]
            t.put(agent("agt-2"))
            raise RuntimeError("undone")

        before = w.writes
        with pytest.raises(RuntimeError):
            w.nested(failing)
        assert w.writes == before + 1  # undone, but it was written
        return seen

    seen = store.transact(fn)
    assert seen == sorted(set(seen)) and len(seen) == 7  # each write moved the count


def test_writes_to_one_object_in_a_transaction_are_one_revision_and_event(store: Store) -> None:
    def fn(w):  # type: ignore[no-untyped-def]
        w.put(agent("agt-1"))
        w.put(agent("agt-2"))
        w.put(agent("agt-1", instructions="The final instructions."))

    store.transact(fn)
    events = store.events_since(0)
    assert [(e.id, e.type) for e in events] == [
        ("agt-1", EventType.created),
        ("agt-2", EventType.created),
    ]
    a = as_agent(store.get("agent", "agt-1"))
    assert a.metadata.resource_version == events[0].revision
    assert a.spec.instructions == "The final instructions."
    assert store.revision() == events[1].revision
    store.transact(lambda w: (w.put(agent("agt-1")), w.put(agent("agt-1"))))
    (again,) = store.events_since(events[1].revision)
    assert again.type == EventType.updated and again.revision > events[1].revision


def test_a_transaction_that_writes_nothing_commits_nothing(store: Store) -> None:
    store.transact(lambda w: (w.put(agent("agt-1")), w.add_tuple("org:x#admin@user:y")))
    revision, events = store.revision(), store.events_since(0)
    assert (
        store.transact(lambda w: (w.find("agent", "agt-1"), w.add_tuple("org:x#admin@user:y")))[0]
        is not None
    )
    assert store.transact(lambda w: w.delete("agent", "nope")) is None
    assert store.revision() == revision and store.events_since(0) == events


def test_limits_and_org_order(store: Store) -> None:
    store.transact(lambda w: [w.put(agent("agt-1", org="a")), w.put(agent("agt-2", org="a-b"))])
    assert store.events_since(0, limit=0) == []
    assert store.orgs("agent") == ["a", "a-b"]


# -- records and restore: copying a store whole, to either backend ----------------


def _busy(store: Store) -> None:
    """A store with history: creates, updates, a delete, meta and tuples."""
    owner = agent("agt-1", org="acme", slug="bot", labels={"team": "ünï"})
    store.transact(lambda w: (w.put(owner), w.put(instance("ain-1", owner, slug="bot-default"))))
    store.transact(lambda w: w.put(agent("agt-2", slug="gone")))
    store.transact(lambda w: w.put(agent("agt-1", org="acme", slug="bot", instructions="Newer.")))
    store.delete("agent", "agt-2")

    def owner_and_admin(w: WriteTxn) -> None:
        w.set_meta("owner", "alice")
        w.add_tuple("org:acme#admin@user:a")

    store.transact(owner_and_admin)


def _restored(records: list[Record], url: str) -> Store:
    target = open_store(url)

    def restore(w: WriteTxn) -> None:
        for record in records:
            w.restore(record)

    target.transact(restore)
    return target


@pytest.mark.parametrize("target_backend", sorted(KEEPS_REVISIONS))
@pytest.mark.not_on_etcd(_REBASE)
def test_records_restore_into_either_backend_as_they_were(
    store: Store, tmp_path: Path, target_backend: str
) -> None:
    _busy(store)
    records = list(store.records())
    assert records[0] == RevisionRecord(5)
    assert {type(r) for r in records} == {
        RevisionRecord,
        ObjectRecord,
        EventRecord,
        MetaRecord,
        TupleRecord,
    }
    target = _restored(records, f"{target_backend}:{tmp_path / 'copy' / 'target'}")
    try:
        assert list(target.records()) == records
        assert target.revision() == 5
        assert target.events_since(0) == store.events_since(0)
        assert target.get("agent", "agt-1") == store.get("agent", "agt-1")
        assert target.get("agent", "agt-1").metadata.resource_version == 4
        assert ids(target.list_owned("agt-1")) == ["ain-1"]
        assert target.get_by_slug("agent_instance", "acme", "bot-default").metadata.id == "ain-1"
        assert target.get_meta("owner") == "alice"
        assert target.tuples() == ["org:acme#admin@user:a"]
        assert target.check() == []
        target.put(agent("agt-3"))
        assert target.get("agent", "agt-3").metadata.resource_version > 5  # goes on from there
    finally:
        target.close()


def test_records_of_an_empty_store_are_its_revision(store: Store) -> None:
    assert list(store.records()) == [RevisionRecord(0)]


@pytest.mark.not_on_etcd(_REBASE)
def test_restore_never_moves_the_revision_back(store: Store) -> None:
    store.transact(lambda w: [w.put(agent(f"agt-{i}")) for i in range(3)])
    store.transact(lambda w: w.restore(RevisionRecord(1)))
    assert store.revision() == 3
    store.transact(lambda w: w.restore(RevisionRecord(7)))
    assert store.revision() == 7
    store.put(agent("agt-9"))
    assert store.get("agent", "agt-9").metadata.resource_version > 7


@pytest.mark.not_on_etcd(_REBASE)
def test_restore_appends_no_event_and_keeps_the_bytes(store: Store) -> None:
    a = agent("agt-1", slug="bot")
    a.metadata.resource_version = 41
    blob = a.SerializeToString()
    store.transact(lambda w: w.restore(ObjectRecord("agent", "agt-1", blob)))
    assert store.events_since(0) == []
    assert store.revision() == 41  # moved up to the object's resource_version
    (_, record) = list(store.records())
    assert record == ObjectRecord("agent", "agt-1", blob)
    assert store.check() == []


@pytest.mark.not_on_etcd(_REBASE)
def test_restore_refuses_a_taken_slug_and_a_mismatched_id(store: Store) -> None:
    store.put(agent("agt-1", slug="bot"))
    other = agent("agt-2", slug="bot").SerializeToString()
    with pytest.raises(AlreadyExists, match='agent "bot" already exists in org "local"'):
        store.transact(lambda w: w.restore(ObjectRecord("agent", "agt-2", other)))
    with pytest.raises(StoreError, match="holds id 'agt-2'"):
        store.transact(lambda w: w.restore(ObjectRecord("agent", "agt-9", other)))
    assert ids(store.list("agent")) == ["agt-1"] and store.revision() == 1


@pytest.mark.not_on_etcd(_REBASE)
def test_a_failed_nested_restore_is_undone(store: Store) -> None:
    blob = agent("agt-1").SerializeToString()

    def fn(w):  # type: ignore[no-untyped-def]
        def failing(t):  # type: ignore[no-untyped-def]
            t.restore(ObjectRecord("agent", "agt-1", blob))
            t.restore(RevisionRecord(9))
            t.restore(TupleRecord("org:x#admin@user:y"))
            raise RuntimeError("copy failed")

        with pytest.raises(RuntimeError):
            w.nested(failing)
        w.restore(MetaRecord("k", "v"))

    store.transact(fn)
    assert store.list("agent") == [] and store.tuples() == []
    assert store.revision() == 0 and store.get_meta("k") == "v"


def test_records_after_close_raise_store_closed(store: Store) -> None:
    store.close()
    with pytest.raises(StoreClosed, match="is closed"):
        next(store.records())


def test_a_forked_child_opens_its_own_handle(store: Store) -> None:
    """The backends re-open after fork(): a child may use an inherited store."""
    import os

    store.put(agent("agt-parent"))
    pid = os.fork()
    if pid == 0:  # the child: write through the inherited handle, then leave at once
        code = 1
        try:
            store.put(agent("agt-child"))
            code = 0 if store.count("agent") == 2 else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert store.get("agent", "agt-child").metadata.id == "agt-child"
    store.put(agent("agt-after"))
    assert store.check() == []
