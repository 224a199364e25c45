"""From files to typed resources: load, validate and convert, reporting every problem."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from stigmer.api import kinds, naming
from stigmer.api.kinds import Kind, Resource
from stigmer.errors import Problem
from stigmer.manifests import constraints, conversion, loading, validation, worker, yamlio
from stigmer.manifests.loading import Document

# Inputs smaller than this are parsed here: a worker would save less than it costs.
PARALLEL_MIN_CHARS = 256 * 1024
PART_SIZE = 100  # documents per part of a stream


@dataclass(slots=True)
class Manifest:
    """A valid manifest document and the resource it declares."""

    document: Document
    kind: Kind
    resource: Resource

    @property
    def where(self) -> str:
        return f"{self.document.source}:{self.document.line}"


@dataclass(slots=True)
class Parsed:
    manifests: list[Manifest] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def kind_of(doc: Document) -> tuple[Kind | None, Problem | None]:
    """The registered kind a document declares, or the Problem saying why not."""
    name = doc.data.get("kind")
    if name is None:
        return None, doc.problem(("kind",), f"required field is missing ({_kind_names()})")
    kind = kinds.by_name(name) if isinstance(name, str) else None
    if kind is None:
        return None, doc.problem(("kind",), f"unknown kind {yamlio.show(name)} ({_hint(name)})")
    return kind, None


def _hint(name: object) -> str:
    """A "did you mean" for a CLI name or a near miss of a kind, else the list of kinds."""
    if isinstance(name, str):
        guess = kinds.by_cli_name(name)
        if guess is None:
            close = difflib.get_close_matches(name, [k.name for k in kinds.KINDS], n=1)
            guess = kinds.by_name(close[0]) if close else None
        if guess is not None:
            return f'did you mean "{guess.name}"?'
    return _kind_names()


def _kind_names() -> str:
    names = [k.name for k in kinds.KINDS]
    return "expected " + ", ".join(names[:-1]) + f" or {names[-1]}"


@kinds.per_kind  # by name: each document asks
def system_fields(kind: Kind) -> tuple[frozenset[str], frozenset[str]]:
    """The system-managed fields the schema lists: top-level ones, then metadata's."""
    root = validation.schema(kind)
    metadata = root["$defs"]["ApiResourceMetadata"]
    return frozenset(root["x-system-fields"]), frozenset(metadata["x-system-fields"])


def without_system_fields(kind: Kind, data: dict[str, Any]) -> dict[str, Any]:
    """The data without what ``get`` prints but the system owns (status, id, generation...).

    They are ignored on apply, so that ``get -o yaml | apply -f -`` works;
    ``preconditions`` reads the two that must agree with the live object.
    """
    top, meta = system_fields(kind)
    md = data.get("metadata")
    strip_meta = isinstance(md, dict) and not meta.isdisjoint(md)
    if top.isdisjoint(data) and not strip_meta:
        return data  # the common case: a hand-written manifest, used as it is
    out = {k: v for k, v in data.items() if k not in top}
    if strip_meta:
        assert isinstance(md, dict)
        out["metadata"] = {k: v for k, v in md.items() if k not in meta}
    return out


def preconditions(doc: Document) -> tuple[str, int, list[Problem]]:
    """metadata.id and metadata.resourceVersion as given (or "" and 0), and their type errors."""
    md = doc.data.get("metadata")
    if not isinstance(md, dict) or ("id" not in md and "resourceVersion" not in md):
        return "", 0, []  # the usual case: a hand-written manifest names neither
    problems = []
    id_, version = md.get("id", ""), md.get("resourceVersion", 0)
    if not isinstance(id_, str):
        problems.append(doc.problem(("metadata", "id"), "must be a string"))
    if isinstance(version, str) and version.isdigit():
        version = int(version)  # kubectl prints it quoted
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        problems.append(doc.problem(("metadata", "resourceVersion"), "must be a whole number"))
    if problems:
        return "", 0, problems
    return id_, version, []


def valid_data(kind: Kind, doc: Document) -> tuple[dict[str, Any] | None, list[Problem]]:
    """The document's data with JSON field names if it is valid, else its problems."""
    data = without_system_fields(kind, doc.data)
    if validation.is_valid(kind, data):
        return data, []
    normalized = conversion.normalize(kind.message.DESCRIPTOR, data)
    if normalized != data and validation.is_valid(kind, normalized):
        return normalized, []
    return None, validation.problems(kind, doc, normalized)


def _slug_problem(doc: Document, data: dict[str, Any]) -> Problem | None:
    """A name that yields no slug, when no slug is given (checked on invalid data too)."""
    md = data.get("metadata")
    if not isinstance(md, dict) or "slug" in md or not isinstance(md.get("name"), str):
        return None
    if md["name"] and not naming.slugify(md["name"]):
        return doc.problem(
            ("metadata", "name"),
            f"name {yamlio.show(md['name'])} yields an empty slug; set metadata.slug",
        )
    return None


def parse_document(doc: Document) -> tuple[Manifest | None, list[Problem]]:
    """Validates and converts one loaded document."""
    kind, problem = kind_of(doc)
    if kind is None:
        return None, [problem] if problem else []
    data, problems = valid_data(kind, doc)
    if problem := _slug_problem(doc, data if data is not None else doc.data):
        problems.append(problem)
    if data is not None:
        problems += [doc.problem(path, message) for path, message in constraints.problems(data)]
    id_, version, wrong = preconditions(doc)
    problems += wrong
    if data is None or problems:
        return None, sorted(problems, key=_order)
    try:
        resource = conversion.to_message(kind, data)
    except (ValueError, TypeError) as e:  # the schema should have caught it; report, never crash
        return None, [doc.problem((), f"cannot convert: {e}")]
    # The preconditions travel in the resource (see pipeline.apply_request), which is
    # what a worker process sends back.
    if id_ or version:  # usually neither; "" and 0 are the fields' defaults already
        resource.metadata.id, resource.metadata.resource_version = id_, version
    return Manifest(doc, kind, resource), []


def identity(m: Manifest, default_org: str) -> tuple[str, str, str]:
    """(kind, org, slug) of a manifest, with defaults applied as apply will."""
    md = m.resource.metadata
    return m.kind.key, md.org or default_org, md.slug or naming.slugify(md.name)


class _Identities:
    """The duplicate check of one input: a second document with the same identity is refused."""

    def __init__(self, default_org: str) -> None:
        self.default_org = default_org
        self.seen: dict[tuple[str, str, str], Manifest] = {}  # identity -> the first to declare it

    def admit(self, manifest: Manifest) -> Problem | None:
        key = self.identity(manifest)
        first = self.seen.get(key)
        if first is None:
            self.seen[key] = manifest
            return None
        kind, org, slug = key
        return manifest.document.problem(
            ("metadata", "name"),
            f'{kinds.by_key(kind).singular} "{slug}" in org "{org}" is already declared at '
            + first.where,
        )

    def identity(self, manifest: Manifest) -> tuple[str, str, str]:
        """``identity``, read from the data the manifest was converted from when it is at hand.

        A field of a protobuf message costs several times a dict's to read, for every
        document of an apply; the data passed the schema, so the two agree.
        """
        data = manifest.document.data
        if not isinstance(data, dict):
            return identity(manifest, self.default_org)
        md = data["metadata"]
        slug = md.get("slug") or naming.slugify(md["name"])
        return manifest.kind.key, md.get("org") or self.default_org, slug


def _add(parsed: Parsed, doc: Document, identities: _Identities) -> None:
    manifest, problems = parse_document(doc)
    parsed.problems += problems
    if manifest is None:
        return
    if (problem := identities.admit(manifest)) is not None:
        parsed.problems.append(problem)
    else:
        parsed.manifests.append(manifest)


def org_problem(m: Manifest, org: str) -> Problem | None:
    """A manifest naming another org than the one the user chose (kubectl's namespace rule)."""
    named = m.resource.metadata.org
    if not named or named == org:
        return None
    message = f'the org from the manifest "{named}" does not match --org "{org}"'
    return m.document.problem(("metadata", "org"), message)


def enforce_org(parsed: Parsed, org: str) -> None:
    """Moves the manifests that name another org than ``org`` to the problems."""
    kept = []
    for m in parsed.manifests:
        if (problem := org_problem(m, org)) is None:
            kept.append(m)
        else:
            parsed.problems.append(problem)
    parsed.manifests = kept


def parse_documents(docs: Iterable[Document], *, default_org: str = naming.DEFAULT_ORG) -> Parsed:
    """Validates and converts documents; a second document with the same identity is refused."""
    parsed = Parsed()
    identities = _Identities(default_org)
    for doc in docs:
        _add(parsed, doc, identities)
    return parsed


def read(
    paths: Iterable[str | Path],
    *,
    recursive: bool = False,
    stdin: TextIO | None = None,
    default_org: str = naming.DEFAULT_ORG,
    max_bytes: int = loading.DEFAULT_MAX_DOCUMENT_BYTES,
) -> Parsed:
    """Loads, validates and converts every document under ``paths``."""
    gathered = loading.gather(paths, recursive=recursive, stdin=stdin, max_bytes=max_bytes)
    return read_gathered(gathered, default_org)


def read_gathered(gathered: loading.Loaded, default_org: str = naming.DEFAULT_ORG) -> Parsed:
    """``read`` of texts in hand (the API server's, sent by a remote client)."""
    parsed = Parsed(problems=list(gathered.problems))
    for part in _parse_parts(gathered.texts, default_org):
        parsed.manifests += part.manifests
        parsed.problems += part.problems
    sort_problems(parsed.problems)
    return parsed


def stream(
    paths: Iterable[str | Path],
    *,
    recursive: bool = False,
    stdin: TextIO | None = None,
    default_org: str = naming.DEFAULT_ORG,
    max_bytes: int = loading.DEFAULT_MAX_DOCUMENT_BYTES,
) -> Iterator[Parsed]:
    """What ``read`` returns, in parts as it is parsed, so that applying can start at once.

    A large input is parsed by a worker process (see stigmer.manifests.worker)
    while the caller goes on with the parts already received. Parts come in
    input order; the problems of all parts together are those ``read`` finds,
    unsorted (see ``sort_problems``).
    """
    gathered = loading.gather(paths, recursive=recursive, stdin=stdin, max_bytes=max_bytes)
    yield from stream_gathered(gathered, default_org)


def stream_gathered(
    gathered: loading.Loaded, default_org: str = naming.DEFAULT_ORG
) -> Iterator[Parsed]:
    """``stream`` of texts in hand (the API server's, sent by a remote client)."""
    texts = gathered.texts
    yield Parsed(problems=list(gathered.problems))
    if sum(len(t.text) for t in texts) < PARALLEL_MIN_CHARS or not worker.available():
        yield from _parse_parts(texts, default_org)
        return
    index = {id(t.text): i for i, t in enumerate(texts)}
    spans: dict[tuple[int, int], yamlio.Span] = {}  # one per document: a List's items share it
    yield from worker.produce_in_worker(
        lambda: _parse_parts(texts, default_org),
        lambda part: _pack(part, index),
        lambda packed: _unpack(packed, texts, spans),
    )


def _parse_parts(texts: list[loading.Text], default_org: str) -> Iterator[Parsed]:
    """The Parsed of each PART_SIZE documents of ``texts``, in order."""
    identities = _Identities(default_org)
    part = Parsed()
    for text in texts:
        for item in loading.iter_documents(text):
            if isinstance(item, Problem):
                part.problems.append(item)
            else:
                _add(part, item, identities)
            if len(part.manifests) + len(part.problems) >= PART_SIZE:
                yield part
                part = Parsed()
    if part.manifests or part.problems:
        yield part


# A packed manifest: (text, kind, resource bytes, index, line, column, span start, end, line,
# item of a List or -1)
_Packed = tuple[int, str, bytes, int, int, int, int, int, int, int]


def _pack(part: Parsed, text_index: dict[int, int]) -> tuple[list[_Packed], list[Problem]]:
    """A part as plain values: each resource as bytes, its document as offsets into its text."""
    packed: list[_Packed] = []
    for m in part.manifests:
        doc, span = m.document, m.document.span
        assert span is not None  # loading.iter_documents gives every document its span
        packed.append(
            (
                text_index[id(span.text)],
                m.kind.key,
                m.resource.SerializeToString(),
                doc.index,
                doc.line,
                doc.column,
                span.start,
                span.end,
                span.line,
                int(doc.base[1]) if doc.base else -1,
            )
        )
    return packed, part.problems


def _unpack(
    packed: tuple[list[_Packed], list[Problem]],
    texts: list[loading.Text],
    spans: dict[tuple[int, int], yamlio.Span],
) -> Parsed:
    """A part again; its documents keep no data (it was converted), only where they are.

    ``spans`` holds the Span of each document seen, by (text, start), across parts.
    """
    manifests, problems = packed
    parsed = Parsed(problems=problems)
    for t, key, blob, index, line, column, start, end, span_line, item in manifests:
        text = texts[t]
        span = spans.get((t, start))
        if span is None:
            span = spans[(t, start)] = yamlio.Span(text.text, start, end, span_line)
        kind = kinds.by_key(key)
        base = ("items", item) if item >= 0 else ()
        # Positional, as in loading.iter_documents: keywords cost more per document.
        doc = Document(text.source, index, line, column, None, None, span, base)
        parsed.manifests.append(Manifest(doc, kind, kind.message.FromString(blob)))
    return parsed


def sort_problems(problems: list[Problem]) -> None:
    """Puts problems in file order, as ``read`` reports them."""
    problems.sort(key=_order)


def _order(p: Problem) -> tuple[str, int, int]:
    return (p.file, p.line, p.column)
