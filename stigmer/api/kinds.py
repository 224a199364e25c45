"""The kind registry: one entry per resource kind.

Everything that needs to know about kinds (the store's keys, the CLI's names,
the manifest loader's apiVersion/kind check, id generation) asks this module,
so adding a kind means adding one entry to ``KINDS``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from stigmer.api import naming
from stigmer.api.v1.agent_instance_pb2 import AgentInstance
from stigmer.api.v1.agent_pb2 import Agent
from stigmer.api.v1.environment_pb2 import Environment
from stigmer.api.v1.mcp_server_pb2 import McpServer
from stigmer.api.v1.skill_pb2 import Skill

API_VERSION = "agentic.stigmer.ai/v1"

# Resource is any message the registry knows; all share metadata/spec/status.
Resource = Agent | AgentInstance | Environment | Skill | McpServer
Message = type[Agent] | type[AgentInstance] | type[Environment] | type[Skill] | type[McpServer]


def clone(obj: Resource) -> Resource:
    """A deep copy of a resource."""
    return type(obj).FromString(obj.SerializeToString())


def replace_spec(dst: Resource, src: Resource) -> None:
    """Replaces ``dst``'s spec with ``src``'s; both must be of one kind."""
    if type(dst) is not type(src):
        raise TypeError(f"cannot copy a {src.kind} spec into a {dst.kind}")
    dst.ClearField("spec")
    dst.spec.MergeFromString(src.spec.SerializeToString())


# A NamedTuple, not a frozen dataclass: every command imports the registry, and making
# a frozen dataclass costs some 3.6 M instructions, a NamedTuple 0.7 M.
class Column(NamedTuple):
    """One column of a kind's ``get`` table: a header and what a cell shows ("" is <none>)."""

    header: str
    cell: Callable[[Any], str]
    floor: int = 0  # the least width of a watched row's cell (``get -w``)


def ready(obj: Resource) -> str:
    """The Ready condition's status."""
    return next((c.status for c in obj.status.conditions if c.type == "Ready"), "Unknown")


READY = Column("READY", ready)


# A NamedTuple, not a frozen dataclass: every command imports this module, and making a frozen
# dataclass costs some 3.4 M instructions, a NamedTuple 0.4 M (bench/README.md, wave 7).
class Kind(NamedTuple):
    """What Stigmer knows about one resource kind."""

    name: str  # the manifest kind, e.g. "Agent"
    message: Message
    id_prefix: str  # ids are "<prefix>-<ulid>"
    key: str  # store key kind, upstream's kind-enum name, e.g. "agent"
    cli_names: tuple[str, ...]  # singular, plural, short
    api_version: str = API_VERSION
    # Upstream's ApiResourceKind number, which references (ApiResourceReference.kind) carry.
    number: int = 0
    # A batch may run this kind's applies as they arrive: nothing it names comes later
    # in the batch's order (stigmer.reconcilers.running).
    streamed: bool = False
    # The table columns of ``get`` between NAME and ORG on the left and AGE on the right.
    columns: tuple[Column, ...] = (READY,)
    # Where the kind keeps secrets, as paths of proto field names ("*": each item of a
    # list): EnvironmentSpec messages, whose values marked is_secret are secrets, and
    # string maps whose every value is (HTTP headers). stigmer.reconcilers.masking masks them.
    env_specs: tuple[tuple[str, ...], ...] = ()
    secret_maps: tuple[tuple[str, ...], ...] = ()
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

    def __hash__(self) -> int:
        # The generated hash walks every field, columns and their functions included
        # (1.4 us), and each cache keyed by a kind pays it per document; equal kinds
        # have equal names, so the name's (cached) hash is a valid one.
        return hash(self.name)


# The kinds other kinds refer to come first: a batch applies in this order, and deletes
# in the reverse (stigmer.reconcilers.running).
ENVIRONMENT = Kind(
    "Environment",
    Environment,
    "env",
    "environment",
    ("environment", "environments", "env"),
    number=53,
    streamed=True,
    env_specs=(("spec",),),
    columns=(
        Column("VARIABLES", lambda o: str(len(o.spec.data))),
        Column("SECRETS", lambda o: str(sum(v.is_secret for v in o.spec.data.values()))),
        READY,
    ),
    api_package="ai.stigmer.agentic.environment.v1",
)
SKILL = Kind(
    "Skill",
    Skill,
    "skl",
    "skill",
    ("skill", "skills", "skill"),
    number=43,
    streamed=True,
    columns=(Column("TAG", lambda o: o.spec.tag), READY),
    api_package="ai.stigmer.agentic.skill.v1",
)
MCP_SERVER = Kind(
    "McpServer",
    McpServer,
    "mcp",
    "mcp_server",
    ("mcpserver", "mcpservers", "mcp"),
    number=44,
    streamed=True,
    env_specs=(("spec", "env_spec"),),
    secret_maps=(("spec", "http", "headers"),),
    columns=(
        Column("TYPE", lambda o: o.spec.WhichOneof("server_type") or ""),
        Column("TOOLS", lambda o: ",".join(o.spec.default_enabled_tools) or "all", 16),
        READY,
    ),
    api_package="ai.stigmer.agentic.mcpserver.v1",
)
AGENT = Kind(
    "Agent",
    Agent,
    "agt",
    "agent",
    ("agent", "agents", "ag"),
    number=40,
    streamed=True,
    env_specs=(("spec", "env_spec"),),
    secret_maps=(("spec", "mcp_servers", "*", "http", "headers"),),
    columns=(
        Column(
            "DEFAULT-INSTANCE",
            lambda o: (
                naming.default_instance_slug(o.metadata.slug)
                if o.status.default_instance_id
                else ""
            ),
            32,
        ),
        READY,
    ),
    api_package="ai.stigmer.agentic.agent.v1",
)
AGENT_INSTANCE = Kind(
    "AgentInstance",
    AgentInstance,
    "ain",
    "agent_instance",
    ("agentinstance", "agentinstances", "ai"),
    number=45,
    columns=(
        Column(
            "AGENT",
            lambda o: o.metadata.owner_references[0].slug if o.metadata.owner_references else "",
            24,
        ),
        READY,
    ),
    api_package="ai.stigmer.agentic.agentinstance.v1",
)

KINDS: tuple[Kind, ...] = (ENVIRONMENT, SKILL, MCP_SERVER, AGENT, AGENT_INSTANCE)

_BY_NAME = {k.name: k for k in KINDS}
_BY_KEY = {k.key: k for k in KINDS}
_BY_CLI = {n: k for k in KINDS for n in k.cli_names}
_BY_MESSAGE = {k.message: k for k in KINDS}


T = TypeVar("T")


def per_kind(fn: Callable[[Kind], T]) -> Callable[[Kind], T]:
    """``fn``, remembered for each kind and looked up by its name.

    functools.cache would call Kind.__hash__, a Python method, on every lookup;
    the per-document lookups of reading and validation make that count.
    """
    made: dict[str, T] = {}

    def remembered(kind: Kind) -> T:
        try:
            return made[kind.name]
        except KeyError:
            found = made[kind.name] = fn(kind)
            return found

    return functools.update_wrapper(remembered, fn)


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
