"""A fast YAML emitter for plain data: dicts, lists, str, int, float, bool, None.

PyYAML's representer runs in Python even with libyaml's emitter and costs
about 600 µs per agent, which makes ``get -A -o yaml`` on 10,000 agents take
seconds. Output of ``get`` is only ever plain data, so this writes block
YAML directly. A string is written plain only when it cannot be read back
as anything else; otherwise it is double-quoted with JSON's escapes, which
are valid YAML. Multi-line text uses a literal block (``|``). A property
test checks that PyYAML reads every output back to the same data.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

# Plain scalars we emit: a conservative subset, checked against YAML 1.1
# (PyYAML's) implicit types below.
_PLAIN = re.compile(
    r"[A-Za-z_/$](?:[A-Za-z0-9 _./$@+:,;()'!?=%&*~^-]*[A-Za-z0-9_./$@+:,;()'!?=%&*~^-])?\Z"
)
# What a plain scalar must not be, or it reads back as another type: YAML 1.1's booleans,
# null and special floats. Sets and str methods, not one regex: compiling that regex cost
# every `stigmer get` 0.8 ms (bench/README.md, wave 6).
_WORDS = ("yes", "no", "true", "false", "on", "off", "null")
_FLOATS = ("inf", "Inf", "INF", "nan", "NaN", "NAN")
_TYPED = frozenset(
    [*(v for w in _WORDS for v in (w, w.capitalize(), w.upper())), "y", "Y", "n", "N", "~"]
    + [f"{sign}.{word}" for sign in ("", "-", "+") for word in _FLOATS]
)
_DIGITS = "0123456789"


@functools.cache
def _block_unsafe() -> re.Pattern[str]:
    """What a literal block cannot hold; compiled on first use (its classes cost ~0.5 ms)."""
    return re.compile(r"[\r\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")


@functools.cache
def _unprintable() -> re.Pattern[str]:
    """Characters YAML does not allow raw in a stream; json.dumps leaves some of them.

    Compiled on first use: the surrogates' class alone costs ~1 ms to compile.
    """
    return re.compile(r"[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")


def _not_plain(text: str) -> bool:
    """Whether a line of text would read back as something else than this string.

    A boolean, null or special float; a colon that starts a mapping (before a
    blank or the end) or a sexagesimal number or time (before a digit); a comment.
    """
    if text in _TYPED or "#" in text:
        return True
    colon = text.find(":")
    while colon >= 0:
        after = text[colon + 1 : colon + 2]
        if not after or after.isspace() or after in _DIGITS:
            return True
        colon = text.find(":", colon + 1)
    return False


def _quoted(text: str) -> str:
    """A double-quoted scalar: JSON's escapes, plus \\u for what YAML cannot carry raw."""
    quoted = json.dumps(text, ensure_ascii=False)
    if quoted.isprintable():  # every character _unprintable() finds is unprintable
        return quoted
    return _unprintable().sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    text = str(value)
    if _PLAIN.match(text) and not _not_plain(text):
        return text
    return _quoted(text)


def _block(text: str, indent: str) -> str | None:
    """A literal block for multi-line text, or None when one cannot hold it exactly."""
    if "\n" not in text or text[:1] in (" ", "\t", "\n") or not _block_safe(text):
        return None  # a leading blank would need an indentation indicator
    if text.endswith("\n\n"):
        return None  # several final newlines would need the keep indicator
    body, head = (text[:-1], "|") if text.endswith("\n") else (text, "|-")
    lines = [f"{indent}{line}" if line else "" for line in body.split("\n")]
    return head + "\n" + "\n".join(lines)


def _block_safe(text: str) -> bool:
    """Whether a literal block can hold ``text``: every character it cannot is unprintable,
    so printable text (but for its line breaks and tabs) needs no regex."""
    if text.replace("\n", "").replace("\t", "").isprintable():
        return True
    return _block_unsafe().search(text) is None


def _emit(value: Any, indent: str, out: list[str]) -> None:
    """Appends the lines of a mapping or list at ``indent``."""
    if isinstance(value, dict):
        for key, item in value.items():
            _entry(f"{indent}{_scalar(key)}:", item, indent, out)
    else:
        for item in value:
            _entry(f"{indent}-", item, indent, out, in_list=True)


def _entry(prefix: str, value: Any, indent: str, out: list[str], *, in_list: bool = False) -> None:
    if isinstance(value, dict | list) and value:
        if in_list and isinstance(value, dict):
            # "- key: value" with the rest of the mapping aligned under it.
            lines: list[str] = []
            _emit(value, indent + "  ", lines)
            out.append(f"{prefix} {lines[0].lstrip()}")
            out.extend(lines[1:])
            return
        out.append(prefix)
        nested = isinstance(value, dict) or in_list  # a list in a list needs its own indent
        _emit(value, indent + "  " if nested else indent, out)
        return
    if isinstance(value, dict | list):
        out.append(f"{prefix} {'{}' if isinstance(value, dict) else '[]'}")
        return
    if isinstance(value, str) and (block := _block(value, indent + "  ")) is not None:
        out.append(f"{prefix} {block}")
        return
    out.append(f"{prefix} {_scalar(value)}")


def dump(data: dict[str, Any] | list[Any]) -> str:
    """YAML text for one document of plain data."""
    if not data:
        return "{}\n" if isinstance(data, dict) else "[]\n"
    out: list[str] = []
    _emit(data, "", out)
    return "\n".join(out) + "\n"
