"""Label selectors with Kubernetes semantics.

``k=v`` and ``k==v`` (equal), ``k!=v`` (not equal, or no such label),
``k`` (has the label), ``!k`` (lacks it), ``k in (a,b)``, ``k notin (a,b)``.
Requirements are joined by commas and all must hold.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from stigmer.errors import InvalidSelector

_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_SET_RE = re.compile(rf"^({_KEY})\s+(in|notin)\s*\(([^()]*)\)$")
_CMP_RE = re.compile(rf"^({_KEY})\s*(==|!=|=)\s*({_VALUE})$")
_EXISTS_RE = re.compile(rf"^(!?)\s*({_KEY})$")
_VALUE_RE = re.compile(rf"^{_VALUE}$")


@dataclass(frozen=True, slots=True)
class Requirement:
    """One clause of a selector."""

    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!exists"
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        if self.op == "exists":
            return present
        if self.op == "!exists":
            return not present
        if self.op in ("=", "in"):
            return present and labels[self.key] in self.values
        return not present or labels[self.key] not in self.values


@dataclass(frozen=True, slots=True)
class Selector:
    """A parsed label selector; the empty selector matches everything."""

    requirements: tuple[Requirement, ...] = ()
    text: str = ""

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(r.matches(labels) for r in self.requirements)

    def __str__(self) -> str:
        return self.text


def _split(text: str) -> list[str]:
    """Splits on commas that are not inside parentheses."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _parse_one(clause: str, text: str) -> Requirement:
    if m := _SET_RE.match(clause):
        values = [v.strip() for v in m.group(4).split(",")]
        if any(not _VALUE_RE.match(v) for v in values):
            raise InvalidSelector(f'invalid selector "{text}": bad value in "{clause}"')
        return Requirement(m.group(1), m.group(3), frozenset(values))
    if m := _CMP_RE.match(clause):
        op = "=" if m.group(3) in ("=", "==") else "!="
        return Requirement(m.group(1), op, frozenset([m.group(4)]))
    if m := _EXISTS_RE.match(clause):
        return Requirement(m.group(2), "!exists" if m.group(1) else "exists")
    raise InvalidSelector(
        f'invalid selector "{text}": cannot parse "{clause}" '
        "(expected k=v, k!=v, k, !k, k in (a,b) or k notin (a,b))"
    )


def parse(text: str | None) -> Selector:
    """Parses a selector; None or blank gives the match-everything selector."""
    if text is None or not text.strip():
        return Selector()
    clauses = _split(text)
    if any(not c for c in clauses):
        raise InvalidSelector(f'invalid selector "{text}": empty requirement')
    return Selector(tuple(_parse_one(c, text) for c in clauses), text.strip())
