"""Reading ahead (WriteTxn.prefetch) and a create's assumed-absent keys change no answer.

The etcd backend reads a chunk's objects in one round trip and takes the keys
of a create's new id as absent without asking
(docs/architecture.md, "The etcd backend"); every backend must still answer
as if it had read each key.
"""

from __future__ import annotations

from stigmer.store import Store, WriteTxn
from tests.factories import agent, instance


def test_a_prefetch_changes_no_answer_of_the_transaction(store: Store) -> None:
    a = agent("agt-1", slug="helper")
    store.transact(lambda w: (w.put(a), w.add_tuple("agent:agt-1#owner@user:bob")))

    def fn(w: WriteTxn) -> tuple[object, ...]:
        w.prefetch(
            [("agent", "local", "helper"), ("agent", "local", "nobody"), ("agent", "x", "y")]
        )
        return (
            w.find_by_slug("agent", "local", "helper"),
            w.find_by_slug("agent", "local", "nobody"),
            w.find("agent", "agt-1"),
            w.tuples("agent:agt-1#"),
            w.tuples("agent:agt-1#org@"),
        )

    stored = store.get("agent", "agt-1")
    assert store.transact(fn) == (stored, None, stored, ["agent:agt-1#owner@user:bob"], [])


def test_a_create_still_sees_tuples_left_about_its_id(store: Store) -> None:
    """A tuple about an id that has no object yet (left by a crash, or a copy) is not hidden."""
    store.transact(lambda w: w.add_tuple("agent:agt-7#owner@user:bob"))

    def create(w: WriteTxn) -> tuple[list[str], bool]:
        w.put(agent("agt-7", slug="seven"), expected_version=0)
        w.put(instance("ain-7", agent("agt-7", slug="seven")), expected_version=0)
        return w.tuples("agent:agt-7#owner@"), w.add_tuple("agent:agt-7#owner@user:bob")

    assert store.transact(create) == (["agent:agt-7#owner@user:bob"], False)
    assert store.tuples("agent:agt-7#") == ["agent:agt-7#owner@user:bob"]
    assert store.list_owned("agt-7") == [store.get("agent_instance", "ain-7")]
