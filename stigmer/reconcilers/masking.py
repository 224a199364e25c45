"""Secret masking: the TransformResponse step's rules.

Secrets are ``envSpec.data[*].value`` where ``isSecret`` is true, and the
values of MCP HTTP ``headers`` (bearer tokens). Masking is for output only:
the store keeps the real values, and a manifest that carries the mask back
(``******``) keeps the stored secret instead of overwriting it.

A secret is found by its path (``spec.mcpServers[1].http.headers.X``), never
by a server's name: a name may repeat in an object stored before names had to
be unique, and masking must still hide every value.
"""

from __future__ import annotations

from stigmer.api.kinds import Resource
from stigmer.api.v1.agent_pb2 import Agent
from stigmer.errors import InvalidResource

MASK = "******"
MASKED_INPUT = "masked value; give the real secret"

Slot = tuple[str | int, ...]  # the field path of one secret value


def secrets(obj: Resource | None) -> dict[Slot, str]:
    """Every secret value of an object, by its field path."""
    found: dict[Slot, str] = {}
    if not isinstance(obj, Agent):
        return found
    # HasField first: every apply asks, and most agents have no env or HTTP server,
    # so the cheap test (about half the cost of walking empty fields) is the usual path.
    spec = obj.spec
    if spec.HasField("env_spec"):
        for name, env in spec.env_spec.data.items():
            if env.is_secret:
                found[("spec", "envSpec", "data", name, "value")] = env.value
    for i, server in enumerate(spec.mcp_servers):
        if server.HasField("http"):
            for header, value in server.http.headers.items():
                found[("spec", "mcpServers", i, "http", "headers", header)] = value
    return found


def _set(obj: Agent, slot: Slot, value: str) -> None:
    if slot[1] == "envSpec":
        obj.spec.env_spec.data[str(slot[3])].value = value
        return
    obj.spec.mcp_servers[int(slot[2])].http.headers[str(slot[5])] = value


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
    assert isinstance(obj, Agent)
    copy = Agent()
    copy.CopyFrom(obj)
    old = secrets(before) if before is not None else {}
    for slot, value in found.items():
        changed = before is not None and old.get(slot) != value
        _set(copy, slot, f"{MASK} ({marker})" if changed and marker else MASK)
    return copy


def path_text(slot: Slot) -> str:
    """``spec.mcpServers[0].http.headers.Authorization``: a slot as a message names it."""
    return "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in slot).lstrip(".")


def _stored(live: Resource | None, slot: Slot, desired: Agent) -> str | None:
    """The live secret that a mask at ``slot`` of ``desired`` stands for, if exactly one."""
    if not isinstance(live, Agent):
        return None
    if slot[1] == "envSpec":
        env = live.spec.env_spec.data.get(str(slot[3]))
        return env.value if env is not None and env.is_secret else None
    # A server is the live one of the same name: manifests may reorder servers.
    name = desired.spec.mcp_servers[int(slot[2])].name
    same = [s for s in live.spec.mcp_servers if s.name == name]
    if len(same) != 1 or same[0].WhichOneof("server_type") != "http":
        return None  # no server, or an ambiguous one: the mask stands for nothing
    return same[0].http.headers.get(str(slot[5]))


def restore(desired: Resource, live: Resource | None) -> None:
    """Puts the live secret back wherever ``desired`` carries only the mask.

    A mask with no stored secret behind it (a new object, a new key) is
    refused: storing the literal ``******`` would silently lose the secret.
    """
    if not isinstance(desired, Agent):
        return
    masked_slots = [slot for slot, value in secrets(desired).items() if value == MASK]
    for slot in masked_slots:  # usually none: a manifest with its real values
        value = _stored(live, slot, desired)
        if value is None:
            raise InvalidResource(MASKED_INPUT, path=path_text(slot))
        _set(desired, slot, value)
