"""What a synced tree leaves out: ``.stigmerignore`` patterns, and files that are not Stigmer's.

``.stigmerignore`` at the top of the tree takes gitignore's syntax, read with
pathspec (a maintained implementation of it; the only module that imports
it): a matching file is never read, as if it were not there.

A synced repository often holds other tools' YAML beside Stigmer's: a
``kustomization.yaml``, a Helm chart, CI workflows. A file that names neither
Stigmer's API group nor a Stigmer kind (``kind: Agent``) is not a Stigmer
manifest: sync skips it with one notice instead of failing on it. The test
is on the text, so a Stigmer manifest that is broken YAML, or that has a
wrong apiVersion of Stigmer's group, is still read and reported strictly.
"""

from __future__ import annotations

import re
from pathlib import Path

import pathspec

from stigmer.api import kinds

IGNORE_FILE = ".stigmerignore"
_GROUP = kinds.API_VERSION.split("/", 1)[0]
# A Stigmer kind as a YAML or JSON value of "kind", at any indentation or quoting.
_NAMES = "|".join(re.escape(k.name) for k in kinds.KINDS)
_KIND = re.compile(rf"""["']?kind["']?\s*:\s*["']?(?:{_NAMES})["']?\s*(?:[,}}#]|$)""", re.M)


class Ignores:
    """The tree's ``.stigmerignore``, read again whenever the file changes."""

    def __init__(self, root: Path) -> None:
        self.path = root / IGNORE_FILE
        self._seen: tuple[int, int] | None = None
        self._spec: pathspec.GitIgnoreSpec | None = None

    def _load(self) -> pathspec.GitIgnoreSpec | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._seen = self._spec = None
            return None
        if (st.st_size, st.st_mtime_ns) != self._seen:
            lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines()
            self._spec = pathspec.GitIgnoreSpec.from_lines(lines)
            self._seen = (st.st_size, st.st_mtime_ns)
        return self._spec

    def keep(self, rels: list[str]) -> list[str]:
        """The relative paths that no pattern ignores, in their order."""
        spec = self._load()
        return rels if spec is None else [rel for rel in rels if not spec.match_file(rel)]


def is_stigmer_text(raw: bytes) -> bool:
    """Whether a file's text names Stigmer's API group or one of its kinds."""
    text = raw.decode("utf-8", errors="replace")
    return _GROUP in text or _KIND.search(text) is not None
