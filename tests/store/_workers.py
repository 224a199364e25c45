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


def claimer(url: str, id: str, go: str) -> None:
    """Waits for the file ``go``, then creates an agent with the slug "contested".

    Prints "won" or "lost": another process already holds the slug.
    """
    import time
    from pathlib import Path

    from stigmer.errors import AlreadyExists

    store = open_store(url)
    while not Path(go).exists():
        time.sleep(0.001)
    try:
        store.transact(lambda w: w.put(agent(id, slug="contested")))
        print("won", flush=True)
    except AlreadyExists:
        print("lost", flush=True)
    store.close()


def fenced_writer(url: str) -> None:
    """Leads the store, then writes one agent every 0.2 s; prints each outcome.

    "leading" once it leads, then "wrote N" or "refused N" per write: a
    replica that lost leadership must see its writes refused.
    """
    import time

    from stigmer.errors import StoreError

    store = open_store(url)
    leader = store.leader()
    leader.acquire()
    print("leading", flush=True)
    n = 0
    while True:
        n += 1
        try:
            store.put(agent(f"agt-fenced-{n}", slug=f"fenced-{n}"))
            print(f"wrote {n}", flush=True)
        except StoreError:
            print(f"refused {n}", flush=True)
        time.sleep(0.2)


if __name__ == "__main__":
    role, *args = sys.argv[1:]
    if role == "writer":
        writer(args[0], args[1], int(args[2]))
    elif role == "updater":
        updater(args[0], args[1], int(args[2]))
    elif role == "claimer":
        claimer(args[0], args[1], args[2])
    elif role == "fenced_writer":
        fenced_writer(args[0])
