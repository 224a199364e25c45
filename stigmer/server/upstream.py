"""Upstream Stigmer's command and query services, served for every kind that names them.

A kind with an ``api_package`` in the registry (stigmer/api/kinds.py) is served
under ``<package>.<Kind>CommandController`` and ``...QueryController``, whose
methods are read from the generated descriptors of
``stigmer/api/v1/<key>_service.proto``. Each method is one call of
stigmer.Client, so it runs the same pipeline as ``stigmer apply``.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from stigmer.api import kinds
from stigmer.api.kinds import Kind, Resource
from stigmer.api.v1.commons_pb2 import ApiResourceKind, ApiResourceReference
from stigmer.api.v1.upstream_apiresource_pb2 import ApiResourceId
from stigmer.client import Client
from stigmer.errors import InvalidResource, StepFailed, StigmerError
from stigmer.reconcilers.framework import (
    Request,
    Result,
    apply_request,
    create_request,
    update_request,
)

# A method: what it reads off the wire, and what it does with a Client acting as the caller.
Call = Callable[[Client, Any], Any]


@dataclass(frozen=True, slots=True)
class Method:
    service: str  # full name, e.g. ai.stigmer.agentic.agent.v1.AgentCommandController
    name: str  # upstream's lower-case name, e.g. apply
    parse: Callable[[bytes], Any]
    call: Call
    # A point read (get, getByReference): short and never waiting on a lock or an
    # fsync, so the server runs it on its event loop, without a hop to a worker thread.
    inline: bool = False
    # A write (apply, create, update): the server runs this request of the message in a
    # group commit (stigmer/server/grouping.py) and answers ``applied(result)``;
    # ``call`` runs it alone.
    write: Callable[[Any], Request] | None = None

    @property
    def path(self) -> str:
        return f"/{self.service}/{self.name}"


def _raised(result_error: StigmerError | None) -> None:
    if result_error is not None:
        raise result_error.cause if isinstance(result_error, StepFailed) else result_error


def applied(result: Result) -> Resource:
    """What a write answers: the object it made or updated, or its error raised."""
    _raised(result.error)
    assert result.object is not None
    return result.object


def _update_request(obj: Resource) -> Request:
    if not obj.metadata.id:
        raise InvalidResource("update needs the object's id", path="metadata.id")
    return update_request(obj, expect_version=True)  # a stale version is ABORTED


# Each write's request, by upstream's method name: run alone by ``_alone``, or grouped.
WRITES: dict[str, Callable[[Any], Request]] = {
    "apply": functools.partial(apply_request, expect_version=True),
    "create": create_request,
    "update": _update_request,
}


def _alone(write: Callable[[Any], Request]) -> Call:
    return lambda client, obj: applied(client.write([write(obj)])[0])


def _delete(kind: Kind) -> Call:
    def delete(client: Client, request: ApiResourceId) -> Resource:
        live = client.get_by_id(kind, _id(request))
        return client.delete_result(kind, live.metadata.id, org=live.metadata.org).deleted[0]

    return delete


def _get(kind: Kind) -> Call:
    return lambda client, request: client.get_by_id(kind, _id(request))


def _id(request: ApiResourceId) -> str:
    if not request.value:
        raise InvalidResource("the request names no id", path="value")
    return request.value


def _get_by_reference(kind: Kind) -> Call:
    def get(client: Client, ref: ApiResourceReference) -> Resource:
        if ref.kind and ApiResourceKind.Name(ref.kind) != kind.key:
            raise InvalidResource(
                f"this service serves {kind.key}, not {ApiResourceKind.Name(ref.kind)}",
                path="kind",
            )
        if not ref.slug:
            raise InvalidResource("the reference names no slug", path="slug")
        return client.get(kind, ref.slug, org=ref.org or None)

    return get


def _get_by_agent(module: ModuleType) -> Call:
    def by_agent(client: Client, request: Any) -> Any:
        if not request.agent_id:
            raise InvalidResource("the request names no agent", path="agent_id")
        agent = client.get_by_id(kinds.AGENT, request.agent_id)
        found = [
            i
            for i in client.list(kinds.AGENT_INSTANCE, org=agent.metadata.org)
            if i.spec.agent_id == agent.metadata.id  # type: ignore[union-attr]
        ]
        size, num = request.page_info.size, max(request.page_info.num, 1)
        page = found[(num - 1) * size : num * size] if size > 0 else found
        return module.AgentInstanceList(total_count=len(found), items=page)

    return by_agent


def _calls(kind: Kind, module: ModuleType) -> dict[str, tuple[Callable[[bytes], Any], Call]]:
    """Upstream's method names, and how each is served for ``kind``."""
    own = kind.message.FromString
    calls: dict[str, tuple[Callable[[bytes], Any], Call]] = {
        **{name: (own, _alone(write)) for name, write in WRITES.items()},
        # AgentId, EnvironmentId and ApiResourceDeleteInput all hold the id as field 1.
        "delete": (ApiResourceId.FromString, _delete(kind)),
        "get": (ApiResourceId.FromString, _get(kind)),
        "getByReference": (ApiResourceReference.FromString, _get_by_reference(kind)),
    }
    if hasattr(module, "GetAgentInstancesByAgentRequest"):
        calls["getByAgent"] = (
            module.GetAgentInstancesByAgentRequest.FromString,
            _get_by_agent(module),
        )
    return calls


POINT_READS = frozenset({"get", "getByReference"})


def service_module(kind: Kind) -> ModuleType:
    """The generated module of ``protos/stigmer/api/v1/<key>_service.proto``."""
    return importlib.import_module(f"stigmer.api.v1.{kind.key}_service_pb2")


def methods() -> list[Method]:
    """Every method of every upstream service the registry's kinds name.

    A method the server cannot serve yet (a skill's ``push``) is left out, so
    gRPC answers UNIMPLEMENTED for it.
    """
    found = []
    for kind in kinds.KINDS:
        if not kind.api_package:
            continue
        module = service_module(kind)
        calls = _calls(kind, module)
        for role in ("Command", "Query"):
            service = module.DESCRIPTOR.services_by_name[f"{kind.name}{role}Controller"]
            for m in service.methods:
                if m.name in calls:
                    parse, call = calls[m.name]
                    inline, write = m.name in POINT_READS, WRITES.get(m.name)
                    found.append(Method(service.full_name, m.name, parse, call, inline, write))
    return found


def service_names() -> list[str]:
    """The full names of the upstream services, for reflection and health."""
    return sorted({m.service for m in methods()})
