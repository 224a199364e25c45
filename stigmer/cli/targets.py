"""What get, describe and delete are asked about, in kubectl's argument forms.

- ``KIND [NAME...]``: one kind, some or all of its objects;
- ``KIND,KIND``: several kinds, all of their objects (``get ag,ai``);
- ``all``: every kind in the registry (``get all``), all of their objects;
- ``TYPE/NAME...``: objects of any kinds (``delete agent/x agentinstance/y``),
  which is what ``get -o name`` prints, so that ``| xargs stigmer delete`` works.
  ``TYPE/ORG/NAME`` names the org too: ``get -o name -A`` prints that form.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from stigmer.errors import UsageError

if TYPE_CHECKING:
    from stigmer.api.kinds import Kind


class Target(NamedTuple):
    """One kind, and the (org, name) pairs asked for; no names means all objects.

    ``org`` is None where the command's org applies. A NamedTuple: cheaper to define
    than a dataclass, on the start-up of every ``get`` (bench/README.md, wave 6).
    """

    kind: Kind
    names: list[tuple[str | None, str]]


def parse(kind: str, names: list[str]) -> list[Target]:
    """The kinds and names that ``KIND NAME...`` or ``TYPE/NAME...`` arguments ask for."""

    if "/" in kind:
        return _slashed([kind, *names])
    found: list[Target] = []
    for word in kind.split(","):
        for k in _kinds(word):
            if all(t.kind is not k for t in found):
                found.append(Target(k, []))
    if names and len(found) > 1:
        raise UsageError("name objects of several kinds as TYPE/NAME, e.g. agent/x agentinstance/y")
    if names:
        found[0] = Target(found[0].kind, [_org_and_name(n) for n in names])
    return found


def _kinds(word: str) -> list[Kind]:
    """The kinds a word names: ``all`` is every kind the registry has, as kubectl's."""
    from stigmer.api.kinds import KINDS
    from stigmer.client import resolve_kind

    return list(KINDS) if word.lower() == "all" else [resolve_kind(word)]


def _slashed(args: list[str]) -> list[Target]:
    from stigmer.client import resolve_kind

    found: dict[Kind, Target] = {}
    for arg in args:
        if "/" not in arg:
            raise UsageError(f'"{arg}": give every object as TYPE/NAME once one is given that way')
        word, _, rest = arg.partition("/")
        k = resolve_kind(word)
        found.setdefault(k, Target(k, [])).names.append(_org_and_name(rest))
    return list(found.values())


def _org_and_name(arg: str) -> tuple[str | None, str]:
    """``ORG/NAME`` or ``NAME``."""
    org, _, name = arg.rpartition("/")
    if not name or "/" in org:
        raise UsageError(f'"{arg}" is not a name: expected NAME or ORG/NAME')
    return org or None, name
