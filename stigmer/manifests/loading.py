"""Reading manifests from files, directories and streams, with source positions.

Problems are values: ``load`` returns the documents it could read and a
Problem for everything else, and never prints or exits.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from stigmer.errors import Problem
from stigmer.manifests import yamlio

DEFAULT_MAX_DOCUMENT_BYTES = 4 * 1024 * 1024
EXTENSIONS = (".yaml", ".yml", ".json")
STDIN = "<stdin>"
# UTF-32 LE starts like UTF-16 LE; both are text a YAML editor may save, but not ours.
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
LIST_KIND = "List"
_LIST_FIELDS = ("apiVersion", "kind", "metadata", "items")
# A document boundary: "---" or "..." at the start of a line, as libyaml sees it.
_BOUNDARY = re.compile(r"^(?:---|\.\.\.)(?=[ \t\r\n]|$)", re.MULTILINE)


@dataclass(slots=True)
class Document:
    """One manifest document: its data and where it came from.

    Positions inside the document come from ``node`` when it is given, else
    from ``span``, which composes the document's node tree again on demand.
    An item of a ``kind: List`` is a document of its own whose ``base`` is
    its path in the List (``("items", 2)``): paths are relative to the item,
    positions are found through the List's tree.
    """

    source: str  # the file as the user named it, or "<stdin>"
    index: int  # 0-based position among the non-empty documents of the source
    line: int  # 1-based line of the document's first node, within the whole file
    column: int
    data: Any
    node: yamlio.Node | None = field(default=None, repr=False, compare=False)
    span: yamlio.Span | None = field(default=None, repr=False, compare=False)
    base: tuple[str | int, ...] = ()

    def position(self, path: tuple[str | int, ...] = ()) -> tuple[int, int]:
        """The 1-based (line, column) of the field at ``path``, or its nearest parent."""
        path = self.base + path
        if self.node is not None:
            return yamlio.locate(self.node, path)
        if self.span is not None and (found := self.span.locate(path)) is not None:
            return found
        return self.line, self.column

    def problem(self, path: tuple[str | int, ...], message: str) -> Problem:
        """A Problem located at ``path`` in this document."""
        line, column = self.position(path)
        return Problem(self.source, line, column, format_path(self.base + path), message)


@dataclass(slots=True)
class Loaded:
    """What ``load`` found: readable documents and the problems of the rest.

    ``texts`` holds what ``gather`` read and has not parsed yet.
    """

    documents: list[Document] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list, repr=False)


def format_path(path: Iterable[str | int]) -> str:
    """``("spec", "mcpServers", 0, "name")`` -> ``spec.mcpServers[0].name``; odd keys quoted."""
    return yamlio.format_path(tuple(path))


def is_manifest_file(path: Path) -> bool:
    """True for *.yaml, *.yml and *.json that are not hidden or editor leftovers."""
    name = path.name
    if name.startswith(".") or name.endswith(("~", ".swp")):
        return False
    return name.endswith(EXTENSIONS)


def manifest_files(directory: Path, *, recursive: bool = False) -> list[Path]:
    """The manifest files in a directory, in name order, as kubectl's walk finds them.

    With ``recursive``, a subdirectory's files come where its name sorts among
    the files (``sub/a.yaml`` before ``top.yaml``). Hidden directories and
    symbolic links to directories are not entered.
    """
    found: list[Path] = []
    for entry in sorted(directory.iterdir(), key=lambda p: p.name):
        if entry.is_dir():
            if recursive and not entry.name.startswith(".") and not entry.is_symlink():
                found += manifest_files(entry, recursive=True)
        elif is_manifest_file(entry) and entry.is_file():
            found.append(entry)
    return found


def decode(raw: bytes, source: str) -> tuple[str | None, Problem | None]:
    """UTF-8 text of a file, or the Problem that says why it is not text."""
    if raw.startswith(_UTF16_BOMS):
        return None, Problem(source, 0, 0, "", "UTF-16 or UTF-32 text; save the file as UTF-8")
    if b"\0" in raw:
        return None, Problem(source, 0, 0, "", "binary file (contains NUL bytes), not a manifest")
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as e:
        line_start = raw.rfind(b"\n", 0, e.start) + 1
        line = raw.count(b"\n", 0, e.start) + 1
        column = len(raw[line_start : e.start].decode("utf-8-sig")) + 1  # characters, not bytes
        message = f"not valid UTF-8 (byte 0x{raw[e.start]:02x}); save the file as UTF-8"
        return None, Problem(source, line, column, "", message)


def _drop_oversized(text: str, source: str, limit: int) -> tuple[str, list[Problem]]:
    """The text without its documents larger than ``limit`` bytes, and a Problem for each.

    This runs before parsing, so a huge document is never parsed. Each one is
    replaced by as many empty lines as it had, which keeps the positions of
    the documents after it.
    """
    if len(text) * 4 <= limit:  # UTF-8 spends at most four bytes on a character
        return text, []
    starts = [0] + [m.start() for m in _BOUNDARY.finditer(text)] + [len(text)]
    problems: list[Problem] = []
    parts: list[str] = []
    kept = 0
    for begin, end in itertools.pairwise(starts):
        if (end - begin) * 4 <= limit:
            continue
        size = len(text[begin:end].encode("utf-8", "surrogatepass"))
        if size > limit:
            line = text.count("\n", 0, begin) + 1
            message = f"document is {size} bytes, larger than the limit of {limit} bytes"
            problems.append(Problem(source, line, 1, "", message))
            parts += [text[kept:begin], "---", "\n" * text.count("\n", begin, end)]
            kept = end
    if not problems:
        return text, []
    return "".join([*parts, text[kept:]]), problems


@dataclass(slots=True)
class Text:
    """One source read and decoded, ready to parse; its oversized documents are blanked."""

    source: str
    text: str


def prepare(text: str, source: str, *, max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES) -> Loaded:
    """Blanks the oversized documents of a text: the Problems, and the Text to parse.

    Returned as a Loaded with no documents, so callers gather problems in one place.
    """
    kept, oversized = _drop_oversized(text, source, max_bytes)
    return Loaded(problems=oversized, texts=[Text(source, kept)])


def iter_documents(text: Text) -> Iterator[Document | Problem]:
    """The documents of a text as they are parsed, and a Problem for each unusable one."""
    index = 0
    for raw in yamlio.iter_stream(text.text):
        if isinstance(raw, yamlio.YamlProblem):
            yield Problem(text.source, raw.line, raw.column, raw.path, raw.message)
            continue
        # Positional (node None): keywords cost a dataclass's __init__ ~1.5k instructions more.
        doc = Document(text.source, index, raw.line, raw.column, raw.data, None, raw.span)
        index += 1
        if is_list(raw.data):
            items = raw.data.get("items")
            index += (len(items) if isinstance(items, list) else 0) - 1  # an item is a document
            yield from list_items(doc)
        elif isinstance(raw.data, dict):
            yield doc
        else:
            kind = "a list" if isinstance(raw.data, list) else "a scalar"
            yield doc.problem((), f"document is {kind}, not a mapping")


def is_list(data: Any) -> bool:
    """True for a ``kind: List`` document, as ``get -o yaml|json`` prints several objects."""
    return isinstance(data, dict) and data.get("kind") == LIST_KIND


def list_items(doc: Document) -> Iterator[Document | Problem]:
    """The items of a List document, each a document of its own, as kubectl applies them."""
    for key in doc.data:
        if key not in _LIST_FIELDS:
            yield doc.problem((key,), "unknown field of a List (expected apiVersion, kind, items)")
    items = doc.data.get("items")
    if items is None:
        return  # an empty List, as ``get -o yaml`` prints when nothing matches
    if not isinstance(items, list):
        yield doc.problem(("items",), "must be a list of manifests")
        return
    found: list[Document | Problem] = []
    for i, data in enumerate(items):
        item = Document(doc.source, doc.index + i, 0, 0, data, span=doc.span, base=("items", i))
        item.line, item.column = item.position()
        if isinstance(data, dict) and not is_list(data):
            found.append(item)
        else:
            what = "a List" if is_list(data) else "a list" if isinstance(data, list) else "a scalar"
            found.append(item.problem((), f"item is {what}, not a manifest"))
    if doc.span is not None:
        doc.span.tree = None  # the items share it: a problem composes it again (see yamlio.Span)
    yield from found


def parse_texts(read: Loaded) -> Loaded:
    """Parses what was read into documents; the problems of reading come first."""
    loaded = Loaded(problems=list(read.problems))
    for text in read.texts:
        for item in iter_documents(text):
            if isinstance(item, Document):
                loaded.documents.append(item)
            else:
                loaded.problems.append(item)
    return loaded


def load_text(text: str, source: str, *, max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES) -> Loaded:
    """Parses one stream of YAML (or JSON) documents."""
    return parse_texts(prepare(text, source, max_bytes=max_bytes))


def read_file(
    path: Path, *, source: str | None = None, max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES
) -> Loaded:
    """Reads and decodes one file: its Text, or the Problem that stops it."""
    name = source or str(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        return Loaded(problems=[Problem(name, 0, 0, "", f"cannot read: {e.strerror or e}")])
    text, problem = decode(raw, name)
    if problem is not None or text is None:
        return Loaded(problems=[problem] if problem else [])
    return prepare(text, name, max_bytes=max_bytes)


def load_file(
    path: Path, *, source: str | None = None, max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES
) -> Loaded:
    """Reads and parses one file."""
    return parse_texts(read_file(path, source=source, max_bytes=max_bytes))


def read_stream(stream: TextIO | Any, *, max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES) -> Loaded:
    """Reads and decodes a stream such as stdin."""
    raw = stream.buffer.read() if hasattr(stream, "buffer") else stream.read()
    if isinstance(raw, str):
        raw = raw.encode()
    text, problem = decode(raw, STDIN)
    if problem is not None or text is None:
        return Loaded(problems=[problem] if problem else [])
    return prepare(text, STDIN, max_bytes=max_bytes)


def gather(
    paths: Iterable[str | Path],
    *,
    recursive: bool = False,
    stdin: TextIO | None = None,
    max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
) -> Loaded:
    """Reads files, directories (``recursive`` for subdirectories) and "-" (stdin) as Texts."""
    result = Loaded()
    for item in paths:
        if str(item) == "-":
            if stdin is None:
                import sys

                stdin = sys.stdin
            part = read_stream(stdin, max_bytes=max_bytes)
        else:
            part = _read_path(Path(item), str(item), recursive=recursive, max_bytes=max_bytes)
        result.texts += part.texts
        result.problems += part.problems
    return result


def load(
    paths: Iterable[str | Path],
    *,
    recursive: bool = False,
    stdin: TextIO | None = None,
    max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
) -> Loaded:
    """Loads files, directories (``recursive`` for subdirectories) and "-" (stdin)."""
    return parse_texts(gather(paths, recursive=recursive, stdin=stdin, max_bytes=max_bytes))


def _read_path(path: Path, name: str, *, recursive: bool, max_bytes: int) -> Loaded:
    if path.is_dir():
        result = Loaded()
        for f in manifest_files(path, recursive=recursive):
            part = read_file(f, max_bytes=max_bytes)
            result.texts += part.texts
            result.problems += part.problems
        return result
    if not path.exists():
        return Loaded(problems=[Problem(name, 0, 0, "", "no such file or directory")])
    return read_file(path, source=name, max_bytes=max_bytes)
