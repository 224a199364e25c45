"""The change feed on every backend: watch, retention and compaction, and the object index."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from stigmer.api.v1.event_pb2 import EventType
from stigmer.errors import Expired, UsageError
from stigmer.store import Store, open_store
from stigmer.store.protocol import EventRecord, Retention
from tests.factories import agent, restoring

Revisions = list[int]

_EXACT = (
    "it asserts the exact revisions LMDB and SQLite give; etcd's are its cluster's, "
    "shared with other prefixes and leases (tests/store/test_etcd.py covers them)"
)


def revisions(batch: list) -> Revisions:  # type: ignore[type-arg]
    return [e.revision for e in batch]


def put_agents(store: Store, n: int, *, start: int = 0) -> None:
    for i in range(start, start + n):
        store.put(agent(f"agt-{i}", slug=f"a{i}"))


@pytest.mark.not_on_etcd(_EXACT)
def test_watch_delivers_what_another_handle_commits_from_now_on(
    store: Store, reopen: Callable[[], Store]
) -> None:
    put_agents(store, 2)
    feed = store.watch()  # "now" is revision 2, decided at the call
    other = reopen()
    other.transact(lambda w: (w.put(agent("agt-a", slug="a")), w.put(agent("agt-b", slug="b"))))
    batch = next(feed)
    assert [(e.revision, e.id, e.type) for e in batch] == [
        (3, "agt-a", EventType.created),
        (4, "agt-b", EventType.created),
    ]
    other.delete("agent", "agt-a")
    assert [(e.revision, e.type) for e in next(feed)] == [(5, EventType.deleted)]


@pytest.mark.not_on_etcd(_EXACT)
def test_watch_from_a_revision_replays_the_feed_after_it(store: Store) -> None:
    put_agents(store, 3)
    assert revisions(next(store.watch(1))) == [2, 3]


def test_a_watch_ends_when_stopped_and_beats_while_quiet(store: Store) -> None:
    stop = threading.Event()
    feed = store.watch(stop=stop, heartbeat=0.0)
    assert next(feed) == []  # quiet: an empty batch, so the caller can do other work
    stop.set()
    assert list(feed) == []


@pytest.mark.not_on_etcd(_EXACT)
def test_compact_keeps_the_newest_events_and_says_up_to_where(store: Store) -> None:
    put_agents(store, 5)
    assert store.compact(Retention(events=2)) == 3
    assert revisions(store.events_since(0)) == [4, 5]
    assert store.compacted() == 3
    assert store.compact(Retention(events=2)) == 0  # nothing more to drop
    assert store.revision() == 5  # compaction is no write of an object: no revision
    assert store.check() == []


@pytest.mark.not_on_etcd(_EXACT)
def test_compact_by_age_keeps_recent_events(store: Store) -> None:
    put_agents(store, 3)
    assert store.compact(Retention(events=None, seconds=3600)) == 0
    assert store.compact(Retention(events=None, seconds=1e-9)) == 3
    assert store.events_since(0) == [] and store.compacted() == 3


@pytest.mark.not_on_etcd(_EXACT)
def test_compact_runs_in_small_transactions_beside_readers(store: Store) -> None:
    store.transact(lambda w: [w.put(agent(f"agt-{i}", slug=f"a{i}")) for i in range(1200)])
    with store.read() as r:  # a snapshot held across the compaction still reads its feed
        assert store.compact(Retention(events=100)) == 1100
        assert len(r.events_since(0)) == 1200
    assert revisions(store.events_since(0)) == list(range(1101, 1201))


@pytest.mark.not_on_etcd(_EXACT)
def test_a_watch_behind_the_compacted_revision_is_expired_at_once(store: Store) -> None:
    put_agents(store, 4)
    store.compact(Retention(events=1))
    with pytest.raises(Expired) as caught:
        store.watch(2)
    assert (caught.value.revision, caught.value.compacted) == (2, 3)
    assert "list again" in str(caught.value)
    assert revisions(next(store.watch(3))) == [4]  # from the compacted revision on: all there


def test_a_watch_that_compaction_overtakes_is_expired_when_it_reads_on(store: Store) -> None:
    feed = store.watch(0)
    put_agents(store, 3)
    store.compact(Retention(events=1))
    with pytest.raises(Expired):
        next(feed)


@pytest.mark.not_on_etcd(_EXACT)
def test_events_of_reads_one_objects_newest_events_through_its_index(store: Store) -> None:
    a = agent("agt-a", slug="a")
    store.put(a)
    put_agents(store, 3)
    for generation in (2, 3, 4):
        a.metadata.generation = generation
        store.put(a)
    store.delete("agent", "agt-a")
    events = store.events_of("agent", "agt-a", limit=3)
    assert [(e.revision, e.type) for e in events] == [
        (6, EventType.updated),
        (7, EventType.updated),
        (8, EventType.deleted),
    ]
    assert revisions(store.events_of("agent", "agt-a")) == [1, 5, 6, 7, 8]
    assert store.events_of("agent", "agt-none") == []
    store.compact(Retention(events=3))
    assert revisions(store.events_of("agent", "agt-a")) == [6, 7, 8]


@pytest.mark.not_on_etcd(_EXACT)
def test_a_restored_feed_is_indexed_by_object(store: Store, reopen: Callable[[], Store]) -> None:
    put_agents(store, 2)
    records = [r for r in store.records() if isinstance(r, EventRecord)]
    store.compact(Retention(events=None, seconds=1e-9))
    store.transact(restoring(records))
    assert revisions(store.events_of("agent", "agt-1")) == [2]


@pytest.mark.parametrize(
    ("text", "retention"),
    [
        ("50000", Retention(events=50000)),
        ("90s", Retention(None, 90)),
        ("7d", Retention(None, 604800)),
    ],
)
def test_retention_parses_a_count_or_an_age(text: str, retention: Retention) -> None:
    assert Retention.parse(text) == retention


@pytest.mark.parametrize("text", ["", "0", "-5", "3w", "1.5h"])
def test_retention_refuses_anything_else(text: str) -> None:
    with pytest.raises(UsageError, match="retention"):
        Retention.parse(text)


@pytest.mark.not_on_etcd(_EXACT)
def test_a_copy_keeps_the_compacted_revision(store: Store, store_url: str, tmp_path: Path) -> None:
    put_agents(store, 4)
    store.compact(Retention(events=2))
    target = open_store(f"{store_url.partition(':')[0]}:{tmp_path / 'copy.db'}")
    target.transact(restoring(store.records()))
    assert target.compacted() == 2 and revisions(target.events_since(0)) == [3, 4]
    with pytest.raises(Expired):
        target.watch(1)
    target.close()
