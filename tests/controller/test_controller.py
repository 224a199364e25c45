"""The controller against a real store: in-process threads, and `stigmer serve` processes."""

from __future__ import annotations

import logging
import signal
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stigmer.api.v1.agent_pb2 import Agent
from stigmer.client import Client
from stigmer.controller.controller import Controller
from stigmer.controller.workqueue import BASE_DELAY
from stigmer.reconcilers import catalog
from stigmer.reconcilers.framework import Context, Outcome, Pipeline, RetryableError
from stigmer.store import Store
from stigmer.store.protocol import Retention
from tests.processes import start, stigmer, wait_until
from tests.reconcilers.helpers import assert_converged, new_agent, new_instance


@pytest.fixture
def running(lmdb_store: Store) -> Iterator[Controller]:
    """A controller running in threads until the test ends."""
    controller = Controller(lmdb_store, tick_seconds=0.05)
    stop = threading.Event()
    thread = threading.Thread(target=controller.run, args=(stop,))
    thread.start()
    yield controller
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()


def converged(store: Store) -> bool:
    try:
        assert_converged(store)
    except AssertionError:
        return False
    return True


def test_a_default_instance_deleted_behind_its_back_is_restored(
    client: Client, lmdb_store: Store, running: Controller
) -> None:
    client.apply([new_agent("Bot")])
    lmdb_store.delete("agent_instance", client.get("agent", "bot").status.default_instance_id)  # type: ignore[union-attr]
    wait_until(lambda: lmdb_store.count("agent_instance") == 1, what="the default instance")
    wait_until(lambda: converged(lmdb_store), what="convergence")


def test_an_agent_written_without_its_children_is_completed(
    lmdb_store: Store, running: Controller
) -> None:
    raw = new_agent("Imported")
    raw.metadata.id, raw.metadata.org, raw.metadata.slug = (
        "agt-01cccccccccccccccccccccccc",
        "acme",
        "imported",
    )
    raw.metadata.generation = 1
    lmdb_store.put(raw)  # as another tool (or a crash) might leave it
    wait_until(lambda: converged(lmdb_store), what="convergence")
    agent = lmdb_store.get("agent", "agt-01cccccccccccccccccccccccc")
    assert isinstance(agent, Agent) and agent.status.observed_generation == 1


def test_a_terminal_error_sets_ready_false_and_is_not_retried(
    client: Client, lmdb_store: Store, running: Controller
) -> None:
    client.apply([new_agent("Other")])
    client.apply([new_instance("Bot Default", "other")])  # holds the slug bot-default
    squatted = new_agent("Bot")
    squatted.metadata.id, squatted.metadata.org, squatted.metadata.slug = (
        "agt-01dddddddddddddddddddddddd",
        "local",
        "bot",
    )
    squatted.metadata.generation = 1
    lmdb_store.put(squatted)

    def not_ready() -> bool:
        a = lmdb_store.get("agent", "agt-01dddddddddddddddddddddddd")
        return any(c.type == "Ready" and c.status == "False" for c in a.status.conditions)

    wait_until(not_ready, what="Ready=False")
    a = lmdb_store.get("agent", "agt-01dddddddddddddddddddddddd")
    (ready,) = a.status.conditions
    assert ready.reason == "CreateDefaultInstanceFailed" and "belongs to agent" in ready.message
    assert a.status.observed_generation == 1
    key = ("agent", "agt-01dddddddddddddddddddddddd", "local")
    assert running.queue.failures(key) == 0  # forgotten, not scheduled again
    assert running.metrics.errors >= 1


def test_a_retryable_error_is_retried_with_backoff(
    client: Client, lmdb_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"n": 0}

    def flaky(ctx: Context) -> None:
        calls["n"] += 1
        if calls["n"] <= 2:
            raise RetryableError("the world is not ready yet")

    original = catalog.AGENT_RECONCILE
    monkeypatch.setitem(
        catalog._PIPELINES,
        ("agent", "reconcile"),
        Pipeline("flaky", (("Flaky", flaky), *original.steps)),
    )
    client.apply([new_agent("Bot")])
    controller = Controller(lmdb_store, tick_seconds=0.05)
    stop = threading.Event()
    thread = threading.Thread(target=controller.run, args=(stop,))
    thread.start()
    try:
        wait_until(lambda: calls["n"] >= 3, what="a third attempt")
        wait_until(lambda: controller.metrics.results.get("retry", 0) == 2, what="two retries")
    finally:
        stop.set()
        thread.join(timeout=10)


def test_a_reconcile_returns_a_typed_result_that_says_what_happens_to_the_key(
    client: Client, lmdb_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.apply([new_agent("Bot")])
    agent = client.get("agent", "bot")
    key = ("agent", agent.metadata.id, agent.metadata.org)
    controller = Controller(lmdb_store)
    done = controller.reconcile(key)
    assert (done.outcome, done.requeue, done.error) == (Outcome.UNCHANGED, False, None)

    def flaky(ctx: Context) -> None:
        raise RetryableError("the world is not ready yet")

    monkeypatch.setitem(catalog._PIPELINES, ("agent", "reconcile"), Pipeline("f", (("F", flaky),)))
    first, second = controller.reconcile(key), controller.reconcile(key)
    assert first.outcome is Outcome.ERROR and first.error is not None
    assert (first.requeue_after, second.requeue_after) == (BASE_DELAY, 2 * BASE_DELAY)
    assert second.label == "retry"

    monkeypatch.undo()
    client.delete("agent", "bot")
    gone = controller.reconcile(key)
    assert (gone.gone, gone.requeue, gone.label) == (True, False, "gone")
    assert controller.queue.failures(key) == 0  # forgotten: nothing left to retry


def test_serve_restores_a_deleted_default_instance_and_stops_on_sigterm(data_dir: Path) -> None:
    assert stigmer("apply", "-f", "manifests/examples/", data_dir=data_dir).returncode == 0
    serve = start("serve", "--health-port", "0", data_dir=data_dir)
    try:
        wait_until((data_dir / "controller.lock").exists, what="the lock")
        done = stigmer("delete", "ai", "support-agent-default", data_dir=data_dir)
        assert done.stdout == (
            "agentinstance/support-agent-default deleted\n"
            "agentinstance/support-agent-default recreated by agent/support-agent\n"
        )
        wait_until(
            lambda: (
                stigmer("get", "ai", "support-agent-default", data_dir=data_dir).returncode == 0
            ),
            what="the restored default instance",
        )
        second = stigmer("serve", data_dir=data_dir)
        assert second.returncode == 1
        assert "another stigmer serve" in second.stderr and "is running on" in second.stderr
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=20) == 0  # a bound for a loaded machine
        _, err = serve.communicate()
        # the delete repaired its owner inline, so serve found nothing left to change
        assert "reconciled keys=" in err and "controller stopped" in err
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.communicate()


def test_apply_from_other_processes_while_serving_converges(data_dir: Path) -> None:
    serve = start("serve", data_dir=data_dir)
    try:
        writers = [
            start("apply", "-f", "manifests/examples/", data_dir=data_dir),
            start(
                "agent",
                "create",
                "Helper One",
                "--instructions",
                "Help with the first thing.",
                data_dir=data_dir,
            ),
            start(
                "agent",
                "create",
                "Helper Two",
                "--instructions",
                "Help with the second thing.",
                data_dir=data_dir,
            ),
        ]
        for w in writers:
            _, err = w.communicate(timeout=60)
            assert w.returncode == 0, err
        with Client(data_dir) as client:
            wait_until(lambda: converged(client.store), what="convergence")
            assert client.store.count("agent") == 5
        serve.send_signal(signal.SIGINT)
        assert serve.wait(timeout=20) == 0  # a bound for a loaded machine
    finally:
        if serve.poll() is None:
            serve.kill()
        serve.communicate()


def test_health_and_metrics_are_served_on_localhost(data_dir: Path, unused_port: int) -> None:
    serve = start("serve", "--health-port", str(unused_port), data_dir=data_dir)
    try:
        url = f"http://127.0.0.1:{unused_port}"

        def up() -> bool:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=1) as r:
                    return bool(r.read().startswith(b"ok\n"))
            except OSError:
                return False

        wait_until(up, what="/healthz")
        with urllib.request.urlopen(f"{url}/metrics", timeout=1) as r:
            text = r.read().decode()
        for name in (
            "stigmer_leader 1",
            "stigmer_reconcile_total",
            "stigmer_reconcile_errors_total",
            "stigmer_workqueue_depth",
            'stigmer_reconcile_duration_seconds_bucket{le="+Inf"}',
        ):
            assert name in text
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=20)
        serve.communicate()


def test_reconciles_that_change_nothing_log_at_debug_and_are_summarized(
    client: Client, lmdb_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    client.apply([new_agent(f"Quiet {i}") for i in range(5)])
    caplog.set_level(logging.DEBUG, logger="stigmer.controller")
    controller = Controller(lmdb_store, tick_seconds=0.05)
    stop = threading.Event()
    thread = threading.Thread(target=controller.run, args=(stop,))
    thread.start()
    try:
        wait_until(lambda: controller.metrics.count >= 10, what="the first resync")
    finally:
        stop.set()
        thread.join(timeout=10)
    info = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert not [line for line in info if line.startswith("reconcile key=")]
    assert len([line for line in debug if "result=unchanged" in line]) >= 10
    assert f"reconciled keys={controller.metrics.count} unchanged=" in "\n".join(info)


def test_a_controller_that_no_longer_leads_before_it_starts_writes_nothing(
    client: Client, lmdb_store: Store
) -> None:
    client.apply([new_agent("Before the term")])
    leader = lmdb_store.leader()
    leader.acquire()
    leader.resign()  # its term ended before its first resync
    before = lmdb_store.revision()
    stop = threading.Event()
    controller = Controller(lmdb_store, tick_seconds=0.05, leader=leader)
    thread = threading.Thread(target=controller.run, args=(stop,))
    thread.start()
    thread.join(timeout=20)  # it returns by itself: no term, no work
    alive = thread.is_alive()
    stop.set()
    thread.join(timeout=10)
    assert not alive and controller.metrics.count == 0 and lmdb_store.revision() == before


def test_a_controller_that_loses_leadership_stops_working(
    client: Client, lmdb_store: Store
) -> None:
    leader = lmdb_store.leader()
    leader.acquire()
    controller = Controller(lmdb_store, tick_seconds=0.05, leader=leader)
    stop = threading.Event()
    thread = threading.Thread(target=controller.run, args=(stop,))
    thread.start()
    try:
        leader.resign()  # as a lease that expired would end it
        client.apply([new_agent("After the term")])
        wait_until(stop.is_set, what="the controller to stop")
        thread.join(timeout=10)
        assert not thread.is_alive()
    finally:
        stop.set()
        thread.join(timeout=10)


def test_the_controller_compacts_the_feed_under_its_retention(
    client: Client, lmdb_store: Store
) -> None:
    client.apply([new_agent(f"Kept {i}") for i in range(5)])
    assert len(lmdb_store.events_since(0)) >= 10
    controller = Controller(
        lmdb_store, tick_seconds=0.05, retention=Retention(events=3), compact_seconds=0.0
    )
    stop = threading.Event()
    thread = threading.Thread(target=controller.run, args=(stop,))
    thread.start()
    try:
        wait_until(lambda: len(lmdb_store.events_since(0)) <= 3, what="a compacted feed")
    finally:
        stop.set()
        thread.join(timeout=10)
    assert lmdb_store.compacted() == lmdb_store.revision() - 3


def test_a_watch_overtaken_by_compaction_resyncs_and_follows_on(
    client: Client,
    lmdb_store: Store,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client.apply([new_agent("Bot")])
    watch, watches = lmdb_store.watch, []

    def watch_then_fall_behind(*args: Any, **kwargs: Any) -> Any:
        """The first watch is overtaken: writes and a compaction come before it reads on."""
        feed = watch(*args, **kwargs)
        watches.append(feed)
        if len(watches) == 1:
            client.apply([new_agent("Other")])
            lmdb_store.compact(Retention(events=1))
        return feed

    monkeypatch.setattr(lmdb_store, "watch", watch_then_fall_behind)
    caplog.set_level(logging.INFO, logger="stigmer.controller")
    controller = Controller(lmdb_store, tick_seconds=0.05)
    stop = threading.Event()
    thread = threading.Thread(target=controller.run, args=(stop,))
    thread.start()
    try:
        wait_until(lambda: "has expired" in caplog.text, what="the expired watch")
        bot = client.get("agent", "bot")
        lmdb_store.delete("agent_instance", bot.status.default_instance_id)  # type: ignore[union-attr]
        wait_until(lambda: converged(lmdb_store), what="convergence after the re-list")
    finally:
        stop.set()
        thread.join(timeout=10)
    assert caplog.text.count("resync objects=") >= 2  # the first list, and the re-list


def test_only_the_exact_events_a_pipeline_settled_are_skipped(
    client: Client, lmdb_store: Store
) -> None:
    client.apply([new_agent("Bot")])  # this client has no controller: nothing is noted
    events = lmdb_store.events_since(0)
    controller = Controller(lmdb_store)
    # A note of a transaction that did not commit: the same revision and object,
    # another commit time (the next transaction reuses its revisions).
    aborted = [type(e).FromString(e.SerializeToString()) for e in events]
    for e in aborted:
        e.time.nanos = (e.time.nanos + 1) % 1_000_000_000
    controller.settled(aborted)
    controller.queue_events(events)
    assert len(controller.queue) == 2  # the agent and its default instance, as always
    assert controller.metrics.settled == 0

    fresh = Controller(lmdb_store)
    fresh.settled(events)  # what the writing pipelines would have said before committing
    fresh.queue_events(events)
    assert len(fresh.queue) == 0
    assert fresh.metrics.settled == len(events)
    assert "stigmer_events_settled_total 2" in fresh.metrics.render(0)
