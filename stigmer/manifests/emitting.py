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

import json
import re
from typing import Any

# Plain scalars we emit: a conservative subset, checked against YAML 1.1
# (PyYAML's) implicit types below.
_PLAIN = re.compile(
    r"[A-Za-z_/$](?:[A-Za-z0-9 _./$@+:,;()'!?=%&*~^-]*[A-Za-z0-9_./$@+:,;()'!?=%&*~^-])?\Z"
)
_NOT_PLAIN = re.compile(
    r"""(?x)
    (?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE
      |on|On|ON|off|Off|OFF|null|Null|NULL|~)\Z   # booleans and null
    | [-+]?\.(?:inf|Inf|INF|nan|NaN|NAN)\Z         # special floats
    | .*:(?:\s|\Z)                                 # a colon that starts a mapping
    | .*:[0-9]                                     # sexagesimal numbers, times
    | .*\#                                         # comments
    """
)
_BLOCK_SAFE = re.compile(r"[^\r\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]*\Z")
# Characters YAML does not allow raw in a stream; json.dumps leaves some of them.
_UNPRINTABLE = re.compile(r"[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")


def _quoted(text: str) -> str:
    """A double-quoted scalar: JSON's escapes, plus \\u for what YAML cannot carry raw."""
    return _UNPRINTABLE.sub(
        lambda m: f"\\u{ord(m.group()):04x}", json.dumps(text, ensure_ascii=False)
    )


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
    if _PLAIN.match(text) and not _NOT_PLAIN.match(text):
        return text
    return _quoted(text)


def _block(text: str, indent: str) -> str | None:
    """A literal block for multi-line text, or None when one cannot hold it exactly."""
    if "\n" not in text or not _BLOCK_SAFE.match(text) or text[:1] in (" ", "\t", "\n"):
        return None  # a leading blank would need an indentation indicator
    if text.endswith("\n\n"):
        return None  # several final newlines would need the keep indicator
    body, head = (text[:-1], "|") if text.endswith("\n") else (text, "|-")
    lines = [f"{indent}{line}" if line else "" for line in body.split("\n")]
    return head + "\n" + "\n".join(lines)


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
