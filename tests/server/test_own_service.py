"""Stigmer's own service: List, and Watch as a resumable server stream."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import grpc
import pytest

from stigmer.api.v1.agent_pb2 import Agent
from stigmer.api.v1.stigmer_service_pb2 import (
    ApplyRequest,
    ApplyResponse,
    ListRequest,
    ListResponse,
    WatchEvent,
    WatchRequest,
)
from stigmer.client import Client
from stigmer.remote.wire import wrap
from stigmer.store.protocol import Retention
from tests.processes import wait_until
from tests.server.conftest import Server, bearer, make_token, new_agent, start_server

SERVICE = "/stigmer.api.v1.Stigmer"


def list_call(channel: grpc.Channel) -> grpc.UnaryUnaryMultiCallable:
    return channel.unary_unary(
        f"{SERVICE}/List",
        request_serializer=ListRequest.SerializeToString,
        response_deserializer=ListResponse.FromString,
    )


def watch_call(channel: grpc.Channel) -> grpc.UnaryStreamMultiCallable:
    return channel.unary_stream(
        f"{SERVICE}/Watch",
        request_serializer=WatchRequest.SerializeToString,
        response_deserializer=WatchEvent.FromString,
    )


def test_an_apply_with_a_bad_verb_or_verb_count_is_invalid_and_writes_nothing(
    server: Server,
) -> None:
    md = bearer(make_token(server.data_dir, "alice"))
    apply = server.channel().unary_unary(
        f"{SERVICE}/Apply",
        request_serializer=ApplyRequest.SerializeToString,
        response_deserializer=ApplyResponse.FromString,
    )
    objects = [wrap(new_agent("First")), wrap(new_agent("Second"))]
    bad = {
        "fly": ApplyRequest(objects=objects, verbs=["apply", "fly"]),
        "1 verbs for 2 objects": ApplyRequest(objects=objects, verbs=["create"]),
    }
    for words, request in bad.items():
        with pytest.raises(grpc.RpcError) as caught:
            apply(request, metadata=md)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        details = caught.value.details() or ""
        assert words in details and "\n" not in details and "Traceback" not in details
    with Client(server.data_dir, actor="alice") as local:
        assert local.list("agents") == []  # neither the good object nor the bad was written


def test_list_then_watch_from_its_revision_misses_nothing(server: Server) -> None:
    md = bearer(make_token(server.data_dir, "alice"))
    with Client(server.data_dir, actor="alice") as local:
        local.apply([new_agent("Before")])
    listed = list_call(server.channel())(ListRequest(kind="agents"), metadata=md)
    assert [Agent.FromString(i.data).metadata.slug for i in listed.items] == ["before"]
    seen: list[WatchEvent] = []
    stream = watch_call(server.channel())(
        WatchRequest(kind="agents", from_revision=listed.revision), metadata=md
    )

    def follow() -> None:
        try:
            for event in stream:
                seen.append(event)
        except grpc.RpcError as e:  # our own cancel, below
            assert e.code() == grpc.StatusCode.CANCELLED

    reader = threading.Thread(target=follow)
    reader.start()
    with Client(server.data_dir, actor="alice") as local:
        local.apply([new_agent("After")])
    wait_until(lambda: any(e.event.slug == "after" for e in seen), what="the remote event")
    stream.cancel()
    reader.join(timeout=30)
    after = next(e for e in seen if e.event.slug == "after")
    assert (
        after.object.kind == "Agent"
        and Agent.FromString(after.object.data).metadata.slug == "after"
    )
    # resumable: a watch from the event's revision starts after it
    again = watch_call(server.channel())(
        WatchRequest(kind="agents", from_revision=after.event.revision - 1), metadata=md
    )
    assert next(iter(again)).event.revision == after.event.revision
    again.cancel()


def test_a_compacted_revision_says_expired_relist(server: Server) -> None:
    md = bearer(make_token(server.data_dir, "alice"))
    with Client(server.data_dir, actor="alice") as local:
        local.apply([new_agent(f"Agent {i}") for i in range(5)])
        local.store.compact(Retention(events=1))
        compacted = local.store.compacted()
    stream = watch_call(server.channel())(WatchRequest(from_revision=1), metadata=md)
    try:
        next(iter(stream))
        raise AssertionError("the watch did not expire")
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "has expired" in e.details() and "list again" in e.details()
        assert ("stigmer-expired", f"1,{compacted}") in tuple(e.trailing_metadata())


def test_a_watch_without_a_token_is_unauthenticated(server: Server) -> None:
    stream = watch_call(server.channel())(WatchRequest(from_now=True))
    try:
        next(iter(stream))
        raise AssertionError("the watch ran without a token")
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.UNAUTHENTICATED


def test_sigterm_ends_open_watch_streams_cleanly(owned: Path) -> None:
    server = start_server(owned)
    md = bearer(make_token(owned, "alice"))
    stream = watch_call(server.channel())(WatchRequest(from_now=True), metadata=md)
    ended: list[str] = []

    def follow() -> None:
        try:
            for _ in stream:
                pass
            ended.append("ok")
        except grpc.RpcError as e:
            ended.append(str(e.code()))

    reader = threading.Thread(target=follow)
    reader.start()
    wait_until(
        lambda: stream.is_active() and stream.initial_metadata() is not None, what="the stream"
    )
    assert server.stop(signal.SIGTERM) == 0
    reader.join(timeout=30)
    assert ended == ["ok"]
