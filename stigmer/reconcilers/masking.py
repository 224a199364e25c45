"""Secret masking: the TransformResponse step's rules.

Secrets are ``envSpec.data[*].value`` where ``isSecret`` is true, and the
values of MCP HTTP ``headers`` (bearer tokens). Masking is for output only:
the store keeps the real values, and a manifest that carries the mask back
(``******``) keeps the stored secret instead of overwriting it.
"""

from __future__ import annotations

from stigmer.api.kinds import Resource
from stigmer.api.v1.agent_pb2 import Agent

MASK = "******"


def secrets(obj: Resource | None) -> dict[tuple[str, str, str], str]:
    """Every secret value of an object, by a stable slot name."""
    found: dict[tuple[str, str, str], str] = {}
    if not isinstance(obj, Agent):
        return found
    for name, env in obj.spec.env_spec.data.items():
        if env.is_secret:
            found[("env", "", name)] = env.value
    for server in obj.spec.mcp_servers:
        if server.WhichOneof("server_type") == "http":
            for header, value in server.http.headers.items():
                found.setdefault(("header", server.name, header), value)
    return found


def _set(obj: Agent, slot: tuple[str, str, str], value: str) -> None:
    where, server_name, key = slot
    if where == "env":
        obj.spec.env_spec.data[key].value = value
        return
    for server in obj.spec.mcp_servers:
        if server.name == server_name and server.WhichOneof("server_type") == "http":
            server.http.headers[key] = value
            return


def masked(obj: Resource, *, before: Resource | None = None, marker: str = "") -> Resource:
    """A copy of ``obj`` with every secret replaced by the mask (``obj`` if it has none).

    With ``before`` and a ``marker``, a secret that differs from the same slot
    in ``before`` reads ``****** (marker)``, so a diff can show that it changed.
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


def restore(desired: Resource, live: Resource) -> None:
    """Puts the live secret back wherever ``desired`` carries only the mask."""
    if not isinstance(desired, Agent):
        return
    masked_slots = [slot for slot, value in secrets(desired).items() if value == MASK]
    if not masked_slots:
        return  # the usual case: a manifest with its real values, or none
    live_values = secrets(live)
    for slot in masked_slots:
        if slot in live_values:
            _set(desired, slot, live_values[slot])
