"""Stigmer's own service (stigmer.api.v1.Stigmer): List, and Watch as a server stream."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from stigmer.api import kinds
from stigmer.api.kinds import Resource
from stigmer.api.v1.stigmer_service_pb2 import (
    AnyResource,
    ListRequest,
    ListResponse,
    WatchEvent,
    WatchRequest,
)
from stigmer.client import Client, resolve_kind

SERVICE = "stigmer.api.v1.Stigmer"


def wrap(obj: Resource) -> AnyResource:
    return AnyResource(kind=kinds.of(obj).name, data=obj.SerializeToString())


def list_(client: Client, request: ListRequest) -> ListResponse:
    """The objects, and the revision taken before reading them: a watch from it misses nothing."""
    revision = client.revision()
    items = client.list(
        request.kind,
        org=request.org or None,
        all_orgs=request.all_orgs,
        selector=request.selector or None,
    )
    return ListResponse(items=[wrap(o) for o in items], revision=revision)


def watch(client: Client, request: WatchRequest, stop: threading.Event) -> Iterator[WatchEvent]:
    """The caller's changes, until ``stop``; raises Expired as Client.watch does."""
    kind = resolve_kind(request.kind) if request.kind else None
    since = None if request.from_now else request.from_revision
    for change in client.watch(kind, since=since, org=request.org or None, stop=stop):
        yield WatchEvent(event=change.event, object=wrap(change.object))
