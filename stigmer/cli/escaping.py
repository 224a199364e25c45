"""Text shown on a terminal with the characters that could forge its output escaped."""

from __future__ import annotations

import functools
import re


@functools.cache
def _unsafe() -> re.Pattern[str]:
    """Characters that forge terminal output: controls, line separators, bidi overrides.

    Compiled on first use (~0.6 ms): most output has none, and ``table`` asks first.
    """
    return re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def escape(text: str) -> str:
    """``text`` with each unsafe character shown as its escape (``\\n``, ``\\x07``, ``\\u202e``).

    Free text (instructions, annotation values, objects stored before names
    were checked) may hold them; a table cell or a describe line must stay one line.
    """
    if text.isprintable():  # the usual text: each character _unsafe() finds is unprintable
        return text
    return _unsafe().sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
