"""References between resources: what an object names, whether each resolves, who names a target.

A reference is (kind, org, slug): an AgentInstance's ``spec.environmentRefs``
name Environments, an Agent's ``skillRefs`` (its own and its sub-agents') name
Skills and its ``mcpServers`` entries with an ``mcpServerRef`` name McpServers. It resolves in the
referrer's org unless it names another; a cross-org reference needs the
referrer's owner to hold a role (viewer or more) in the target org.

Which fields of which kind hold references is data (``_FIELDS``), so a new
referring kind adds an entry and no code path.

The target -> referrers index is one relation tuple per reference,
``ref:<kind>/<org>/<slug>#<referrer kind>@<referrer id>``, written in the
transaction that writes the referrer (docs/architecture.md, "References").
Tuples are part of the Store protocol on every backend, commit with the
objects, survive a crash with them and copy with ``migrate copy``; a prefix
read of them costs O(referrers). The index may hold an entry a referrer no
longer makes (it is dropped when found): ``referrers`` checks each one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from stigmer import iam
from stigmer.api import kinds
from stigmer.api.kinds import Resource

if TYPE_CHECKING:
    from stigmer.store import Reader, WriteTxn

ENVIRONMENT, SKILL, MCP_SERVER = kinds.ENVIRONMENT.key, kinds.SKILL.key, kinds.MCP_SERVER.key
TARGET_KINDS = (ENVIRONMENT, SKILL, MCP_SERVER)
RESOLVED_REFS = "ResolvedRefs"
NOT_PERMITTED = "RefNotPermitted"
# Each target kind's reason when a reference to it does not resolve: EnvironmentNotFound.
NOT_FOUND_REASON = {key: f"{kinds.by_key(key).name}NotFound" for key in TARGET_KINDS}
_PREFIX = "ref:"

# A reference's state, as describe prints it.
RESOLVED, NOT_FOUND, FORBIDDEN = "Resolved", "NotFound", "NotPermitted"


@dataclass(frozen=True, slots=True)
class Ref:
    """One reference an object makes: the target's store kind, org and slug, and where."""

    kind: str
    org: str
    slug: str
    path: str  # the field that makes it: spec.environmentRefs[1]
    version: str = field(default="", compare=False)  # empty: whatever version there is

    @property
    def target(self) -> str:
        return f"{self.kind}/{self.org}/{self.slug}"


# A NamedTuple, not a frozen dataclass: every apply defines it, and a frozen
# dataclass costs ~3.4 M instructions to define, a NamedTuple ~0.4 M (bench/README.md, wave 7).
class RefState(NamedTuple):
    """Whether one reference resolves; ``found`` is the target when it does."""

    ref: Ref
    state: str  # RESOLVED, NOT_FOUND or FORBIDDEN
    found: Resource | None = None


# -- what each kind references --------------------------------------------------------


def _refs(items: Sequence[Any], kind: str, obj: Any, path: str) -> list[Ref]:
    if not items:  # the usual case; iterating a upb list ends in a costly IndexError
        return []
    org = obj.metadata.org  # read only when there is a reference: two message reads
    return [Ref(kind, r.org or org, r.slug, f"{path}[{i}]", r.version) for i, r in enumerate(items)]


def _instance_refs(obj: Any) -> list[Ref]:
    return _refs(obj.spec.environment_refs, ENVIRONMENT, obj, "spec.environmentRefs")


def _agent_refs(obj: Any) -> list[Ref]:
    spec = obj.spec
    found = _refs(spec.skill_refs, SKILL, obj, "spec.skillRefs")
    subs, servers = spec.sub_agents, spec.mcp_servers
    for i in range(len(subs)):  # by index, as _refs: no IndexError at the end
        found += _refs(subs[i].skill_refs, SKILL, obj, f"spec.subAgents[{i}].skillRefs")
    for i in range(len(servers)):
        server = servers[i]
        if server.WhichOneof("server_type") == "mcp_server_ref":
            ref = server.mcp_server_ref
            org = ref.org or obj.metadata.org
            found.append(Ref(MCP_SERVER, org, ref.slug, f"spec.mcpServers[{i}].mcpServerRef"))
    return found


# Which kinds make references, and how to read them: a referring kind adds an entry.
_FIELDS: dict[str, Callable[[Any], list[Ref]]] = {
    kinds.AGENT_INSTANCE.key: _instance_refs,
    kinds.AGENT.key: _agent_refs,
}


def refs_of(obj: Resource | None) -> list[Ref]:
    """Every reference an object makes, in field order (none for a kind that makes none)."""
    if obj is None:
        return []
    read = _FIELDS.get(kinds.of(obj).key)
    return read(obj) if read is not None else []


# -- resolving ------------------------------------------------------------------------


class Resolver:
    """Resolves references in one transaction, remembering targets and permissions.

    One Environment change re-resolves a thousand instances that name the same
    few targets: each is read once.
    """

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self._targets: dict[tuple[str, str, str], Resource | None] = {}
        self._allowed: dict[tuple[str, str], bool] = {}
        self._judged: dict[tuple[tuple[str, ...], ...], tuple[list[RefState], Verdict]] = {}

    def judge(self, obj: Resource, refs: list[Ref] | None = None) -> tuple[list[RefState], Verdict]:
        """``resolve`` and its ``verdict``, worked out once per list of same-org references.

        A thousand instances naming the same environments share one answer (so
        its list must not be changed). A cross-org reference depends on the
        referrer's owner, so its answer is the referrer's own.
        """
        refs = refs_of(obj) if refs is None else refs
        if not refs:
            return _NO_REFS  # most objects: nothing to read, nor a key to build
        org = obj.metadata.org
        if any(r.org != org for r in refs):
            states = self.resolve(obj, refs)
            return states, verdict(states)
        key = tuple((r.kind, r.org, r.slug, r.path, r.version) for r in refs)
        judged = self._judged.get(key)
        if judged is None:
            states = self.resolve(obj, refs)
            judged = self._judged[key] = (states, verdict(states))
        return judged

    def resolve(self, obj: Resource, refs: list[Ref] | None = None) -> list[RefState]:
        """The state of each reference ``obj`` makes; ``refs``: its ``refs_of``, when known."""
        refs = refs_of(obj) if refs is None else refs
        if not refs:
            return []
        owner = None
        out = []
        for ref in refs:
            if ref.org != obj.metadata.org:
                owner = owner if owner is not None else owner_of(self.reader, obj)
                if not self.permitted(owner, ref.org):
                    out.append(RefState(ref, FORBIDDEN))
                    continue
            found = self.target(ref.kind, ref.org, ref.slug)
            if found is not None and ref.version and ref.version not in versions(found):
                found = None
            out.append(RefState(ref, RESOLVED if found is not None else NOT_FOUND, found))
        return out

    def target(self, kind: str, org: str, slug: str) -> Resource | None:
        key = (kind, org, slug)
        if key not in self._targets:
            self._targets[key] = self.reader.find_by_slug(kind, org, slug)
        return self._targets[key]

    def permitted(self, user: str, org: str) -> bool:
        key = (user, org)
        if key not in self._allowed:
            self._allowed[key] = iam.role_of(self.reader, user, org) is not None
        return self._allowed[key]


def judge(
    reader: Reader,
    obj: Resource,
    refs: list[Ref] | None = None,
    resolver: Resolver | None = None,
) -> tuple[list[RefState], Verdict]:
    """``Resolver.judge``, with ``resolver`` or a new one: none for an object with no reference."""
    refs = refs_of(obj) if refs is None else refs
    if not refs:
        return _NO_REFS
    return (resolver or Resolver(reader)).judge(obj, refs)


def versions(obj: Resource) -> set[str]:
    """What a reference's ``version`` may name: a Skill's tag or hash, the version id."""
    spec: Any = obj.spec
    status: Any = obj.status
    names = {obj.metadata.version.id, getattr(spec, "tag", ""), getattr(status, "version_hash", "")}
    return names - {""}


def owner_of(reader: Reader, obj: Resource) -> str:
    """The user who created ``obj`` (its owner tuple); "" when it has none yet."""
    prefix = f"{iam.object_key(obj)}#owner@user:"
    found = reader.tuples(prefix)
    return found[0][len(prefix) :] if found else ""


# A NamedTuple, as RefState above.
class Verdict(NamedTuple):
    """The ResolvedRefs condition's value, reason and message."""

    resolved: bool
    reason: str
    message: str
    total: int = 0  # how many references there are


def verdict(states: list[RefState]) -> Verdict:
    """True when every reference resolves; else the first failure's reason, naming them all."""
    bad = [s for s in states if s.state != RESOLVED]
    if not bad:
        n = len(states)
        return Verdict(True, "RefsResolved", f"{n} of {n} references resolve", n)
    forbidden = [s for s in bad if s.state == FORBIDDEN]
    first = forbidden[0] if forbidden else bad[0]
    reason = NOT_PERMITTED if forbidden else NOT_FOUND_REASON.get(first.ref.kind, "RefNotFound")
    parts = [
        f"{s.ref.kind} {s.ref.org}/{s.ref.slug}"
        + (f"@{s.ref.version} " if s.ref.version else " ")
        + ("not found" if s.state == NOT_FOUND else "not permitted")
        for s in bad
    ]
    return Verdict(False, reason, "; ".join(parts), len(states))


# The judgement of an object that makes no reference: shared, so it must not be changed.
_NO_REFS: tuple[list[RefState], Verdict] = ([], verdict([]))


# -- the index ------------------------------------------------------------------------


def _entry_prefix(kind: str, org: str, slug: str) -> str:
    return f"{_PREFIX}{kind}/{org}/{slug}#"


def _entry(ref: Ref, obj: Resource) -> str:
    return f"{_entry_prefix(ref.kind, ref.org, ref.slug)}{kinds.of(obj).key}@{obj.metadata.id}"


def index(
    txn: WriteTxn,
    new: Resource | None,
    old: Resource | None,
    *,
    refs: list[Ref] | None = None,
    same_spec: bool = False,
) -> None:
    """Keeps the index in step with one object going from ``old`` to ``new``.

    Every entry of ``new`` is ensured (an entry lost, or written before the
    index existed, comes back on the next reconcile); ``old``'s others go.
    ``refs`` are ``new``'s references when the caller has them; ``same_spec``
    says ``old`` has ``new``'s spec, so it has no others.
    """
    refs = refs_of(new) if refs is None else refs
    if not refs and (old is None or same_spec):
        return  # the usual object: no reference to keep, none to drop
    keep = {_entry(r, new) for r in refs} if new is not None else set()
    for entry in keep:
        txn.add_tuple(entry)
    if old is not None and not same_spec:
        for entry in {_entry(r, old) for r in refs_of(old)} - keep:
            txn.remove_tuple(entry)


def referrers(reader: Reader, kind: str, org: str, slug: str) -> list[Resource]:
    """The objects whose references name (kind, org, slug), through the index.

    An entry whose object is gone or no longer names the target is skipped.
    """
    return [obj for obj, _ in referring(reader, kind, org, slug)]


def referring(reader: Reader, kind: str, org: str, slug: str) -> list[tuple[Resource, list[Ref]]]:
    """``referrers``, each with its ``refs_of``, which re-resolving it needs again."""
    prefix = _entry_prefix(kind, org, slug)
    found: list[tuple[Resource, list[Ref]]] = []
    for entry in reader.tuples(prefix):
        referrer_kind, _, id = entry[len(prefix) :].partition("@")
        obj = reader.find(referrer_kind, id)
        refs = refs_of(obj)
        if obj is not None and any((r.kind, r.org, r.slug) == (kind, org, slug) for r in refs):
            found.append((obj, refs))
    return found
