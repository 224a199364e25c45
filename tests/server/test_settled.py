"""The controller of ``stigmer serve`` does not reconcile again what the API's pipelines did.

An apply through the API runs the whole pipeline (default instance, status,
index, policies) in its transaction; the controller skips its events when they
reach it on the feed, and still reconciles every write made any other way.
"""

from __future__ import annotations

import re
import signal
import urllib.request
from pathlib import Path

from stigmer.client import Client
from tests.processes import wait_until
from tests.reconcilers.helpers import assert_converged
from tests.reconcilers.helpers import new_agent as bare_agent
from tests.server.conftest import Stubs, bearer, make_token, new_agent, start_server


def metrics(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        text: str = r.read().decode()
    return text


def reconciles(text: str) -> int:
    return sum(int(n) for n in re.findall(r"^stigmer_reconcile_total\{.*\} (\d+)$", text, re.M))


def test_api_applies_are_not_reconciled_again_but_other_writes_are(
    owned: Path, stubs: Stubs, unused_port: int
) -> None:
    server = start_server(owned, "--health-port", str(unused_port))
    try:
        cmd = stubs.agent.AgentCommandControllerStub(server.channel())
        md = bearer(make_token(owned, "alice"))
        for i in range(5):
            cmd.apply(new_agent(f"Bot {i}"), metadata=md)
        # Each apply wrote an agent and its default instance: two events, both settled.
        wait_until(
            lambda: "stigmer_events_settled_total 10\n" in metrics(unused_port),
            what="the API's events on the controller's feed",
        )
        assert reconciles(metrics(unused_port)) == 0

        raw = bare_agent("Imported")  # written by a tool, without its default instance
        raw.metadata.id, raw.metadata.org, raw.metadata.slug = (
            "agt-01cccccccccccccccccccccccc",
            "local",
            "imported",
        )
        raw.metadata.generation = 1
        with Client(owned, actor="alice") as other:
            other.store.put(raw)
            wait_until(lambda: other.store.count("agent_instance") == 6, what="its instance")
            wait_until(lambda: _converged(other), what="convergence")
        assert reconciles(metrics(unused_port)) >= 1
    finally:
        server.stop(signal.SIGKILL)


def _converged(client: Client) -> bool:
    try:
        assert_converged(client.store)
    except AssertionError:
        return False
    return True
