"""Stigmer's own service (stigmer.api.v1.Stigmer), for the remote CLI and SDK.

Each method is a thin adapter over one stigmer.Client call, made by a Client
acting as the caller; values cross the wire through stigmer.remote.wire, so
the remote Client gets back what the local one returns. Watch is a server
stream (see running.py).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterator
from typing import Any

from stigmer.api import kinds
from stigmer.api.v1 import stigmer_service_pb2 as pb
from stigmer.api.v1.stigmer_service_pb2 import (
    ListRequest,
    ListResponse,
    WatchEvent,
    WatchRequest,
)
from stigmer.client import Client, resolve_kind
from stigmer.errors import UsageError
from stigmer.reconcilers import masking
from stigmer.reconcilers.framework import (
    Request,
    Result,
    apply_request,
    create_request,
    update_request,
)
from stigmer.remote import wire
from stigmer.remote.wire import wrap

SERVICE = "stigmer.api.v1.Stigmer"

__all__ = ["SERVICE", "list_", "unary_methods", "watch", "wrap"]


def _in(client: Client, org: str, *, strict: bool = False) -> Client:
    """The caller's view in the org the request names (its own default org)."""
    if not org:
        return client
    view = copy.copy(client)
    view.org, view.strict_org = org, strict
    return view


def list_(client: Client, request: ListRequest) -> ListResponse:
    """The objects, and the revision taken before reading them: a watch from it misses nothing."""
    revision = client.revision()
    items = client.list(
        request.kind,
        org=request.org or None,
        all_orgs=request.all_orgs,
        selector=request.selector or None,
        show_secrets=request.show_secrets,
    )
    return ListResponse(items=[wrap(o) for o in items], revision=revision)


def watch(client: Client, request: WatchRequest, stop: threading.Event) -> Iterator[WatchEvent]:
    """The caller's changes, until ``stop``; raises Expired as Client.watch does.

    Not a generator itself: "now" (and Expired) are decided at this call, before
    the stream tells the caller the watch is on, so no change in between is lost.
    """
    kind = resolve_kind(request.kind) if request.kind else None
    since = None if request.from_now else request.from_revision
    changes = client.watch(kind, since=since, org=request.org or None, stop=stop)
    return (WatchEvent(event=c.event, object=wrap(c.object)) for c in changes)


def _result(client: Client, result: Any) -> pb.Result:
    """A Result, with the sync directory that manages its object (apply warns of it)."""
    synced = client.synced_directory(result.object) if result.ok and result.object else None
    if result.deleted or result.recreated:  # a delete's, masked as Client.delete_result's
        result.deleted = [masking.masked(o) for o in result.deleted]
        result.recreated = [masking.masked(o) for o in result.recreated]
    return wire.result_to(result, synced)


def _requests(request: pb.ApplyRequest) -> list[Request]:
    """The request of each object of an apply, by its verb (apply when none is given)."""
    verbs = list(request.verbs) or ["apply"] * len(request.objects)
    if len(verbs) != len(request.objects):
        raise UsageError(f"{len(verbs)} verbs for {len(request.objects)} objects")
    pairs = zip(verbs, request.objects, strict=True)
    return [_request(v, wire.unwrap(o), request.expect_version) for v, o in pairs]


def _request(verb: str, obj: Any, expect_version: bool) -> Request:
    if verb == "apply":
        return apply_request(obj, expect_version=expect_version)
    if verb == "create":
        return create_request(obj)
    if verb == "update":
        return update_request(obj, expect_version=expect_version)
    if verb in ("delete", "reconcile"):  # by name (an id or a slug) in its org
        return Request(verb, kinds.of(obj), name=obj.metadata.id, org=obj.metadata.org)
    raise UsageError(f'unknown verb "{verb}" (expected apply, create, update, delete or reconcile)')


def grouped(request: pb.ApplyRequest) -> list[Request] | None:
    """The requests of an apply the server runs in its group commit, or None.

    Only a plain apply of objects joins a group; one of manifest texts, a dry
    run, an atomic one or one that shows secrets runs alone (``apply``).
    """
    if request.sources or request.dry_run or request.atomic or request.show_secrets:
        return None
    return _requests(request)


def in_org(client: Client, request: pb.ApplyRequest) -> Client:
    """The caller's view in the org an apply names."""
    return _in(client, request.org, strict=request.strict_org)


def applied(view: Client, results: list[Result]) -> pb.ApplyResponse:
    """The answer to a grouped apply (see ``grouped``)."""
    return pb.ApplyResponse(
        results=[_result(view, r) for r in results], committed=all(r.ok for r in results)
    )


def apply(client: Client, request: pb.ApplyRequest) -> pb.ApplyResponse:
    view = in_org(client, request)
    if request.sources:
        report = view.apply_sources(
            [(s.name, s.text) for s in request.sources],
            dry_run=request.dry_run,
            atomic=request.atomic,
        )
        problems, results, committed = report.problems, report.results, report.committed
    else:
        results = view.write(
            _requests(request),
            dry_run=request.dry_run,
            atomic=request.atomic,
            show_secrets=request.show_secrets,
        )
        problems, committed = [], not request.dry_run and all(r.ok for r in results)
    return pb.ApplyResponse(
        problems=[wire.problem_to(p) for p in problems],
        results=[_result(view, r) for r in results],
        committed=committed,
    )


def create(client: Client, request: pb.AnyResource) -> pb.Result:
    return _result(client, client.create(wire.unwrap(request)))


def get(client: Client, request: pb.GetRequest) -> pb.AnyResource:
    if request.by_id:
        return wrap(client.get_by_id(request.kind, request.name, show_secrets=request.show_secrets))
    obj = client.get(
        request.kind,
        request.name,
        org=request.org or None,
        show_secrets=request.show_secrets,
        verb=request.verb or "get",
    )
    return wrap(obj)


def delete(client: Client, request: pb.DeleteRequest) -> pb.Result:
    result = client.delete_result(
        request.kind, request.name, org=request.org or None, dry_run=request.dry_run
    )
    return wire.result_to(result)


def delete_all(client: Client, request: pb.DeleteAllRequest) -> pb.Results:
    results = client.delete_all(
        request.kind,
        org=request.org or None,
        all_orgs=request.all_orgs,
        selector=request.selector or None,
        dry_run=request.dry_run,
    )
    return pb.Results(results=[wire.result_to(r) for r in results])


def prune(client: Client, request: pb.PruneRequest) -> pb.Results:
    keep = [(i.kind, i.org, i.slug) for i in request.keep]
    results = client.prune(request.selector, keep, orgs=request.orgs, dry_run=request.dry_run)
    return pb.Results(results=[wire.result_to(r) for r in results])


def diff(client: Client, request: pb.DiffRequest) -> pb.DiffResponse:
    diffs = _in(client, request.org).diff([wire.unwrap(o) for o in request.objects])
    return pb.DiffResponse(diffs=[wire.diff_to(d) for d in diffs])


def visible_orgs(client: Client, request: pb.VisibleOrgsRequest) -> pb.Orgs:
    return pb.Orgs(orgs=client.visible_orgs(resolve_kind(request.kind), request.verb or "list"))


def revision(client: Client, _request: pb.Nothing) -> pb.Revision:
    return pb.Revision(revision=client.revision())


def _read_back(client: Client, request: pb.ObjectRequest) -> Any:
    """The object a describe names, read again as the caller: only what they may get."""
    obj = wire.unwrap(request.object)
    return client.get_by_id(kinds.of(obj), obj.metadata.id)


def owned(client: Client, request: pb.ObjectRequest) -> pb.Objects:
    return pb.Objects(items=[wrap(o) for o in client.owned(_read_back(client, request))])


def references(client: Client, request: pb.ObjectRequest) -> pb.RefStates:
    states = client.references(_read_back(client, request))
    return pb.RefStates(states=[wire.ref_state_to(s) for s in states])


def environment(client: Client, request: pb.ObjectRequest) -> pb.EnvEntries:
    obj = _read_back(client, request)
    entries = client.environment(obj, show_secrets=request.show_secrets)
    return pb.EnvEntries(entries=[wire.env_entry_to(e) for e in entries])


def events_for(client: Client, request: pb.ObjectRequest) -> pb.Events:
    obj = _read_back(client, request)
    return pb.Events(events=client.events_for(obj, limit=request.limit or 10))


def grant(client: Client, request: pb.RoleRequest) -> pb.Granted:
    return pb.Granted(granted=client.grant(request.user, request.role, org=request.org or None))


def revoke(client: Client, request: pb.RoleRequest) -> pb.Nothing:
    client.revoke(request.user, request.role, org=request.org or None)
    return pb.Nothing()


def bindings(client: Client, request: pb.BindingsRequest) -> pb.Bindings:
    found = client.bindings(
        org=request.org if request.HasField("org") else None,
        user=request.user if request.HasField("user") else None,
    )
    return pb.Bindings(bindings=[wire.binding_to(b) for b in found])


def check(client: Client, request: pb.CheckRequest) -> pb.Decision:
    kind, org = request.kind or kinds.AGENT, request.org or None
    decision = client.check(request.user or client.actor, request.verb, kind, org=org)
    if not request.user and not decision.allowed:  # the caller itself: as Client.authorize
        client.authorize(request.verb, kind, org=org)  # raises the line a command prints
    return wire.decision_to(decision)


def create_token(client: Client, request: pb.TokenRequest) -> pb.Token:
    ttl = request.ttl if request.HasField("ttl") else None
    return pb.Token(token=client.create_token(request.user, ttl=ttl))


def list_tokens(client: Client, request: pb.TokensRequest) -> pb.Tokens:
    found = client.tokens(user=request.user if request.HasField("user") else None)
    return pb.Tokens(tokens=[wire.token_to(t) for t in found])


def revoke_tokens(client: Client, request: pb.RevokeTokensRequest) -> pb.Nothing:
    client.revoke_tokens(request.ids)
    return pb.Nothing()


# Method name -> (request type, adapter): every unary method of the service.
_UNARY: dict[str, tuple[Any, Callable[[Client, Any], Any]]] = {
    "List": (ListRequest, list_),
    "Apply": (pb.ApplyRequest, apply),
    "Create": (pb.AnyResource, create),
    "Get": (pb.GetRequest, get),
    "Delete": (pb.DeleteRequest, delete),
    "DeleteAll": (pb.DeleteAllRequest, delete_all),
    "Prune": (pb.PruneRequest, prune),
    "Diff": (pb.DiffRequest, diff),
    "VisibleOrgs": (pb.VisibleOrgsRequest, visible_orgs),
    "CurrentRevision": (pb.Nothing, revision),
    "Owned": (pb.ObjectRequest, owned),
    "References": (pb.ObjectRequest, references),
    "Environment": (pb.ObjectRequest, environment),
    "EventsFor": (pb.ObjectRequest, events_for),
    "Grant": (pb.RoleRequest, grant),
    "Revoke": (pb.RoleRequest, revoke),
    "ListBindings": (pb.BindingsRequest, bindings),
    "Check": (pb.CheckRequest, check),
    "CreateToken": (pb.TokenRequest, create_token),
    "ListTokens": (pb.TokensRequest, list_tokens),
    "RevokeTokens": (pb.RevokeTokensRequest, revoke_tokens),
}


def unary_methods() -> dict[str, tuple[Any, Callable[[Client, Any], Any]]]:
    """Every unary method by name: its request message type and its adapter."""
    return dict(_UNARY)
