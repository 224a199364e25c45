"""From files to typed resources: load, validate and convert, reporting every problem."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from stigmer.api import gc, kinds, naming
from stigmer.api.kinds import Kind, Resource
from stigmer.errors import Problem
from stigmer.manifests import conversion, loading, validation, yamlio
from stigmer.manifests.loading import Document


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


def valid_data(kind: Kind, doc: Document) -> tuple[dict[str, Any] | None, list[Problem]]:
    """The document's data with JSON field names if it is valid, else its problems."""
    data = doc.data
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
    if data is None or problems:
        return None, sorted(problems, key=_order)
    try:
        resource = conversion.to_message(kind, data)
    except (ValueError, TypeError) as e:  # the schema should have caught it; report, never crash
        return None, [doc.problem((), f"cannot convert: {e}")]
    return Manifest(doc, kind, resource), []


def identity(m: Manifest, default_org: str) -> tuple[str, str, str]:
    """(kind, org, slug) of a manifest, with defaults applied as apply will."""
    md = m.resource.metadata
    return m.kind.key, md.org or default_org, md.slug or naming.slugify(md.name)


def parse_documents(docs: Iterable[Document], *, default_org: str = naming.DEFAULT_ORG) -> Parsed:
    """Validates and converts documents; a second document with the same identity is refused."""
    parsed = Parsed()
    seen: dict[tuple[str, str, str], Manifest] = {}
    for doc in docs:
        manifest, problems = parse_document(doc)
        parsed.problems += problems
        if manifest is None:
            continue
        key = identity(manifest, default_org)
        if (first := seen.get(key)) is not None:
            kind, org, slug = key
            parsed.problems.append(
                doc.problem(
                    ("metadata", "name"),
                    f'{kinds.by_key(kind).singular} "{slug}" in org "{org}" is already '
                    f"declared at {first.where}",
                )
            )
            continue
        seen[key] = manifest
        parsed.manifests.append(manifest)
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
    with gc.paused():  # see stigmer.api.gc: collections would re-walk every document
        loaded = loading.load(paths, recursive=recursive, stdin=stdin, max_bytes=max_bytes)
        parsed = parse_documents(loaded.documents, default_org=default_org)
    parsed.problems = sorted(loaded.problems + parsed.problems, key=_order)
    return parsed


def _order(p: Problem) -> tuple[str, int, int]:
    return (p.file, p.line, p.column)
