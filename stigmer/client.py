"""The library API: what the CLI and Python users call.

    with stigmer.Client("~/.stigmer/data") as client:
        report = client.apply_files(["manifests/examples/"])
        for agent in client.list("agents"):
            print(agent.metadata.slug, agent.status.default_instance_id)

Every write goes through the reconcile pipelines in one transaction per
call (or per chunk of a large apply) and is announced on ``client.bus``
after it commits. Reads mask secrets unless asked and allowed.
"""

from __future__ import annotations

import builtins
import getpass
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TextIO

from stigmer.api import kinds, naming
from stigmer.api.kinds import Kind, Resource
from stigmer.api.v1.event_pb2 import Event, EventType
from stigmer.errors import (
    Conflict,
    Expired,
    Forbidden,
    NotFound,
    Problem,
    StepFailed,
    StigmerError,
    UsageError,
)
from stigmer.iam import CONTROLLER, EVERY_ORG, check_user, claim, secrets_forbidden
from stigmer.reconcilers import masking
from stigmer.store import default_url, find_named, open_store

# Writing, reading manifests and diffing pull in the pipelines, jsonschema's
# neighbours and difflib; they are imported where used, so that a plain
# ``stigmer get`` starts fast. So are the event bus and label selectors.
if TYPE_CHECKING:
    # The types of what the Client returns, re-exported (PEP 484's ``X as X``) for
    # the CLI, which may not import the layers under the Client itself.
    from stigmer.gitops.syncing import Syncer as Syncer  # noqa: PLC0414
    from stigmer.iam import Binding as Binding  # noqa: PLC0414
    from stigmer.iam import Decision as Decision  # noqa: PLC0414
    from stigmer.manifests import loading, reading
    from stigmer.manifests.reading import Manifest
    from stigmer.migrate import importing
    from stigmer.migrate.copying import CopyReport as CopyReport  # noqa: PLC0414
    from stigmer.reconcilers.authz import Authorizer
    from stigmer.reconcilers.events import Change, EventBus
    from stigmer.reconcilers.framework import Context, Request
    from stigmer.reconcilers.framework import Result as Result  # noqa: PLC0414
    from stigmer.reconcilers.history import Revision as Revision  # noqa: PLC0414
    from stigmer.reconcilers.readiness import EnvEntry as EnvEntry  # noqa: PLC0414
    from stigmer.reconcilers.references import RefState as RefState  # noqa: PLC0414
    from stigmer.reconcilers.running import Batch, Session
    from stigmer.store import Reader, Store, WriteTxn
    from stigmer.store.protocol import ResourceList, Stats
    from stigmer.store.registry import Setting as Setting  # noqa: PLC0414
    from stigmer.store.selectors import Selector
    from stigmer.tokens import TokenInfo as TokenInfo  # noqa: PLC0414

    ImportEntry = importing.Entry
    ImportReport = importing.Report

log = logging.getLogger("stigmer.client")
REMOTE_SCHEMES = ("grpc://", "grpcs://")  # a Client of these talks to an API server
_PATCH_ATTEMPTS = 5  # a patch re-read and re-applied when another write came between


def default_actor() -> str:
    """STIGMER_USER, else the OS user name."""
    return os.environ.get("STIGMER_USER") or getpass.getuser()


def store_url(data_dir: str | None = None, url: str | None = None) -> str:
    """The store a command names: ``url`` (--store), else LMDB in ``data_dir``, else the default."""
    if url:
        return url
    return default_url(data_dir)


def store_settings() -> dict[str, tuple[Setting, ...]]:
    """Each store backend's connection settings (the CLI's global options), by URL scheme."""
    from stigmer.store import registry

    return registry.settings()


def _person(user: str) -> str:
    """``user``, unless it names the built-in controller, which is ``stigmer serve``'s alone."""
    if user == CONTROLLER:
        raise UsageError(
            f'user "{CONTROLLER}" is the built-in controller of stigmer serve; '
            "--user and STIGMER_USER cannot name it"
        )
    return user


def resolve_kind(kind: Kind | str) -> Kind:
    """A Kind from itself, a manifest kind (Agent) or any CLI name (agents, ai)."""
    if isinstance(kind, Kind):
        return kind
    found = kinds.by_cli_name(kind) or kinds.by_name(kind)
    if found is None:
        import difflib

        close = difflib.get_close_matches(kind.lower(), kinds.cli_names(), n=1)
        hint = f'did you mean "{close[0]}"?' if close else "expected one of: "
        hint += "" if close else ", ".join(kinds.cli_names())
        raise UsageError(f'unknown kind "{kind}" ({hint})')
    return found


# ApiResource and Until are NamedTuples, not frozen dataclasses: every command imports
# this module, and making a frozen dataclass costs some 3.6 M instructions, a NamedTuple 0.7 M.
class ApiResource(NamedTuple):
    """One row of ``stigmer api-resources``: a kind and the verbs it serves."""

    kind: Kind
    verbs: tuple[str, ...]


def api_resources() -> builtins.list[ApiResource]:
    """Every kind of the registry with its verbs: the reads, and the writes it has pipelines for."""
    from stigmer.iam import NEEDS, ROLES

    verbs = [v for v, role in NEEDS.items() if role != ROLES[-1]]  # admins' verbs are not a kind's
    return [ApiResource(k, tuple(v for v in verbs if _serves(k, v))) for k in kinds.KINDS]


def _serves(kind: Kind, verb: str) -> bool:
    """Whether a kind serves a verb: every kind is read alike, a write needs its pipeline."""
    from stigmer.iam import NEEDS, ROLES
    from stigmer.reconcilers.catalog import pipeline_for

    if NEEDS[verb] == ROLES[0]:
        return True
    try:
        pipeline_for(kind, verb)
    except UsageError:
        return False
    return True


def roles() -> tuple[str, ...]:
    """The roles a user may be granted, weakest first."""
    from stigmer.iam import ROLES

    return ROLES


@dataclass(slots=True)
class ApplyReport:
    """An apply of files: the problems of documents that could not be read, and the results."""

    problems: list[Problem] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)
    committed: bool = True

    @property
    def ok(self) -> bool:
        return not self.problems and all(r.ok for r in self.results)


@dataclass(slots=True)
class Diff:
    """Live vs desired for one object, over the fields a manifest owns."""

    kind: Kind
    name: str
    org: str
    live: str  # YAML, secrets masked; empty when the object does not exist
    desired: str
    text: str  # unified diff; empty when nothing would change
    error: StigmerError | None = None

    @property
    def changed(self) -> bool:
        return bool(self.text)


_STATUSES = {"true": "True", "false": "False", "unknown": "Unknown"}


class Until(NamedTuple):
    """What ``Client.wait`` waits for: a condition's status, or deletion (``condition=None``)."""

    condition: str | None
    status: str = "True"

    @classmethod
    def parse(cls, text: str) -> Until:
        """kubectl's ``--for``: ``delete``, ``condition=Ready`` or ``condition=Ready=False``."""
        if text == "delete":
            return cls(None)
        word, _, rest = text.partition("=")
        name, _, status = rest.partition("=")
        if word != "condition" or not name or status.lower() not in (*_STATUSES, ""):
            raise UsageError(
                f'--for "{text}": expected delete, condition=NAME or condition=NAME=True|False'
            )
        return cls(name, _STATUSES.get(status.lower(), "True"))

    def unmet(self, obj: Resource | None) -> str:
        """Why ``obj`` (None: there is none) does not meet this yet; empty when it does."""
        if self.condition is None:
            return "" if obj is None else "it still exists"
        if obj is None:
            return "not found"
        cond = next((c for c in obj.status.conditions if c.type == self.condition), None)
        if cond is None:
            return f"it has no {self.condition} condition"
        if cond.status != self.status:
            why = ": ".join(t for t in (cond.reason, cond.message) if t)
            return f"{self.condition} is {cond.status}" + (f" ({why})" if why else "")
        if cond.observed_generation < obj.metadata.generation:  # said of an older spec
            return f"{self.condition} is for generation {cond.observed_generation}, not the latest"
        return ""


@dataclass(slots=True)
class Waited:
    """One object ``Client.wait`` waits on: by (org, name), or by id once it was listed."""

    kind: Kind
    org: str
    name: str
    id: str = ""
    unmet: str = "not checked yet"

    def concerns(self, event: Event) -> bool:
        if self.id:
            return event.id == self.id
        return event.org == self.org and self.name in (event.slug, event.id)


class Client:
    """A handle on one store, acting as one user in one default org.

    ``authorizer`` defaults to ``AllowAll``: a program that opens the store
    files can read them whole anyway (the file permissions are the boundary),
    and embedding code (tests, migrations, workers) acts for its own process.
    Pass ``stigmer.iam.Iam()`` to enforce the roles as the CLI does. Either
    way the first user to open a store for writing is recorded as its owner,
    so a store that later turns IAM on has one.

    ``create=False`` opens an existing store only, for reading: a missing one
    raises NoStore, and nothing is created or claimed. With ``claim_owner=True``
    too, it is for a write that has nothing to do on a missing store (a
    delete): a missing one raises NoStore, and an existing one without an
    owner gets this user as its owner, as a first write does.

    ``Client("grpc://HOST:PORT", token=...)`` (``grpcs://`` for TLS, with
    ``tls_ca``) is the remote Client of stigmer.remote: the same methods, made
    as calls of an API server, which acts as the token's user.
    """

    # While this client runs the controller, its pipelines tell it what they settled
    # (a class default, so that every Client has it, the remote one too).
    _committing: Callable[[builtins.list[Event]], None] | None = None

    def __new__(cls, store: object = None, *args: object, **kwargs: object) -> Client:
        if cls is Client and isinstance(store, str) and store.startswith(REMOTE_SCHEMES):
            from stigmer.remote.client import RemoteClient

            return super().__new__(RemoteClient)  # whose __init__ Python calls next
        return super().__new__(cls)

    def __init__(
        self,
        store: Store | str | os.PathLike[str] | None = None,
        *,
        actor: str | None = None,
        org: str = naming.DEFAULT_ORG,
        authorizer: Authorizer | None = None,
        bus: EventBus | None = None,
        strict_org: bool = False,
        create: bool = True,
        claim_owner: bool | None = None,
        history_limit: int = 10,
        token: str | None = None,
        tls_ca: str | os.PathLike[str] | None = None,
    ) -> None:
        if token is not None or tls_ca is not None:
            raise UsageError("token and tls_ca are for a grpc:// or grpcs:// Client only")
        self.actor = check_user(actor or default_actor())  # before the store sees it
        self.history_limit = history_limit  # revisions kept per object (Persist's)
        self._owns_store = store is None or isinstance(store, str | os.PathLike)
        self.store: Store = (
            open_store(store or default_url(), create=create)
            if store is None or isinstance(store, str | os.PathLike)
            else store
        )
        self.org = naming.check_org(org)
        # strict_org: the org was chosen explicitly (``--org``), so a manifest that
        # names another one is an error rather than applied there, as kubectl's -n.
        self.strict_org = strict_org
        if authorizer is None:
            from stigmer.reconcilers.authz import AllowAll

            authorizer = AllowAll()
        self.authorizer: Authorizer = authorizer
        self._bus = bus
        if create if claim_owner is None else claim_owner:
            claim(self.store, self.actor)

    @classmethod
    def for_user(
        cls,
        store: Store | str,
        *,
        user: str | None = None,
        org: str = naming.DEFAULT_ORG,
        strict_org: bool = False,
        create: bool = True,
        claim_owner: bool | None = None,
        history_limit: int = 10,
    ) -> Client:
        """A Client for a person (the CLI's, a server's): IAM enforced, never the controller.

        The built-in controller identity is for ``stigmer serve`` alone: naming it
        (``--user``, STIGMER_USER) is a usage error, before the store is opened.
        """
        from stigmer.iam import Iam

        client = cls(
            store,
            actor=_person(user or default_actor()),
            org=org,
            authorizer=Iam(),
            strict_org=strict_org,
            create=create,
            claim_owner=claim_owner,
            history_limit=history_limit,
        )
        client._owns_store = True  # a Store handed over here is the client's to close
        return client

    @classmethod
    def copy_source(
        cls, url: str, *, user: str | None = None, org: str = naming.DEFAULT_ORG
    ) -> Client:
        """``for_user`` on the store to copy from, which must exist: a typo copies nothing."""
        from stigmer.migrate.copying import open_existing

        return cls.for_user(open_existing(url), user=user, org=org)

    def as_user(self, user: str) -> Client:
        """A cheap view acting as ``user``: same open store, org, authorizer and bus.

        One process serves many users this way. The view claims nothing, and
        closing it leaves the store open for the client it came from. Like
        ``for_user``, it refuses the built-in controller: the controller makes its
        own sessions (stigmer.controller), so no view needs its identity.
        """
        # What copy.copy does, without its generic protocol: the server makes a
        # view per call, and copy.copy was most of what a view cost.
        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__)
        view.actor = check_user(_person(user))
        view._bus = self.bus  # made now, so that every view announces on the same one
        view._owns_store = False
        return view

    @property
    def bus(self) -> EventBus:
        """Where committed changes are announced in this process (made on first use)."""
        if self._bus is None:
            from stigmer.reconcilers.events import EventBus

            self._bus = EventBus()
        return self._bus

    def close(self) -> None:
        if self._owns_store:
            self.store.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _session(self, show_secrets: bool = False, trace: bool = False) -> Session:
        from stigmer.reconcilers.running import Session

        return Session(
            self.actor,
            self.authorizer,
            self.org,
            show_secrets,
            trace=trace,
            history_limit=self.history_limit,
            committing=self._committing,
        )

    def _org(self, org: str | None) -> str:
        """The org a call names, checked before any store sees it; else the Client's."""
        return naming.check_org(org) if org else self.org

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
        """Creates or updates each resource, reconciling it; one Result per item.

        ``expect_version``: a message's ``metadata.resource_version`` (when not 0)
        must still be the live object's, or its Result is a Conflict, as a
        manifest's is (the API server asks for this; a local caller may).
        """
        from stigmer.reconcilers.framework import apply_request

        requests = [apply_request(item, expect_version=expect_version) for item in items]
        return self._run(
            requests, dry_run=dry_run, atomic=atomic, show_secrets=show_secrets
        ).results

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
        """Reads manifests and applies every valid one (none if ``atomic`` and any is bad).

        ``progress(done, total)`` is called as documents are applied; ``total``
        counts the documents read so far, as applying starts before reading ends.
        ``trace`` times each pipeline step of each object into its Result's ``steps``.
        """
        from stigmer.manifests import loading

        gathered = loading.gather(paths, recursive=recursive, stdin=stdin)
        return self._apply_gathered(
            gathered, dry_run=dry_run, atomic=atomic, progress=progress, trace=trace
        )

    def apply_sources(
        self, sources: Iterable[tuple[str, str]], *, dry_run: bool = False, atomic: bool = False
    ) -> ApplyReport:
        """``apply_files`` of (name, text) pairs in hand: what a remote client sends."""
        from stigmer.manifests import loading

        gathered = loading.Loaded()
        for name, text in sources:
            part = loading.prepare(text, name)
            gathered.texts += part.texts
            gathered.problems += part.problems
        return self._apply_gathered(gathered, dry_run=dry_run, atomic=atomic)

    def _apply_gathered(
        self,
        gathered: loading.Loaded,
        *,
        dry_run: bool = False,
        atomic: bool = False,
        progress: Callable[[int, int], None] | None = None,
        trace: bool = False,
    ) -> ApplyReport:
        """``apply_files`` of texts already read."""
        from stigmer.manifests import reading
        from stigmer.reconcilers.framework import apply_request

        report = ApplyReport()
        if atomic:  # all or nothing: every document must be read before any is applied
            parsed = reading.read_gathered(gathered, default_org=self.org)
            if self.strict_org:
                reading.enforce_org(parsed, self.org)
                reading.sort_problems(parsed.problems)
            if parsed.problems:
                return ApplyReport(problems=parsed.problems, committed=False)
            parts: Iterable[reading.Parsed] = [parsed]
        else:
            parts = reading.stream_gathered(gathered, default_org=self.org)
        counts = [0, 0]  # read, applied

        def requests() -> Iterator[Request]:
            for part in parts:
                if self.strict_org:
                    reading.enforce_org(part, self.org)
                report.problems += part.problems
                counts[0] += len(part.manifests)
                yield from (apply_request(m) for m in part.manifests)

        def tick(n: int) -> None:
            counts[1] += n
            if progress is not None:
                progress(counts[1], counts[0])

        batch = self._run(
            requests(),
            dry_run=dry_run,
            atomic=atomic,
            progress=tick if progress is not None else None,
            trace=trace,
        )
        reading.sort_problems(report.problems)
        report.results, report.committed = batch.results, batch.committed and not dry_run
        return report

    def apply_text(self, text: str, *, dry_run: bool = False, atomic: bool = False) -> ApplyReport:
        """``apply_files`` for manifest text in hand (a request body): problems name <stdin>."""
        import io

        return self.apply_files(["-"], stdin=io.StringIO(text), dry_run=dry_run, atomic=atomic)

    # -- edits of one live object: edit, patch, label, annotate ---------------

    def manifest(self, kind: Kind | str, name: str, *, org: str | None = None) -> str:
        """The manifest of one live object as YAML, as ``edit`` opens it: secrets masked.

        It carries ``metadata.id`` and ``resourceVersion``, so applying it back
        fails as a conflict if the object changed meanwhile; sync's
        annotations are left out (an apply keeps them).
        """
        k = resolve_kind(kind)
        from stigmer.manifests import emitting

        return emitting.dump(_edit_view(k, self.get(k, name, org=org)))

    def apply_edit(
        self,
        kind: Kind | str,
        name: str,
        text: str,
        *,
        org: str | None = None,
        source: str = "<edit>",
        dry_run: bool = False,
    ) -> ApplyReport:
        """Applies ``text``, an edited manifest of the named object, checked as any apply.

        It must still declare that one object: another kind, slug or org is a
        problem, never a second object.
        """
        from stigmer.manifests import loading, reading

        k = resolve_kind(kind)
        live = self.get(k, name, org=org)
        loaded = loading.load_text(text, source)
        parsed = reading.parse_documents(loaded.documents, default_org=live.metadata.org)
        problems = loaded.problems + parsed.problems
        if not problems:
            problems = _other_object(parsed.manifests, k, live, source)
        if problems:
            return ApplyReport(problems=problems, committed=False)
        results = self.apply(parsed.manifests, dry_run=dry_run)
        return ApplyReport(results=results, committed=not dry_run)

    def patch(
        self,
        kind: Kind | str,
        name: str,
        patch: str,
        *,
        type: str = "merge",
        org: str | None = None,
        dry_run: bool = False,
    ) -> ApplyReport:
        """Applies a merge patch (RFC 7386) or a JSON patch (RFC 6902), as JSON text.

        The patch works on the object's manifest (what ``manifest`` shows), and
        the result is applied as a manifest would be.
        """
        from stigmer.manifests import patching

        return self._patched(kind, name, org, lambda v: patching.apply(v, patch, type), dry_run)

    def relabel(
        self,
        kind: Kind | str,
        name: str,
        changes: Mapping[str, str | None],
        *,
        field: str = "labels",
        overwrite: bool = False,
        org: str | None = None,
        dry_run: bool = False,
    ) -> ApplyReport:
        """Sets (or, for None, removes) labels, or ``field="annotations"``, of one object.

        Changing the value of a key that has one needs ``overwrite``, as kubectl's.
        """
        from stigmer.manifests import patching

        if field not in ("labels", "annotations"):
            raise UsageError(f'field "{field}": expected labels or annotations')

        def edit(view: dict[str, object]) -> dict[str, object]:
            return patching.relabel(view, field, changes, overwrite=overwrite)

        return self._patched(kind, name, org, edit, dry_run)

    def _patched(
        self,
        kind: Kind | str,
        name: str,
        org: str | None,
        edit: Callable[[dict[str, object]], dict[str, object]],
        dry_run: bool,
    ) -> ApplyReport:
        """Applies ``edit`` of the object's manifest; again when another write came between.

        The manifest carries the resourceVersion read, so the apply is a
        compare-and-swap, and a patch never undoes a change made meanwhile.
        """
        from stigmer.manifests import emitting

        k = resolve_kind(kind)
        for _ in range(_PATCH_ATTEMPTS):
            live = self.get(k, name, org=org)
            label = f"{k.singular}/{live.metadata.slug}"
            text = emitting.dump(edit(_edit_view(k, live)))
            report = self.apply_edit(
                k, live.metadata.id, text, org=live.metadata.org, source=label, dry_run=dry_run
            )
            if not any(isinstance(_cause(r.error), Conflict) for r in report.results if r.error):
                return _unplaced(report, label)
        return _unplaced(report, label)

    def declared(
        self, paths: Iterable[str | Path], *, recursive: bool = False, stdin: TextIO | None = None
    ) -> tuple[builtins.list[Problem], builtins.list[tuple[str, str, str]]]:
        """The problems of these manifests, and the (kind key, org, slug) each declares."""
        from stigmer.manifests import reading

        parsed = self.read_manifests(paths, recursive=recursive, stdin=stdin)
        return parsed.problems, [reading.identity(m, self.org) for m in parsed.manifests]

    def read_manifests(
        self, paths: Iterable[str | Path], *, recursive: bool = False, stdin: TextIO | None = None
    ) -> reading.Parsed:
        """Reads manifests for this client's org (with ``strict_org``, refusing other orgs)."""
        from stigmer.manifests import reading

        parsed = reading.read(paths, recursive=recursive, stdin=stdin, default_org=self.org)
        if self.strict_org:
            reading.enforce_org(parsed, self.org)
            reading.sort_problems(parsed.problems)
        return parsed

    def create(self, resource: Resource) -> Result:
        """Creates a resource; AlreadyExists if its (kind, org, slug) is taken."""
        from stigmer.reconcilers.framework import create_request

        return self._one(create_request(resource))

    def update(self, resource: Resource, *, expect_version: bool = False) -> Result:
        """Updates the resource with ``metadata.id``; NotFound if there is none.

        ``expect_version``: as ``apply``'s, a Conflict if the object changed since
        the ``metadata.resource_version`` the message carries.
        """
        from stigmer.reconcilers.framework import update_request

        return self._one(update_request(resource, expect_version=expect_version))

    def delete(self, kind: Kind | str, name: str, *, org: str | None = None) -> ResourceList:
        """Deletes an object by slug (or id) and what it owns; returns them, masked."""
        return self.delete_result(kind, name, org=org).deleted

    def delete_result(
        self, kind: Kind | str, name: str, *, org: str | None = None, dry_run: bool = False
    ) -> Result:
        """``delete``, with the whole Result: also the default instance an agent put back.

        ``dry_run`` runs every step (authorization included) and commits nothing.
        """
        from stigmer.reconcilers.framework import Request

        k = resolve_kind(kind)
        request = Request("delete", k, name=_looked_up(k, name), org=self._org(org))
        result = self._one(request, dry_run=dry_run)
        result.deleted = [masking.masked(o) for o in result.deleted]
        result.recreated = [masking.masked(o) for o in result.recreated]
        return result

    def delete_objects(
        self, objs: Iterable[Resource], *, dry_run: bool = False
    ) -> builtins.list[Result]:
        """Deletes these objects (by id, with cascade) in one batch."""
        from stigmer.reconcilers.framework import delete_request

        return self._run([delete_request(o) for o in objs], dry_run=dry_run).results

    def delete_all(
        self,
        kind: Kind | str,
        *,
        org: str | None = None,
        all_orgs: bool = False,
        selector: Selector | str | None = None,
        dry_run: bool = False,
    ) -> builtins.list[Result]:
        """Deletes every object of a kind in the org (or every org), or those ``selector`` picks."""
        targets = self.list(resolve_kind(kind), org=org, all_orgs=all_orgs, selector=selector)
        results = self.delete_objects(targets, dry_run=dry_run)
        return [r for r in results if r.ok or not isinstance(_cause(r.error), NotFound)]

    def prune(
        self,
        selector: Selector | str,
        keep: Iterable[tuple[str, str, str]],
        *,
        orgs: Iterable[str],
        dry_run: bool = False,
    ) -> builtins.list[Result]:
        """Deletes objects matching ``selector`` in ``orgs`` whose (kind, org, slug) is not kept.

        Instances an agent controls are left to their agent's cascade.
        """
        from stigmer.reconcilers.framework import Request
        from stigmer.store.selectors import parse

        sel = parse(selector) if isinstance(selector, str) else selector
        if not sel.requirements:
            raise UsageError("--prune needs a non-empty label selector (-l)")
        kept = set(keep)
        requests = []
        for k in kinds.KINDS:
            for org in sorted(set(orgs)):
                for obj in self.store.list(k.key, org=org, selector=sel):
                    md = obj.metadata
                    controlled = any(r.controller for r in md.owner_references)
                    if (k.key, md.org, md.slug) not in kept and not controlled:
                        requests.append(Request("delete", k, name=md.id, org=md.org))
        return self._run(requests, dry_run=dry_run).results

    def reconcile(
        self, kind: Kind | str | None = None, name: str | None = None, *, org: str | None = None
    ) -> builtins.list[Result]:
        """Reconciles one object, every object of a kind, or everything (all orgs)."""
        from stigmer.reconcilers.framework import Request

        if name is not None:
            if kind is None:
                raise UsageError("reconcile by name needs a kind")
            return [
                self._one(Request("reconcile", resolve_kind(kind), name=name, org=self._org(org)))
            ]
        requests = []
        for k in [resolve_kind(kind)] if kind is not None else list(kinds.KINDS):
            for obj in self.store.list(k.key, org=org):
                requests.append(Request("reconcile", k, name=obj.metadata.id, org=obj.metadata.org))
        return self._run(requests).results

    def _run(
        self,
        requests: Iterable[Request],
        *,
        dry_run: bool = False,
        atomic: bool = False,
        show_secrets: bool = False,
        progress: Callable[[int], None] | None = None,
        trace: bool = False,
    ) -> Batch:
        """Runs requests: a list as one batch; an iterator as it yields (never atomic)."""
        from stigmer.reconcilers import running

        session = self._session(show_secrets, trace)
        if isinstance(requests, Sequence) or atomic:  # all or nothing needs them all first
            batch = running.run_batch(
                self.store,
                list(requests),
                session,
                dry_run=dry_run,
                atomic=atomic,
                progress=progress,
            )
        else:
            batch = running.run_stream(
                self.store, requests, session, dry_run=dry_run, progress=progress
            )
        if batch.committed and not dry_run:
            self.bus.publish(batch.changes)
        return batch

    def write(
        self,
        requests: Sequence[Request],
        *,
        dry_run: bool = False,
        atomic: bool = False,
        show_secrets: bool = False,
    ) -> builtins.list[Result]:
        """Runs requests of any verb as one batch; one Result per request.

        Each succeeds or fails alone (unless ``atomic``), as a manifest's documents
        do: what the API server's group commit runs for its callers' writes.
        """
        return self._run(
            list(requests), dry_run=dry_run, atomic=atomic, show_secrets=show_secrets
        ).results

    def _one(self, request: Request, *, dry_run: bool = False) -> Result:
        """Runs one request; raises its error (NotFound, Forbidden... as themselves)."""
        return _raised(self._run([request], dry_run=dry_run).results[0])

    # -- reads ----------------------------------------------------------------

    def _authorize_read(self, verb: str, kind: Kind, org: str) -> None:
        with self.store.read() as reader:
            self.authorizer.authorize(reader, self.actor, verb, kind, org)

    def _reveal(self, objs: ResourceList, show_secrets: bool) -> ResourceList:
        """``objs`` masked, or as they are for an actor allowed to see their orgs' secrets."""
        if not show_secrets:
            return [masking.masked(o) for o in objs]
        with self.store.read() as reader:
            for org in sorted({o.metadata.org for o in objs}):  # one question per org
                if not self.authorizer.may_reveal_secrets(reader, self.actor, org):
                    raise secrets_forbidden(self.actor, org)
        return objs

    def _may_reveal(self, org: str) -> bool:
        with self.store.read() as reader:
            return self.authorizer.may_reveal_secrets(reader, self.actor, org)

    def authorize(
        self, verb: str, kind: Kind | str = kinds.AGENT, *, org: str | None = None
    ) -> None:
        """Raises Forbidden unless the actor may ``verb`` objects of ``kind`` in the org, or "*"."""
        where = org if org == EVERY_ORG else self._org(org)
        self._authorize_read(verb, resolve_kind(kind), where)

    def authorize_store(self, verb: str) -> None:
        """Store tools (check, dump, stats) see every org: only an admin of all may use them."""
        with self.store.read() as reader:
            self.authorizer.authorize(reader, self.actor, f"store {verb}", kinds.AGENT, "*")

    def _find(self, k: Kind, org: str, name: str) -> Resource | None:
        """The object a slug (or id) names in the org, both checked already (``_org``,
        ``_looked_up``): unmasked and unauthorized, so private."""
        return find_named(self.store, k, org, name)

    def _find_id(self, kind: Kind, id: str) -> Resource | None:
        """The object with this id, in any org: unmasked and unchecked, so private."""
        return self.store.find(kind.key, id)

    def get(
        self,
        kind: Kind | str,
        name: str,
        *,
        org: str | None = None,
        show_secrets: bool = False,
        verb: str = "get",
    ) -> Resource:
        """The object named by slug (or id) in the org; NotFound if there is none.

        ``verb`` is what the read is authorized as (describe reads through get).
        """
        k, where = resolve_kind(kind), self._org(org)
        self._authorize_read(verb, k, where)
        obj = self._find(k, where, _looked_up(k, name))
        if obj is None:
            raise NotFound(f'{k.singular} "{name}" not found in org "{where}"')
        if obj.metadata.org != where:  # found by id in another org: that org decides
            self._authorize_read(verb, k, obj.metadata.org)
        return self._reveal([obj], show_secrets)[0]

    def get_by_id(self, kind: Kind | str, id: str, *, show_secrets: bool = False) -> Resource:
        """The object with this id, in whatever org holds it (that org's roles decide)."""
        k = resolve_kind(kind)
        # One read: the object, then its org's decision (a server's every get by id comes here).
        with self.store.read() as reader:
            obj = reader.find(k.key, _looked_up(k, id))
            if obj is None:
                raise NotFound(f'{k.singular} "{id}" not found')
            self.authorizer.authorize(reader, self.actor, "get", k, obj.metadata.org)
        return self._reveal([obj], show_secrets)[0]

    def list(
        self,
        kind: Kind | str,
        *,
        org: str | None = None,
        all_orgs: bool = False,
        selector: Selector | str | None = None,
        show_secrets: bool = False,
    ) -> ResourceList:
        """Objects of a kind in the org, or in every org the actor may view."""
        from stigmer.store.selectors import parse

        k = resolve_kind(kind)
        sel = parse(selector) if isinstance(selector, str) or selector is None else selector
        if not all_orgs:
            self._authorize_read("list", k, self._org(org))
            objs = self.store.list(k.key, org=self._org(org), selector=sel)
        else:
            objs = []
            for o in self.visible_orgs(k):
                objs += self.store.list(k.key, org=o, selector=sel)
        return self._reveal(objs, show_secrets)

    def visible_orgs(self, kind: Kind, verb: str = "list") -> builtins.list[str]:
        """The orgs holding objects of ``kind`` that the actor may ``verb``."""
        with self.store.read() as reader:
            return [o for o in reader.orgs(kind.key) if self._allowed(reader, verb, kind, o)]

    def _allowed(self, reader: Reader, verb: str, kind: Kind, org: str) -> bool:
        try:
            self.authorizer.authorize(reader, self.actor, verb, kind, org)
        except Forbidden:
            return False
        return True

    def _watchable(self, events: Iterable[Event]) -> set[tuple[str, str]]:
        """The (kind, org) pairs of these events the actor may watch, decided now."""
        pairs = {(e.kind, e.org) for e in events}
        with self.store.read() as reader:
            return {(k, o) for k, o in pairs if self._allowed(reader, "watch", kinds.by_key(k), o)}

    def owned(self, obj: Resource) -> ResourceList:
        """The objects an object owns, masked."""
        return [masking.masked(o) for o in self.store.list_owned(obj.metadata.id)]

    def references(self, obj: Resource) -> builtins.list[RefState]:
        """The state of each reference ``obj`` makes, in field order (describe lists them).

        Only the states: the targets themselves are read with ``get``, which checks access.
        """
        from stigmer.reconcilers.references import Resolver

        with self.store.read() as reader:
            return [s._replace(found=None) for s in Resolver(reader).resolve(obj)]

    def environment(self, obj: Resource, *, show_secrets: bool = False) -> builtins.list[EnvEntry]:
        """An instance's effective environment, by name, with the source of each value.

        Its agent's ``envSpec``, then each referenced Environment in order, later
        ones winning. Secret values are masked unless asked and allowed.
        """
        from stigmer.reconcilers.instances import find_agent
        from stigmer.reconcilers.readiness import effective_environment
        from stigmer.reconcilers.references import Resolver

        if kinds.of(obj) is not kinds.AGENT_INSTANCE:
            return []
        org = obj.metadata.org
        if show_secrets and not self._may_reveal(org):
            raise secrets_forbidden(self.actor, org)
        with self.store.read() as reader:
            agent = find_agent(reader, obj.spec.agent_id, org)  # type: ignore[union-attr]
            entries = effective_environment(agent, Resolver(reader).resolve(obj), org)
        if show_secrets:
            return entries
        return [e._replace(value=masking.MASK) if e.secret and e.value else e for e in entries]

    def revision(self) -> int:
        """The store's revision now: where a watch that should miss nothing starts."""
        return self.store.revision()

    def synced_directory(self, obj: Resource) -> str | None:
        """The directory whose ``stigmer sync`` manages ``obj``, or None."""
        if not obj.metadata.annotations:
            return None  # the usual case, asked for each object applied: no import
        from stigmer.gitops import syncing

        source = obj.metadata.annotations.get(syncing.SOURCE)
        return (syncing.directory_of(self.store, source) or source) if source else None

    def events_for(self, obj: Resource, *, limit: int = 10) -> builtins.list[Event]:
        """The most recent events of an object, newest last, through the feed's object index."""
        return self.store.events_of(kinds.of(obj).key, obj.metadata.id, limit=limit)

    def events(
        self,
        kind: Kind | str | None = None,
        name: str | None = None,
        *,
        org: str | None = None,
        all_orgs: bool = False,
        limit: int = 50,
    ) -> builtins.list[Event]:
        """The newest ``limit`` events, oldest first: of one object, or of the org's objects.

        Read from the change feed: an object's through its index, the org's by
        reading back from the newest revision. Only the events of the kinds and
        orgs the actor may watch are returned.
        """
        k = resolve_kind(kind) if kind is not None else None
        if name is not None:
            if k is None:
                raise UsageError("events of one object need its kind: events KIND NAME")
            obj = self.get(k, name, org=org, verb="watch")
            return self.events_for(obj, limit=limit)
        if not all_orgs:
            self._authorize_read("watch", k or kinds.AGENT, self._org(org))

        def wanted(e: Event) -> bool:
            return (k is None or e.kind == k.key) and (all_orgs or e.org == self._org(org))

        return self._recent(wanted, limit)

    def _recent(self, wanted: Callable[[Event], bool], limit: int) -> builtins.list[Event]:
        """The newest ``limit`` events ``wanted`` keeps and the actor may watch, oldest first.

        Revisions only grow, but need not be dense: the window read back
        doubles until it holds enough events or reaches the feed's start.
        """
        newest, window = self.store.revision(), max(limit, 64)
        while True:
            start = max(0, newest - window)
            found = [e for e in self.store.events_since(start) if wanted(e)]
            if len(found) >= limit or start <= self.store.compacted():
                break
            window *= 4
        found = found[-limit:] if limit > 0 else []
        watchable = self._watchable(found) if found else set()
        return [e for e in found if (e.kind, e.org) in watchable]

    def format_version(self) -> int | None:
        """The format of the store's files (its schema version), if the backend says."""
        version: int | None = getattr(self.store, "format_version", None)
        return version

    # -- history and rollback (docs/architecture.md, "History and rollback") ---

    def _history_of(
        self, kind: Kind | str, name: str, org: str | None
    ) -> tuple[Resource, builtins.list[Revision]]:
        """The live object (unmasked: private) and its kept revisions, read as ``get``."""
        from stigmer.reconcilers import history

        shown = self.get(kind, name, org=org)  # authorized as a read, and masked
        k, id = kinds.of(shown), shown.metadata.id
        return self.store.get(k.key, id), history.revisions(self.store, k, id)

    def history(
        self, kind: Kind | str, name: str, *, org: str | None = None, show_secrets: bool = False
    ) -> builtins.list[Revision]:
        """The kept revisions of an object, oldest first, each with its CHANGE summary."""
        from stigmer.reconcilers import history

        _, kept = self._history_of(kind, name, org)
        masked = self._reveal([r.object for r in kept], show_secrets)
        return history.with_changes(kept, masked)

    def history_diff(
        self, kind: Kind | str, name: str, number: int, *, org: str | None = None
    ) -> str:
        """A unified diff from kept revision ``number`` to the live object; secrets masked."""
        import difflib

        from stigmer.reconcilers import history

        live, kept = self._history_of(kind, name, org)
        old, k = history.pick(kept, number, live).object, kinds.of(live)
        # Changed secrets are marked only to whoever may see them (as diff does).
        a, b = ("revision", "live") if self._may_reveal(live.metadata.org) else ("", "")
        label = f"{k.singular}/{live.metadata.slug}"
        return "".join(
            difflib.unified_diff(
                _view_yaml(k, masking.masked(old, before=live, marker=a)).splitlines(True),
                _view_yaml(k, masking.masked(live, before=old, marker=b)).splitlines(True),
                fromfile=f"revision-{number}/{label}",
                tofile=f"live/{label}",
            )
        )

    def rollback(
        self, kind: Kind | str, name: str, *, to_revision: int | None = None, org: str | None = None
    ) -> Result:
        """Applies a kept revision's spec (default: the newest kept) through the pipeline.

        It is an apply like any other: authorized, validated, announced, a new
        generation, and the spec it replaces is kept as a new revision. A live
        object changed since it was read is a Conflict.
        """
        from stigmer.reconcilers import history
        from stigmer.reconcilers.framework import Request

        live, kept = self._history_of(kind, name, org)
        want = kinds.clone(live)
        kinds.replace_spec(want, history.pick(kept, to_revision, live).object)
        request = Request(
            "apply",
            kinds.of(live),
            desired=want,
            org=live.metadata.org,
            expected_id=live.metadata.id,
            expected_version=live.metadata.resource_version,
        )
        return self._one(request)

    # -- diff and watch -------------------------------------------------------

    def diff(self, manifests: Iterable[Manifest | Resource]) -> builtins.list[Diff]:
        """Live vs desired for each item, over user-owned fields; writes nothing."""
        from stigmer.reconcilers import running
        from stigmer.reconcilers.framework import apply_request

        requests = [apply_request(m) for m in manifests]
        for r in requests:
            r.verb = "diff"
        plan = running.plan(self.store, requests, self._session())
        diffs = []
        for request, outcome in plan:
            diffs.append(self._diff_one(request, outcome))
        return diffs

    def _diff_one(self, request: Request, outcome: Context | StigmerError) -> Diff:
        import difflib

        kind, obj = request.kind, request.desired
        assert obj is not None
        if isinstance(outcome, StigmerError):
            name = obj.metadata.slug or naming.slugify(obj.metadata.name)  # failed before Slug
            return Diff(kind, name, obj.metadata.org, "", "", "", error=_cause(outcome))
        live, new = outcome.live, outcome.new
        assert new is not None  # a diff's pipeline always reaches the desired state
        # Secret values are unknown to whoever may not see them: no marker, so a right
        # and a wrong guess give the same diff (otherwise diff would check guesses).
        reveal = self._may_reveal(new.metadata.org)
        before, after = ("before", "after") if reveal else ("", "")
        live_view = (
            _view_yaml(kind, masking.masked(live, before=new, marker=before)) if live else ""
        )
        new_view = _view_yaml(kind, masking.masked(new, before=live, marker=after))
        label = f"{kind.singular}/{new.metadata.slug}"
        text = "".join(
            difflib.unified_diff(
                live_view.splitlines(keepends=True),
                new_view.splitlines(keepends=True),
                fromfile=f"live/{label}",
                tofile=f"desired/{label}",
            )
        )
        return Diff(kind, new.metadata.slug, new.metadata.org, live_view, new_view, text)

    def watch(
        self,
        kind: Kind | str | None = None,
        *,
        since: int | None = None,
        org: str | None = None,
        stop: threading.Event | None = None,
    ) -> Iterator[Change]:
        """Changes from the store's change feed as they are committed, by any process.

        Starts after ``since`` (default: now, taken at the call, so a list
        made after it misses nothing) and runs until ``stop`` is set, through
        ``Store.watch``. With ``org`` the watch is refused at once if the
        actor may not watch it; without, it shows the events of the orgs the
        actor may watch, checked as they come, so a grant or a revoke takes
        effect during the watch. Raises Expired, at the call or while
        iterating, when the feed no longer holds the events after the
        watch's revision: list again, then watch anew.
        """
        k = resolve_kind(kind) if kind is not None else None
        if org is not None:
            self._authorize_read("watch", k or kinds.AGENT, org)
        feed = self.store.watch(since, stop=stop)
        return self._changes(feed, k, org)

    def _changes(
        self, feed: Iterator[builtins.list[Event]], kind: Kind | None, org: str | None
    ) -> Iterator[Change]:
        from stigmer.reconcilers.events import Change

        for events in feed:
            wanted = [e for e in events if kind is None or e.kind == kind.key]
            wanted = [e for e in wanted if org is None or e.org == org]
            watchable = self._watchable(wanted) if wanted else set()
            for event in wanted:
                if (event.kind, event.org) in watchable:
                    yield Change(event, masking.masked(self._event_object(event)))

    def _event_object(self, event: Event) -> Resource:
        obj = self.store.find(event.kind, event.id) if event.type != EventType.deleted else None
        if obj is None:  # deleted since: what the event itself says
            obj = kinds.by_key(event.kind).new()
            md = obj.metadata
            md.id, md.org, md.slug, md.generation = (
                event.id,
                event.org,
                event.slug,
                event.generation,
            )
        return obj

    def wait(
        self,
        kind: Kind | str,
        names: Iterable[tuple[str | None, str]] = (),
        *,
        until: Until,
        selector: Selector | str | None = None,
        all_orgs: bool = False,
        timeout: float | None = 30.0,
        met: Callable[[Waited], None] | None = None,
    ) -> builtins.list[Waited]:
        """Waits until each object meets ``until``; returns those that did not in time.

        Objects are named as (org or None, name), or else listed now (``selector``,
        ``all_orgs``): a listing that finds none raises NotFound. A named object
        that does not exist yet is waited for. It checks once, then follows the
        change feed from a revision taken before that check, so nothing in
        between is missed; ``timeout`` 0 checks once, None waits for ever.
        ``met`` is called as each object meets it.
        """
        k = resolve_kind(kind)
        targets = self._wait_targets(k, list(names), selector, all_orgs)
        start = self.revision()
        pending = self._settle(targets, until, met)
        stop = threading.Event()
        timer = threading.Timer(timeout, stop.set) if timeout else None
        if timer is not None:
            timer.daemon = True
            timer.start()
        try:
            while pending and timeout != 0 and not stop.is_set():
                for target in pending:
                    log.info("waiting for %s/%s: %s", k.singular, target.name, target.unmet)
                try:
                    pending = self._follow(k, pending, until, met, start=start, stop=stop)
                except Expired:  # fell behind the feed: look again, then follow from now
                    start = self.revision()
                    pending = self._settle(pending, until, met)
        finally:
            if timer is not None:
                timer.cancel()
        return pending

    def _wait_targets(
        self,
        k: Kind,
        names: builtins.list[tuple[str | None, str]],
        selector: Selector | str | None,
        every: bool,
    ) -> builtins.list[Waited]:
        if names:
            for org in sorted({self._org(o) for o, _ in names}):
                self._authorize_read("get", k, org)
            return [Waited(k, self._org(o), _looked_up(k, n)) for o, n in names]
        listed = self.list(k, all_orgs=every, selector=selector)
        if not listed:
            raise NotFound("no matching resources found")
        return [Waited(k, o.metadata.org, o.metadata.slug, o.metadata.id) for o in listed]

    def _settle(
        self, targets: builtins.list[Waited], until: Until, met: Callable[[Waited], None] | None
    ) -> builtins.list[Waited]:
        """Checks each target as the store has it now; the ones still pending."""
        pending = []
        for target in targets:
            k = target.kind
            found = self._find_id(k, target.id) if target.id else None
            obj = found if target.id else self._find(k, target.org, target.name)
            target.unmet = until.unmet(obj)
            if target.unmet:
                pending.append(target)
            elif met is not None:
                met(target)
        return pending

    def _follow(
        self,
        k: Kind,
        pending: builtins.list[Waited],
        until: Until,
        met: Callable[[Waited], None] | None,
        *,
        start: int,
        stop: threading.Event,
    ) -> builtins.list[Waited]:
        """Follows the feed from ``start`` until nothing is pending or ``stop`` is set."""
        orgs = {t.org for t in pending}
        feed = self.watch(
            k, since=start, org=next(iter(orgs)) if len(orgs) == 1 else None, stop=stop
        )
        for change in feed:
            touched = [t for t in pending if t.concerns(change.event)]
            if touched:
                done = {id(t) for t in touched} - {id(t) for t in self._settle(touched, until, met)}
                pending = [t for t in pending if id(t) not in done]
            if not pending:
                stop.set()
        return pending

    # -- IAM ------------------------------------------------------------------

    def grant(self, user: str, role: str, *, org: str | None = None) -> bool:
        """Gives ``user`` ``role`` in the org ("*": every org); False if they held it."""
        from stigmer import iam

        where = iam.check_org(org or self.org)
        return self.store.transact(
            lambda txn: iam.grant(txn, self.actor, user, role, where), actor=self.actor
        )

    def revoke(self, user: str, role: str, *, org: str | None = None) -> None:
        """Takes ``role`` in the org from ``user``; NotFound if they do not hold it."""
        from stigmer import iam

        where = iam.check_org(org or self.org)
        self.store.transact(
            lambda txn: iam.revoke(txn, self.actor, user, role, where), actor=self.actor
        )

    def bindings(
        self, *, org: str | None = None, user: str | None = None
    ) -> builtins.list[Binding]:
        """The role bindings the actor may see: of one org (and "*"), or of every org.

        Built-in roles and the actor's own are always shown; other grants need
        viewer of their org. Sorted by org, user, then role from weakest.
        """
        from stigmer import iam

        with self.store.read() as reader:
            if org is None:
                found = iam.bindings(reader, user=user)
            else:
                iam.require(reader, self.actor, "list", "roles", iam.check_org(org))
                found = iam.bindings(reader, org=iam.EVERY_ORG, user=user)
                found += iam.bindings(reader, org=org, user=user) if org != iam.EVERY_ORG else []
            rows = [b for b in found if self._sees_binding(reader, b)]
        rows.sort(key=lambda b: (b.org, b.user, iam.ROLES.index(b.role)))
        return rows

    def _sees_binding(self, reader: Reader, b: Binding) -> bool:
        from stigmer import iam

        own = b.via != "grant" or b.user == self.actor
        return own or iam.decide(reader, self.actor, "list", b.org).allowed

    def check(
        self, user: str, verb: str, kind: Kind | str = kinds.AGENT, *, org: str | None = None
    ) -> Decision:
        """Whether ``user`` may ``verb`` objects of ``kind`` in the org, and why.

        Anyone may ask about themselves; asking about others needs viewer of the org.
        """
        from stigmer import iam

        resolve_kind(kind)  # an unknown kind is a usage error, as everywhere else
        if verb not in iam.VERBS:
            raise UsageError(f'unknown verb "{verb}" (expected one of: {", ".join(iam.VERBS)})')
        where = iam.check_org(org or self.org)
        with self.store.read() as reader:
            if user != self.actor:
                iam.require(reader, self.actor, "list", "roles", where)
            return iam.decide(reader, user, verb, where)

    # -- API tokens (admins of every org; the server checks them) -------------

    def create_token(self, user: str, *, ttl: str | None = None) -> str:
        """A new bearer token acting as ``user``; only its salted hash is kept."""
        import time

        from stigmer import tokens

        seconds = tokens.parse_ttl(ttl) if ttl is not None else None
        if check_user(user) == CONTROLLER:  # its roles are for serve's reconciles alone
            raise UsageError(f'user "{CONTROLLER}" is the built-in controller; it gets no token')
        self.authorize_store("tokens")
        return self.store.transact(
            lambda txn: tokens.create(txn, user, now=time.time(), ttl=seconds), actor=self.actor
        )

    def tokens(self, *, user: str | None = None) -> builtins.list[TokenInfo]:
        """The tokens not revoked (of one user), oldest first; never their secrets."""
        from stigmer import tokens

        self.authorize_store("tokens")
        with self.store.read() as reader:
            return tokens.tokens(reader, user=user)

    def revoke_tokens(self, ids: Iterable[str]) -> None:
        """Revokes tokens by id, all or none; NotFound names an unknown one."""
        from stigmer import tokens

        chosen = builtins.list(ids)
        self.authorize_store("tokens")

        def revoke_all(txn: WriteTxn) -> None:
            for token_id in chosen:
                tokens.revoke(txn, token_id)

        self.store.transact(revoke_all, actor=self.actor)

    def authenticate(self, token: str) -> TokenInfo:
        """The token's record if it is valid now; Unauthenticated otherwise (no role needed)."""
        import time

        from stigmer import tokens

        with self.store.read() as reader:
            return tokens.verify(reader, token, now=time.time())

    def token_used(self, token_id: str) -> None:
        """Records that a token was used now (what ``iam token list`` shows)."""
        import time

        from stigmer import tokens

        self.store.transact(lambda txn: tokens.touch(txn, token_id, now=time.time()))

    # -- store tools (every org: admins of all only) --------------------------

    @property
    def url(self) -> str:
        """The URL of the open store."""
        return self.store.url

    def check_store(self) -> builtins.list[str]:
        """Every inconsistency of keys, objects and indexes; empty when the store is sound."""
        self.authorize_store("check")
        return self.store.check()

    def repair_store(self) -> builtins.list[str]:
        """Rebuilds the indexes from the objects; the changes it made."""
        self.authorize_store("check")
        return self.store.repair()

    def dump(self, kind: Kind | str | None = None) -> ResourceList:
        """Every object of every org (or of one kind), secrets masked."""
        self.authorize_store("dump")
        chosen = [resolve_kind(kind)] if kind else list(kinds.KINDS)
        return [masking.masked(o) for k in chosen for o in self.store.list(k.key)]

    def stats(self) -> Stats:
        """Counts per kind and org, the revision and the size on disk."""
        self.authorize_store("stats")
        return self.store.stats()

    # -- sync, serve, migrate -------------------------------------------------

    def syncer(
        self, directory: str | Path, *, prune: bool = False, follow_symlinks: bool = False
    ) -> Syncer:
        """What keeps ``directory`` and the store in step, acting as this client's user."""
        from stigmer.gitops.syncing import Syncer

        self.authorize("sync")
        return Syncer(
            self.store,
            self._session(),
            directory,
            prune=prune,
            follow_symlinks=follow_symlinks,
        )

    @contextmanager
    def controller(
        self,
        stop: threading.Event,
        *,
        workers: int = 2,
        resync_seconds: float = 600.0,
        health_port: int | None = None,
        retention: str | None = None,
        counters: dict[str, Callable[[], int]] | None = None,
        metrics: Callable[[], str] | None = None,
        serving: Callable[[], None] | None = None,
    ) -> Iterator[None]:
        """Runs the controller (and its health server) in a thread until the block ends.

        Needs admin of every org, as a store tool; leads the store
        (Store.leader) throughout: on etcd, a replica waits its turn first,
        serving its health endpoint meanwhile. ``retention`` is the change feed's policy
        as ``--retention`` spells it; ``counters`` are more counters for
        /metrics, by name (a watching sync's ``stigmer_self_heal_total``), and
        ``metrics`` renders more lines for it (the API server's). ``serving`` is
        called once the health endpoint serves, before waiting to lead (serve
        starts its API there). Leaving the block sets ``stop``.
        """
        from stigmer.controller import controller as ctl
        from stigmer.controller import health
        from stigmer.store.protocol import Retention

        keep = Retention.parse(retention) if retention is not None else Retention()
        self.authorize("serve", org="*")
        leader = self.store.leader()
        board = health.Board(leader, extra=metrics)
        server = health.serve(board, health_port) if health_port is not None else None
        try:
            if serving is not None:
                serving()
            if not ctl.elect(leader, stop):  # stopped while another replica led
                yield
                return
            board.controller = runtime = ctl.Controller(
                self.store,
                authorizer=self.authorizer,
                workers=workers,
                resync_seconds=resync_seconds,
                leader=leader,
                retention=keep,
            )
            runtime.metrics.counters.update(counters or {})
            # This client's writes (the API's, each view's) need no reconcile of their own.
            self._committing = runtime.settled
            thread = threading.Thread(target=runtime.run, args=(stop,), name="controller")
            thread.start()
            try:
                yield
            finally:
                self._committing = None
                stop.set()
                thread.join()
        finally:
            if server is not None:
                server.shutdown()
            leader.resign()

    def import_upstream(self, path: str | Path, *, dry_run: bool = False) -> ImportReport:
        """Imports an upstream Stigmer database into the store, then reconciles it."""
        from stigmer.migrate.importing import import_upstream

        self.authorize("migrate")
        return import_upstream(self.store, path, session=self._session(), dry_run=dry_run)

    def copy_to(self, url: str) -> CopyReport:
        """Copies the whole store into the empty store at ``url`` (backup, restore)."""
        from stigmer.migrate.copying import copy_store
        from stigmer.store import open_store

        self.authorize("migrate")
        destination = open_store(url)
        try:
            return copy_store(self.store, destination, actor=self.actor)
        finally:
            destination.close()


def _looked_up(k: Kind, name: str) -> str:
    """``name`` if it may name an object of ``k`` (a slug or id): checked before a store sees it.

    Only what no object can be called is refused: an imported object keeps the
    slug upstream gave it, and a default instance's slug may pass 63 characters.
    """
    if not name:
        raise UsageError(f"an empty {k.singular} name")
    return naming.check_identifier(f"{k.singular} name", name, naming.NAME_MAX_LENGTH)


def _raised(result: Result) -> Result:
    """The Result, or the error a caller cares about raised (a one-object call's answer)."""
    if result.error is not None:
        raise _cause(result.error)
    return result


def _cause(error: StigmerError | None) -> StigmerError:
    """The error a caller cares about: the cause of a StepFailed."""
    assert error is not None
    if isinstance(error, StepFailed) and isinstance(error.cause, StigmerError):
        return error.cause
    return error


def _view_yaml(kind: Kind, obj: Resource) -> str:
    """The user view diff shows: without the annotations sync owns, which are not the user's."""
    from stigmer.manifests import emitting, resources

    view = resources.user_view(kind, obj)
    metadata = view["metadata"]
    annotations = {
        k: v
        for k, v in metadata.pop("annotations", {}).items()
        if not k.startswith(naming.SYNC_ANNOTATION_PREFIX)
    }
    if annotations:
        metadata["annotations"] = annotations
    return emitting.dump(view)


def _edit_view(kind: Kind, obj: Resource) -> dict[str, Any]:
    """The manifest ``edit`` and ``patch`` work on: the user view, with the id and
    resourceVersion apply checks, without the annotations sync owns."""
    from stigmer.manifests import conversion, resources

    view = resources.user_view(kind, obj)
    full = conversion.to_dict(obj)["metadata"]
    keep = (*resources.USER_METADATA, "id", "resourceVersion")
    view["metadata"] = {k: v for k, v in full.items() if k in keep}
    annotations = {
        k: v
        for k, v in view["metadata"].pop("annotations", {}).items()
        if not k.startswith(naming.SYNC_ANNOTATION_PREFIX)
    }
    if annotations:
        view["metadata"]["annotations"] = annotations
    return view


def _other_object(
    manifests: builtins.list[Manifest], kind: Kind, live: Resource, source: str
) -> builtins.list[Problem]:
    """A problem unless ``manifests`` is one manifest of the object ``live``."""
    from stigmer.manifests import reading

    md = live.metadata
    if len(manifests) != 1:
        return [Problem(source, 0, 0, "", f"expected one manifest, of {kind.singular}/{md.slug}")]
    m = manifests[0]
    found = reading.identity(m, md.org)
    if found == (kind.key, md.org, md.slug):
        return []
    path = (
        ("kind",) if found[0] != kind.key else ("metadata", "org" if found[1] != md.org else "slug")
    )
    message = f"cannot be changed here: this edits {kind.singular}/{md.slug} in org {md.org}"
    return [m.document.problem(path, message)]


def _unplaced(report: ApplyReport, source: str) -> ApplyReport:
    """A patch's problems name the object, not lines of a manifest the user never saw."""
    report.problems = [p._replace(file=source, line=0, column=0) for p in report.problems]
    for result in report.results:
        result.source = source
    return report
