"""Secret masking: the TransformResponse step's rules.

Where a kind keeps secrets is data in its registry entry (``Kind.env_specs``
and ``Kind.secret_maps``): the values of an EnvironmentSpec marked
``isSecret`` (an agent's or an MCP server's ``envSpec``, an Environment's
``spec``), and every value of a string map of HTTP ``headers`` (bearer
tokens). Masking is for output only: the store keeps the real values, and a
manifest that carries the mask back (``******``) keeps the stored secret
instead of overwriting it.

A secret is found by its path (``spec.mcpServers[1].http.headers.X``), never
by a server's name: a name may repeat in an object stored before names had to
be unique, and masking must still hide every value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stigmer.api import kinds
from stigmer.api.kinds import Resource
from stigmer.errors import InvalidResource

MASK = "******"
MASKED_INPUT = "masked value; give the real secret"

Slot = tuple[str | int, ...]  # the field path of one secret value, in JSON names


Found = list[tuple[Any, Slot]]
# A walker appends the messages at the end of one path below a message, with their slots.
Walker = Callable[[Any, Slot, Found], None]
# Per kind: walkers to its EnvironmentSpec messages, and to the messages holding its
# secret maps with the map's proto and JSON names; built from the registry once. The
# walkers start at the spec, where every kind keeps its secrets: an object's spec is read
# once per call, since this runs on every apply.
_Plan = tuple[tuple[Walker, ...], tuple[tuple[Walker, str, str], ...]]
_PLANS: dict[str, _Plan] = {}
_SPEC: Slot = ("spec",)


def _found(msg: Any, slot: Slot, out: Found) -> None:
    out.append((msg, slot))


def _walker(desc: Any, path: tuple[str, ...]) -> Walker:
    """A function that walks ``path`` below a message of type ``desc``: nested closures."""
    if not path:
        return _found
    fd = desc.fields_by_name[path[0]]
    name, json_name = str(fd.name), str(fd.json_name)
    if path[1:2] == ("*",):
        each = _walker(fd.message_type, path[2:])

        def items(msg: Any, slot: Slot, out: Found) -> None:
            found = getattr(msg, name)  # by index: iterating a upb list costs far more
            for i in range(len(found)):
                each(found[i], (*slot, json_name, i), out)

        return items
    then = _walker(fd.message_type, path[1:])

    def field(msg: Any, slot: Slot, out: Found) -> None:
        if msg.HasField(name):  # cheap, and most objects have no env or HTTP server
            then(getattr(msg, name), (*slot, json_name), out)

    return field


def _below_spec(path: tuple[str, ...]) -> tuple[str, ...]:
    if path[:1] != ("spec",):
        raise ValueError(f"a secret's path must start at the spec, not {'.'.join(path)}")
    return path[1:]


def _plan(kind: kinds.Kind) -> _Plan:
    plan = _PLANS.get(kind.key)
    if plan is None:
        spec: Any = kind.message.DESCRIPTOR.fields_by_name["spec"].message_type
        envs = tuple(_walker(spec, _below_spec(path)) for path in kind.env_specs)
        maps = []
        for path in kind.secret_maps:
            below = _below_spec(path)
            holder: Any = spec
            for step in below[:-1]:
                holder = holder if step == "*" else holder.fields_by_name[step].message_type
            fd = holder.fields_by_name[below[-1]]
            maps.append((_walker(spec, below[:-1]), str(fd.name), str(fd.json_name)))
        plan = _PLANS[kind.key] = (envs, tuple(maps))
    return plan


def secrets(obj: Resource | None) -> dict[Slot, str]:
    """Every secret value of an object, by its field path."""
    found: dict[Slot, str] = {}
    if obj is None:
        return found
    envs, maps = _plan(kinds.of(obj))
    spec = obj.spec
    at: Found = []
    for walk in envs:
        walk(spec, _SPEC, at)
    for env_spec, slot in at:
        for name, env in env_spec.data.items():
            if env.is_secret:
                found[(*slot, "data", name, "value")] = env.value
    for walk, name, json_name in maps:
        at = []
        walk(spec, _SPEC, at)
        for msg, slot in at:
            for key, value in getattr(msg, name).items():
                found[(*slot, json_name, key)] = value
    return found


def _field(msg: Any, json_name: str) -> str:
    return str(msg.DESCRIPTOR.fields_by_camelcase_name[json_name].name)


def _set(obj: Resource, slot: Slot, value: str) -> None:
    cur: Any = obj
    for step in slot[:-1]:
        if isinstance(step, int) or not hasattr(cur, "DESCRIPTOR"):
            cur = cur[step]  # an item of a list, or an entry of a map of messages
        else:
            cur = getattr(cur, _field(cur, step))
    last = str(slot[-1])
    if hasattr(cur, "DESCRIPTOR"):
        setattr(cur, _field(cur, last), value)
    else:
        cur[last] = value


def masked(obj: Resource, *, before: Resource | None = None, marker: str = "") -> Resource:
    """A copy of ``obj`` with every secret replaced by the mask (``obj`` if it has none).

    With ``before`` and a ``marker``, a secret that differs from the same slot
    in ``before`` reads ``****** (marker)``, so a diff can show that it changed.
    Only a caller allowed to see the secrets may ask for markers: to anyone
    else, a changed marker tells whether a guessed secret was right.
    """
    found = secrets(obj)
    if not found:
        return obj
    copy = kinds.clone(obj)
    old = secrets(before) if before is not None else {}
    for slot, value in found.items():
        changed = before is not None and old.get(slot) != value
        _set(copy, slot, f"{MASK} ({marker})" if changed and marker else MASK)
    return copy


def path_text(slot: Slot) -> str:
    """``spec.mcpServers[0].http.headers.Authorization``: a slot as a message names it."""
    return "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in slot).lstrip(".")


def _stored(live: Resource | None, slot: Slot, desired: Resource) -> str | None:
    """The live secret that a mask at ``slot`` of ``desired`` stands for, if exactly one."""
    if live is None or type(live) is not type(desired):
        return None
    cur: Any = live
    want: Any = desired
    for step in slot[:-1]:
        if isinstance(step, int):
            # An item is the live one of the same name: manifests may reorder servers.
            want = want[step]
            name = getattr(want, "name", None)
            same = [x for x in cur if x.name == name] if name is not None else cur[step : step + 1]
            if len(same) != 1:
                return None  # no item, or an ambiguous one: the mask stands for nothing
            cur = same[0]
        elif not hasattr(cur, "DESCRIPTOR"):  # an entry of a map of messages
            if step not in cur:
                return None
            cur, want = cur[step], want[step]
        else:
            field = _field(cur, step)
            if cur.DESCRIPTOR.fields_by_name[field].containing_oneof and not cur.HasField(field):
                return None  # another server type: its headers are not these
            cur, want = getattr(cur, field), getattr(want, field)
    last = str(slot[-1])
    if not hasattr(cur, "DESCRIPTOR"):
        return cur.get(last)  # type: ignore[no-any-return]
    if not getattr(cur, "is_secret", True):
        return None  # the live value is not a secret: a mask cannot stand for it
    return str(getattr(cur, _field(cur, last)))


def restore(desired: Resource, live: Resource | None) -> bool:
    """Puts the live secret back wherever ``desired`` carries only the mask.

    A mask with no stored secret behind it (a new object, a new key) is
    refused: storing the literal ``******`` would silently lose the secret.
    Returns whether ``desired`` holds any secret, so that a caller whose object
    takes this spec may skip masking it.
    """
    found = secrets(desired)
    masked_slots = [slot for slot, value in found.items() if value == MASK]
    for slot in masked_slots:  # usually none: a manifest with its real values
        value = _stored(live, slot, desired)
        if value is None:
            raise InvalidResource(MASKED_INPUT, path=path_text(slot))
        _set(desired, slot, value)
    return bool(found)
