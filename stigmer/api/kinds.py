"""The kind registry: one entry per resource kind.

Everything that needs to know about kinds (the store's keys, the CLI's names,
the manifest loader's apiVersion/kind check, id generation) asks this module,
so adding a kind means adding one entry to ``KINDS``.
"""

from __future__ import annotations

from dataclasses import dataclass

from stigmer.api.v1.agent_instance_pb2 import AgentInstance
from stigmer.api.v1.agent_pb2 import Agent

API_VERSION = "agentic.stigmer.ai/v1"

# Resource is any message the registry knows; all share metadata/spec/status.
Resource = Agent | AgentInstance


def clone(obj: Resource) -> Resource:
    """A deep copy of a resource."""
    return type(obj).FromString(obj.SerializeToString())


def replace_spec(dst: Resource, src: Resource) -> None:
    """Replaces ``dst``'s spec with ``src``'s; both must be of one kind."""
    if type(dst) is not type(src):
        raise TypeError(f"cannot copy a {src.kind} spec into a {dst.kind}")
    dst.ClearField("spec")
    dst.spec.MergeFromString(src.spec.SerializeToString())


@dataclass(frozen=True, slots=True)
class Kind:
    """What Stigmer knows about one resource kind."""

    name: str  # the manifest kind, e.g. "Agent"
    message: type[Agent] | type[AgentInstance]
    id_prefix: str  # ids are "<prefix>-<ulid>"
    key: str  # store key kind, upstream's kind-enum name, e.g. "agent"
    cli_names: tuple[str, ...]  # singular, plural, short
    api_version: str = API_VERSION
    # Upstream's proto package of the kind's gRPC services (stigmer/server/upstream.py
    # serves <package>.<Name>CommandController and ...QueryController); "" serves none.
    api_package: str = ""

    @property
    def singular(self) -> str:
        return self.cli_names[0]

    @property
    def plural(self) -> str:
        return self.cli_names[1]

    def new(self) -> Resource:
        """An empty message of this kind with apiVersion and kind filled in."""
        return self.message(api_version=self.api_version, kind=self.name)


AGENT = Kind(
    "Agent",
    Agent,
    "agt",
    "agent",
    ("agent", "agents", "ag"),
    api_package="ai.stigmer.agentic.agent.v1",
)
AGENT_INSTANCE = Kind(
    "AgentInstance",
    AgentInstance,
    "ain",
    "agent_instance",
    ("agentinstance", "agentinstances", "ai"),
    api_package="ai.stigmer.agentic.agentinstance.v1",
)

KINDS: tuple[Kind, ...] = (AGENT, AGENT_INSTANCE)

_BY_NAME = {k.name: k for k in KINDS}
_BY_KEY = {k.key: k for k in KINDS}
_BY_CLI = {n: k for k in KINDS for n in k.cli_names}
_BY_MESSAGE = {k.message: k for k in KINDS}


def by_name(name: str) -> Kind | None:
    """The kind named ``name`` in manifests (``Agent``), or None."""
    return _BY_NAME.get(name)


def by_key(key: str) -> Kind:
    """The kind whose store key is ``key`` (``agent``). Raises KeyError."""
    return _BY_KEY[key]


def by_cli_name(name: str) -> Kind | None:
    """The kind a CLI user means by ``name`` (``agents``, ``ai``), or None."""
    return _BY_CLI.get(name.lower())


def of(obj: Resource) -> Kind:
    """The kind of a message."""
    return _BY_MESSAGE[type(obj)]


def cli_names() -> list[str]:
    """Every CLI name of every kind, for help texts and completion."""
    return list(_BY_CLI)
