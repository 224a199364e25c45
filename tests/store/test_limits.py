"""Keys too long for a backend: one typed error, the same on every backend."""

from __future__ import annotations

import pytest

from stigmer.errors import KeyTooLong
from stigmer.store import Store
from tests.factories import agent

LONG = "a" * 600  # above LMDB's 511-byte key limit; SQLite has none


def test_a_put_with_a_too_long_slug_is_refused_and_writes_nothing(store: Store) -> None:
    good = agent("agt-good")
    with pytest.raises(KeyTooLong, match="above the limit of 511"):
        store.transact(lambda w: (w.put(good), w.put(agent("agt-long", slug=LONG))))
    assert store.list("agent") == []
    assert store.check() == []


def test_a_too_long_relation_tuple_is_refused(store: Store) -> None:
    with pytest.raises(KeyTooLong):
        store.transact(lambda w: w.add_tuple(f"org:local#viewer@user:{LONG}"))
    assert store.transact(lambda w: w.remove_tuple(f"org:local#viewer@user:{LONG}")) is False
    assert store.tuples() == []


def test_looking_up_a_too_long_name_finds_nothing(store: Store) -> None:
    assert store.find_by_slug("agent", "local", LONG) is None
    assert store.find("agent", LONG) is None
    with store.read() as r:
        assert r.find_by_slug("agent", "local", LONG) is None
