"""Programs the process tests run as real subprocesses: python -m tests.store._workers."""

from __future__ import annotations

import sys

from stigmer.store import open_store
from tests.factories import agent, instance, putting


def writer(url: str, name: str, count: int) -> None:
    """Writes ``count`` agents, each with an instance, one transaction per pair.

    Prints each agent's id after its transaction committed, so the parent
    knows what must have survived a SIGKILL.
    """
    store = open_store(url)
    for i in range(count):
        a = agent(f"agt-{name}-{i}", slug=f"{name}-{i}", org=f"org-{i % 3}")
        store.transact(putting(a, instance(f"ain-{name}-{i}", a)))
        print(a.metadata.id, flush=True)
    store.close()


def updater(url: str, id: str, count: int) -> None:
    """Increments a counter label ``count`` times with compare-and-swap retries."""
    from stigmer.errors import Conflict

    store = open_store(url)
    done = 0
    while done < count:
        obj = store.get("agent", id)
        obj.metadata.labels["n"] = str(int(obj.metadata.labels["n"]) + 1)
        try:
            store.put(obj, expected_version=obj.metadata.resource_version)
            done += 1
        except Conflict:
            continue
    store.close()


if __name__ == "__main__":
    role, *args = sys.argv[1:]
    if role == "writer":
        writer(args[0], args[1], int(args[2]))
    elif role == "updater":
        updater(args[0], args[1], int(args[2]))
