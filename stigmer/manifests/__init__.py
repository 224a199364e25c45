"""YAML loading with positions, schema validation, and dict <-> protobuf conversion.

PyYAML compiles, when it is imported, a pattern of every non-printable
character for its pure-Python Reader (``yaml.reader.Reader.NON_PRINTABLE``):
some 57 M instructions, more than a tenth of what ``stigmer get`` or an
apply's start-up costs, for a Reader Stigmer never runs (libyaml checks the
characters itself in ``CSafeLoader``). So, before stigmer.manifests.yamlio
imports yaml, a stand-in for that pattern waits in the ``re`` module's cache
of compiled patterns, where yaml's ``re.compile`` finds it; the stand-in
compiles the pattern the first time it is used, so the pure-Python Reader
still works. If the cache is not what it was in Python 3.11 and 3.12, or
yaml was imported first, nothing changes but the cost.
"""

import re
from typing import Any

# yaml.reader's pattern, as PyYAML 6 writes it.
_NON_PRINTABLE = "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"


class _Deferred:
    """A compiled pattern that compiles on first use."""

    __slots__ = ("_compiled", "_pattern")

    def __init__(self, pattern: str) -> None:
        self._pattern = pattern
        self._compiled: re.Pattern[str] | None = None

    def __getattr__(self, name: str) -> Any:
        if self._compiled is None:
            # re.UNICODE is what a str pattern means anyway; the flag only keeps
            # re's cache from handing this stand-in back.
            self._compiled = re.compile(self._pattern, re.UNICODE)
        return getattr(self._compiled, name)


def _defer(pattern: str) -> None:
    cache = getattr(re, "_cache", None)
    if isinstance(cache, dict):
        cache.setdefault((str, pattern, 0), _Deferred(pattern))


_defer(_NON_PRINTABLE)
