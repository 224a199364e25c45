"""The remote Client: stigmer.Client's methods, made as calls of the API server.

``stigmer.Client("grpc://HOST:PORT", token=...)`` and the CLI's ``--server``
build one. It is a Client, so code written for the local one runs unchanged:
each method below sends one call of stigmer.api.v1.Stigmer, and the server
runs it as the token's user, through the same pipeline. Manifests are read
here, so problems name the caller's files. Every public method of the local
Client is either one here, or works unchanged through those (INHERITED), or
needs the store itself and raises a UsageError saying so (LOCAL_ONLY_METHODS).
"""

from __future__ import annotations

import builtins
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO, cast

from stigmer import errors
from stigmer.api import kinds, naming
from stigmer.api.kinds import Kind, Resource
from stigmer.api.v1 import stigmer_service_pb2 as pb
from stigmer.api.v1.event_pb2 import Event
from stigmer.client import ApplyReport, Client, Diff, _raised, resolve_kind
from stigmer.remote import wire
from stigmer.remote.channel import Connection, R, Sendable, Target

if TYPE_CHECKING:
    from stigmer.client import Binding, Decision, EnvEntry, RefState, Result, TokenInfo
    from stigmer.manifests.reading import Manifest
    from stigmer.reconcilers.events import Change
    from stigmer.reconcilers.framework import Request
    from stigmer.store.selectors import Selector

# Sources sent per Apply call: under the server's 4 MiB message limit.
CHUNK_CHARS = 3 * 1024 * 1024
LOCAL_ONLY = "this needs a local store: a remote (grpc://) Client cannot do it"
# The local Client's methods that work remotely as they are: they only call the
# methods this class makes calls of (get, apply, apply_files, delete_result...).
INHERITED = frozenset(
    {"apply_text", "apply_edit", "manifest", "patch", "relabel", "declared", "read_manifests"}
    | {"delete", "authorize", "wait"}
)
# The local Client's members that need the store itself, with no call of the API
# server to stand for them: each raises UsageError(local_only). Tokens are checked
# by the server; store tools, sync, serve and migrate work on a store; history
# and rollback read the store's kept revisions; the bus announces this
# process's own commits, and a remote Client commits none.
LOCAL_ONLY_METHODS = frozenset(
    {"authenticate", "token_used", "authorize_store", "check_store", "repair_store"}
    | {"dump", "stats", "format_version", "syncer", "controller", "import_upstream"}
    | {"copy_to", "history", "history_diff", "rollback", "bus"}
)
LOCAL_ONLY_CONSTRUCTORS = frozenset({"for_user", "copy_source"})  # they open a store


class NoLocalStore:
    """What a remote Client has for a store: any use of it says why it cannot work."""

    def __init__(self, message: str) -> None:
        self.message = message

    def __getattr__(self, name: str) -> NoReturn:
        raise errors.UsageError(self.message)


class RemoteClient(Client):
    """A Client whose every call goes to an API server (see the module's docstring)."""

    def __init__(  # a server and a token, not a store
        self,
        server: str,
        *,
        token: str | None = None,
        tls_ca: str | Path | None = None,
        org: str = naming.DEFAULT_ORG,
        strict_org: bool = False,
        local_only: str = LOCAL_ONLY,
    ) -> None:
        # The Client's constructor opens a store: this one opens a channel instead.
        ca = Path(tls_ca) if tls_ca is not None else None
        if ca is not None and not ca.is_file():
            raise errors.UsageError(f"{ca}: no such file (the CA of the API server's TLS)")
        self.target = Target.parse(server, tls_ca=ca)
        self.connection = Connection(self.target, token=token, tls_ca=ca)
        self.actor = ""  # the server knows who the token is; nothing here acts on it
        self.org, self.strict_org = org, strict_org
        self.history_limit = 10
        self.local_only = local_only
        self.store = NoLocalStore(local_only)  # type: ignore[assignment]
        self._owns_store = False
        self._bus = None
        # What the server said of each object apply_files returned: sync manages it.
        self._synced: dict[int, str] = {}

    def close(self) -> None:
        self.connection.close()

    @property
    def url(self) -> str:
        return self.target.url()

    def as_user(self, user: str) -> Client:
        raise errors.UsageError("a remote Client acts as its token's user only")

    def _call(self, method: str, request: Sendable, reply: type[R]) -> R:
        return self.connection.call(method, request, reply)

    def _results(self, results: Iterable[pb.Result]) -> builtins.list[Result]:
        return [wire.result_from(r).result for r in results]

    # -- writes ---------------------------------------------------------------

    def apply(
        self,
        items: Iterable[Resource | Manifest],
        *,
        dry_run: bool = False,
        atomic: bool = False,
        show_secrets: bool = False,
        expect_version: bool = False,
    ) -> builtins.list[Result]:
        objects = [wire.wrap(_resource(i)) for i in items]
        request = pb.ApplyRequest(
            org=self.org,
            strict_org=self.strict_org,
            objects=objects,
            dry_run=dry_run,
            atomic=atomic,
            show_secrets=show_secrets,
            expect_version=expect_version,
        )
        reply = self._call("Apply", request, pb.ApplyResponse)
        return self._results(reply.results)

    def apply_files(
        self,
        paths: Iterable[str | Path],
        *,
        recursive: bool = False,
        stdin: TextIO | None = None,
        dry_run: bool = False,
        atomic: bool = False,
        progress: Callable[[int, int], None] | None = None,
        trace: bool = False,
    ) -> ApplyReport:
        """Reads the files here and sends their text: the server parses and applies them.

        A large non-atomic input goes in several calls; an atomic one in one
        call (all or nothing), so it must fit the server's message limit.
        """
        from stigmer.manifests import loading

        gathered = loading.gather(paths, recursive=recursive, stdin=stdin)
        report = ApplyReport(problems=list(gathered.problems))
        if atomic and report.problems:
            report.committed = False
            return report
        sources = [pb.Source(name=t.source, text=t.text) for t in gathered.texts]
        return self._send_sources(
            report, sources, dry_run=dry_run, atomic=atomic, progress=progress
        )

    def apply_sources(
        self, sources: Iterable[tuple[str, str]], *, dry_run: bool = False, atomic: bool = False
    ) -> ApplyReport:
        chosen = [pb.Source(name=name, text=text) for name, text in sources]
        return self._send_sources(ApplyReport(), chosen, dry_run=dry_run, atomic=atomic)

    def _send_sources(
        self,
        report: ApplyReport,
        sources: builtins.list[pb.Source],
        *,
        dry_run: bool,
        atomic: bool,
        progress: Callable[[int, int], None] | None = None,
    ) -> ApplyReport:
        """Sends manifest texts, in chunks unless atomic; the server's answers join ``report``."""
        from stigmer.manifests import reading

        chunks = [sources] if atomic else _chunks(sources)
        self._synced.clear()
        for chunk in chunks:
            request = pb.ApplyRequest(
                org=self.org,
                strict_org=self.strict_org,
                sources=chunk,
                dry_run=dry_run,
                atomic=atomic,
            )
            reply = self._call("Apply", request, pb.ApplyResponse)
            report.problems += [wire.problem_from(p) for p in reply.problems]
            for r in reply.results:
                received = wire.result_from(r)
                report.results.append(received.result)
                if received.synced_directory and received.result.object is not None:
                    self._synced[id(received.result.object)] = received.synced_directory
            report.committed = report.committed and reply.committed
            if progress is not None:
                progress(len(report.results), len(report.results))
        reading.sort_problems(report.problems)
        return report

    def synced_directory(self, obj: Resource) -> str | None:
        """What the server said of an object this client applied."""
        return self._synced.get(id(obj))

    def create(self, resource: Resource) -> Result:
        if not resource.metadata.org:  # this client's org, as the local Client's session has it
            resource = kinds.clone(resource)
            resource.metadata.org = self.org
        reply = self._call("Create", wire.wrap(resource), pb.Result)
        return wire.result_from(reply).result

    def delete_result(
        self, kind: Kind | str, name: str, *, org: str | None = None, dry_run: bool = False
    ) -> Result:
        k = resolve_kind(kind)
        request = pb.DeleteRequest(kind=k.name, name=name, org=self._org(org), dry_run=dry_run)
        return wire.result_from(self._call("Delete", request, pb.Result)).result

    def delete_all(
        self,
        kind: Kind | str,
        *,
        org: str | None = None,
        all_orgs: bool = False,
        selector: Selector | str | None = None,
        dry_run: bool = False,
    ) -> builtins.list[Result]:
        request = pb.DeleteAllRequest(
            kind=resolve_kind(kind).name,
            org=self._org(org),
            all_orgs=all_orgs,
            selector=_selector(selector),
            dry_run=dry_run,
        )
        return self._results(self._call("DeleteAll", request, pb.Results).results)

    def prune(
        self,
        selector: Selector | str,
        keep: Iterable[tuple[str, str, str]],
        *,
        orgs: Iterable[str],
        dry_run: bool = False,
    ) -> builtins.list[Result]:
        request = pb.PruneRequest(
            selector=_selector(selector),
            keep=[pb.Identity(kind=k, org=o, slug=s) for k, o, s in keep],
            orgs=sorted(set(orgs)),
            dry_run=dry_run,
        )
        return self._results(self._call("Prune", request, pb.Results).results)

    def update(self, resource: Resource, *, expect_version: bool = False) -> Result:
        [result] = self._send([resource], ["update"], expect_version=expect_version)
        return _raised(result)

    def write(
        self,
        requests: Sequence[Request],
        *,
        dry_run: bool = False,
        atomic: bool = False,
        show_secrets: bool = False,
    ) -> builtins.list[Result]:
        """One Apply of the requests' objects, each with its verb and expected version."""
        return self._send(
            [_wire_object(r) for r in requests],
            [r.verb for r in requests],
            dry_run=dry_run,
            atomic=atomic,
            show_secrets=show_secrets,
            expect_version=True,
        )

    def delete_objects(
        self, objs: Iterable[Resource], *, dry_run: bool = False
    ) -> builtins.list[Result]:
        named = [_named(kinds.of(o), o.metadata.id, o.metadata.org) for o in objs]
        return self._send(named, ["delete"] * len(named), dry_run=dry_run)

    def reconcile(
        self, kind: Kind | str | None = None, name: str | None = None, *, org: str | None = None
    ) -> builtins.list[Result]:
        """As the local one, but "everything" is what the token's user may list."""
        if name is not None:
            if kind is None:
                raise errors.UsageError("reconcile by name needs a kind")
            [result] = self._send([_named(resolve_kind(kind), name, self._org(org))], ["reconcile"])
            return [_raised(result)]
        chosen = [resolve_kind(kind)] if kind is not None else list(kinds.KINDS)
        found = [o for k in chosen for o in self.list(k, org=org, all_orgs=org is None)]
        named = [_named(kinds.of(o), o.metadata.id, o.metadata.org) for o in found]
        return self._send(named, ["reconcile"] * len(named))

    def _send(
        self,
        objects: builtins.list[Resource],
        verbs: builtins.list[str],
        *,
        dry_run: bool = False,
        atomic: bool = False,
        show_secrets: bool = False,
        expect_version: bool = False,
    ) -> builtins.list[Result]:
        """One Apply of objects, each with its verb: one batch on the server."""
        request = pb.ApplyRequest(
            org=self.org,
            objects=[wire.wrap(o) for o in objects],
            verbs=verbs,
            dry_run=dry_run,
            atomic=atomic,
            show_secrets=show_secrets,
            expect_version=expect_version,
        )
        return self._results(self._call("Apply", request, pb.ApplyResponse).results)

    # -- reads ----------------------------------------------------------------

    def get(
        self,
        kind: Kind | str,
        name: str,
        *,
        org: str | None = None,
        show_secrets: bool = False,
        verb: str = "get",
    ) -> Resource:
        request = pb.GetRequest(
            kind=resolve_kind(kind).name,
            name=name,
            org=self._org(org),
            show_secrets=show_secrets,
            verb=verb,
        )
        return wire.unwrap(self._call("Get", request, pb.AnyResource))

    def get_by_id(self, kind: Kind | str, id: str, *, show_secrets: bool = False) -> Resource:
        k = resolve_kind(kind)
        request = pb.GetRequest(kind=k.name, name=id, show_secrets=show_secrets, by_id=True)
        return wire.unwrap(self._call("Get", request, pb.AnyResource))

    def list(
        self,
        kind: Kind | str,
        *,
        org: str | None = None,
        all_orgs: bool = False,
        selector: Selector | str | None = None,
        show_secrets: bool = False,
    ) -> builtins.list[Resource]:
        request = pb.ListRequest(
            kind=resolve_kind(kind).name,
            org=self._org(org),
            all_orgs=all_orgs,
            selector=_selector(selector),
            show_secrets=show_secrets,
        )
        return [wire.unwrap(o) for o in self._call("List", request, pb.ListResponse).items]

    # What wait checks each object by: here what the token's user may get of it (masked).
    def _find(self, k: Kind, org: str, name: str) -> Resource | None:
        try:
            return self.get(k, name, org=org)
        except errors.NotFound:
            return None

    def _find_id(self, kind: Kind, id: str) -> Resource | None:
        try:
            return self.get_by_id(kind, id)
        except errors.NotFound:
            return None

    def _authorize_read(self, verb: str, kind: Kind, org: str) -> None:
        """Check as the token's user: Forbidden, with the local line, if they may not."""
        self._call("Check", pb.CheckRequest(verb=verb, kind=kind.name, org=org), pb.Decision)

    def events(
        self,
        kind: Kind | str | None = None,
        name: str | None = None,
        *,
        org: str | None = None,
        all_orgs: bool = False,
        limit: int = 50,
    ) -> builtins.list[Event]:
        """One object's events (through Get and EventsFor); an org's read the store's feed."""
        if name is None:
            raise errors.UsageError(self.local_only)
        return super().events(kind, name, org=org, all_orgs=all_orgs, limit=limit)

    def visible_orgs(self, kind: Kind, verb: str = "list") -> builtins.list[str]:
        request = pb.VisibleOrgsRequest(kind=kind.name, verb=verb)
        return list(self._call("VisibleOrgs", request, pb.Orgs).orgs)

    def revision(self) -> int:
        reply: pb.Revision = self._call("CurrentRevision", pb.Nothing(), pb.Revision)
        return reply.revision

    def diff(self, manifests: Iterable[Manifest | Resource]) -> builtins.list[Diff]:
        objects = [wire.wrap(_resource(m)) for m in manifests]
        reply = self._call("Diff", pb.DiffRequest(org=self.org, objects=objects), pb.DiffResponse)
        return [wire.diff_from(d) for d in reply.diffs]

    # -- what describe shows of an object ------------------------------------

    def _about(
        self, obj: Resource, *, show_secrets: bool = False, limit: int = 0
    ) -> pb.ObjectRequest:
        return pb.ObjectRequest(object=wire.wrap(obj), show_secrets=show_secrets, limit=limit)

    def owned(self, obj: Resource) -> builtins.list[Resource]:
        reply = self._call("Owned", self._about(obj), pb.Objects)
        return [wire.unwrap(o) for o in reply.items]

    def references(self, obj: Resource) -> builtins.list[RefState]:
        reply = self._call("References", self._about(obj), pb.RefStates)
        return [wire.ref_state_from(s) for s in reply.states]

    def environment(self, obj: Resource, *, show_secrets: bool = False) -> builtins.list[EnvEntry]:
        if kinds.of(obj) is not kinds.AGENT_INSTANCE:
            return []
        request = self._about(obj, show_secrets=show_secrets)
        reply = self._call("Environment", request, pb.EnvEntries)
        return [wire.env_entry_from(e) for e in reply.entries]

    def events_for(self, obj: Resource, *, limit: int = 10) -> builtins.list[Event]:
        return list(self._call("EventsFor", self._about(obj, limit=limit), pb.Events).events)

    # -- watch ----------------------------------------------------------------

    def watch(
        self,
        kind: Kind | str | None = None,
        *,
        since: int | None = None,
        org: str | None = None,
        stop: threading.Event | None = None,
    ) -> Iterator[Change]:
        """The server's change feed, as Client.watch: Expired when it fell behind.

        "Now" is the server's revision taken at this call, so a list made
        after it misses nothing, as locally.
        """
        k = resolve_kind(kind) if kind is not None else None
        start = self.revision() if since is None else since
        request = pb.WatchRequest(kind=k.name if k else "", org=org or "", from_revision=start)
        stream = self.connection.stream("Watch", request, pb.WatchEvent)
        if stop is not None:  # the caller ends it by setting stop, as locally
            threading.Thread(target=lambda: stop.wait() and stream.cancel(), daemon=True).start()
        return self.connection.follow(stream, "Watch", _change)

    # -- IAM and tokens -------------------------------------------------------

    def grant(self, user: str, role: str, *, org: str | None = None) -> bool:
        request = pb.RoleRequest(user=user, role=role, org=self._org(org))
        reply: pb.Granted = self._call("Grant", request, pb.Granted)
        return reply.granted

    def revoke(self, user: str, role: str, *, org: str | None = None) -> None:
        self._call("Revoke", pb.RoleRequest(user=user, role=role, org=self._org(org)), pb.Nothing)

    def bindings(
        self, *, org: str | None = None, user: str | None = None
    ) -> builtins.list[Binding]:
        reply = self._call("ListBindings", pb.BindingsRequest(org=org, user=user), pb.Bindings)
        return [wire.binding_from(b) for b in reply.bindings]

    def check(
        self, user: str, verb: str, kind: Kind | str = kinds.AGENT, *, org: str | None = None
    ) -> Decision:
        k = resolve_kind(kind)  # an unknown kind is a usage error here, as locally
        request = pb.CheckRequest(user=user, verb=verb, kind=k.name, org=self._org(org))
        return wire.decision_from(self._call("Check", request, pb.Decision))

    def create_token(self, user: str, *, ttl: str | None = None) -> str:
        reply: pb.Token = self._call("CreateToken", pb.TokenRequest(user=user, ttl=ttl), pb.Token)
        return reply.token

    def tokens(self, *, user: str | None = None) -> builtins.list[TokenInfo]:
        reply = self._call("ListTokens", pb.TokensRequest(user=user), pb.Tokens)
        return [wire.token_from(t) for t in reply.tokens]

    def revoke_tokens(self, ids: Iterable[str]) -> None:
        self._call("RevokeTokens", pb.RevokeTokensRequest(ids=list(ids)), pb.Nothing)


def _refuse(name: str) -> Callable[..., NoReturn]:
    """A member of the local Client that a remote one cannot have: a UsageError."""

    def refuse(self: RemoteClient, *args: object, **kwargs: object) -> NoReturn:
        raise errors.UsageError(self.local_only)

    refuse.__name__ = refuse.__qualname__ = name
    return refuse


def _refuse_constructor(cls: type[RemoteClient], /, *args: object, **kwargs: object) -> NoReturn:
    raise errors.UsageError(LOCAL_ONLY)


for _name in LOCAL_ONLY_METHODS:
    _member = _refuse(_name)
    setattr(RemoteClient, _name, property(_member) if _name == "bus" else _member)
for _name in LOCAL_ONLY_CONSTRUCTORS:
    setattr(RemoteClient, _name, classmethod(_refuse_constructor))


def _named(kind: Kind, name: str, org: str) -> Resource:
    """An object by name only, as a delete or a reconcile sends it (see ApplyRequest.verbs)."""
    obj = kind.new()
    obj.metadata.id, obj.metadata.org = name, org
    return obj


def _wire_object(request: Request) -> Resource:
    """What a request sends: its object with the version it expects, or its name."""
    if request.desired is None:
        return _named(request.kind, request.name, request.org)
    obj = kinds.clone(request.desired)
    obj.metadata.resource_version = request.expected_version  # 0 expects nothing
    obj.metadata.org = obj.metadata.org or request.org
    return obj


def _resource(item: Resource | Manifest) -> Resource:
    """The object a manifest declares, or the object itself."""
    found: object = getattr(item, "resource", item)
    return cast("Resource", found)


def _change(message: pb.WatchEvent) -> Change:
    from stigmer.reconcilers.events import Change

    return Change(message.event, wire.unwrap(message.object))


def _selector(selector: Selector | str | None) -> str:
    """A selector as text: the server parses it (a parsed one prints back as it read)."""
    return "" if selector is None else str(selector)


def _chunks(sources: builtins.list[pb.Source]) -> builtins.list[builtins.list[pb.Source]]:
    """Sources in groups of at most CHUNK_CHARS (a bigger file alone), in order."""
    chunks: builtins.list[builtins.list[pb.Source]] = [[]]
    size = 0
    for source in sources:
        if chunks[-1] and size + len(source.text) > CHUNK_CHARS:
            chunks.append([])
            size = 0
        chunks[-1].append(source)
        size += len(source.text)
    return chunks
