"""The text of stigmer describe, in kubectl's layout."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from stigmer.api import kinds
from stigmer.api.kinds import Resource
from stigmer.api.v1.agent_pb2 import Agent
from stigmer.cli.escaping import escape
from stigmer.cli.printers import NONE, event_type
from stigmer.manifests import conversion

if TYPE_CHECKING:
    from stigmer.client import Client


class Lines:
    """Collects ``Key:  value`` lines with aligned values."""

    def __init__(self) -> None:
        self.items: list[tuple[int, str, str]] = []

    def add(self, key: str, value: Any = "", indent: int = 0) -> None:
        self.items.append((indent, key, escape(str(value))))

    def text(self) -> str:
        width = max((len(k) + 2 * i for i, k, _ in self.items), default=0) + 2
        out = []
        for indent, key, value in self.items:
            label = " " * (2 * indent) + (f"{key}:" if key else "")
            out.append(f"{label.ljust(width + 1)}{value}".rstrip() if value else label)
        return "\n".join(out) + "\n"


def _pairs(mapping: Any) -> str:
    return ", ".join(f"{k}={mapping[k]}" for k in sorted(mapping)) or NONE


def _when(ts: Any) -> str:
    return ts.ToJsonString() if ts.seconds or ts.nanos else NONE


def _metadata(lines: Lines, obj: Resource) -> None:
    md = obj.metadata
    lines.add("Name", md.name)
    lines.add("Kind", obj.kind)
    lines.add("Slug", md.slug)
    lines.add("Org", md.org)
    lines.add("ID", md.id)
    lines.add("Owner Scope", conversion.to_dict(obj)["metadata"].get("ownerScope", NONE))
    lines.add("Labels", _pairs(md.labels))
    lines.add("Annotations", _pairs(md.annotations))
    lines.add("Tags", ", ".join(md.tags) or NONE)
    lines.add("Generation", md.generation)
    lines.add("Resource Version", md.resource_version)
    audit = obj.status.audit.spec_audit
    lines.add("Created", f"{_when(audit.created_at)} by {audit.created_by.id or NONE}")
    lines.add("Updated", f"{_when(audit.updated_at)} by {audit.updated_by.id or NONE}")


# Long text is cut to this many lines of this many characters; -o yaml has it whole.
EXCERPT_LINES = 3
EXCERPT_WIDTH = 100


def _excerpt(lines: Lines, key: str, text: str, hint: str) -> None:
    """``text`` under ``key``, cut to a few lines with a pointer to the whole of it."""
    all_lines = text.strip().splitlines() or [NONE]
    shown = [s if len(s) <= EXCERPT_WIDTH else s[: EXCERPT_WIDTH - 3] + "..." for s in all_lines]
    shown = shown[:EXCERPT_LINES]
    cut = len(all_lines) > EXCERPT_LINES or any(len(s) > EXCERPT_WIDTH for s in all_lines)
    if cut:
        more = len(all_lines) - len(shown)
        counted = f"{more} more lines; " if more else ""
        shown.append(f"({counted}see the whole text with {hint})")
    lines.add(key, shown[0], 1)
    for line in shown[1:]:
        lines.add("", line, 1)


def _agent_spec(lines: Lines, agent: Agent) -> None:
    spec = agent.spec
    hint = f"stigmer get agent {agent.metadata.slug} --org {agent.metadata.org} -o yaml"
    lines.add("Spec")
    _excerpt(lines, "Description", spec.description, hint)
    _excerpt(lines, "Instructions", spec.instructions, hint)
    servers = [f"{s.name} ({s.WhichOneof('server_type')})" for s in spec.mcp_servers]
    lines.add("MCP Servers", ", ".join(servers) or NONE, 1)
    lines.add("Sub-agents", ", ".join(s.name for s in spec.sub_agents) or NONE, 1)
    lines.add("Skills", ", ".join(f"{r.org or '.'}/{r.slug}" for r in spec.skill_refs) or NONE, 1)
    env = [
        f"{k}={v.value}" + (" (secret)" if v.is_secret else "")
        for k, v in sorted(spec.env_spec.data.items())
    ]
    lines.add("Environment", ", ".join(env) or NONE, 1)


def _agent_section(lines: Lines, obj: Resource) -> None:
    assert isinstance(obj, Agent)
    _agent_spec(lines, obj)
    lines.add("Status")
    lines.add("Default Instance", obj.status.default_instance_id or NONE, 1)


def _instance_section(lines: Lines, obj: Resource) -> None:
    lines.add("Spec")
    lines.add("Agent ID", obj.spec.agent_id, 1)  # type: ignore[union-attr]
    hint = f"stigmer get ai {obj.metadata.slug} --org {obj.metadata.org} -o yaml"
    _excerpt(lines, "Description", obj.spec.description, hint)  # type: ignore[union-attr]
    lines.add("Status")


_WORD = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _title(json_name: str) -> str:
    """``defaultEnabledTools`` -> ``Default Enabled Tools``."""
    return " ".join(w[:1].upper() + w[1:] for w in _WORD.split(json_name))


def _brief(value: Any) -> str:
    """A value on one line: a list's items, a map's pairs, an environment value's value."""
    if isinstance(value, list):
        return ", ".join(_brief(v) for v in value) or NONE
    if isinstance(value, dict):
        if "value" in value or "isSecret" in value:  # an EnvironmentValue
            return str(value.get("value", "")) + (" (secret)" if value.get("isSecret") else "")
        if "name" in value:  # a named item of a list
            return str(value["name"])
        return ", ".join(f"{k}={_brief(value[k])}" for k in sorted(value)) or NONE
    return str(value).lower() if isinstance(value, bool) else str(value)


def _fields(lines: Lines, data: dict[str, Any], indent: int, hint: str) -> None:
    """Each field of a message: text as an excerpt, a message as its own fields, the rest brief."""
    for key, value in data.items():
        if isinstance(value, str) and "\n" in value.strip():
            _excerpt(lines, _title(key), value, hint)
        elif isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            lines.add(
                _title(key), ", ".join(f"{k}={_brief(value[k])}" for k in sorted(value)), indent
            )
        elif isinstance(value, dict) and any(isinstance(v, dict | list) for v in value.values()):
            lines.add(_title(key), "", indent)
            _fields(lines, value, indent + 1, hint)
        else:
            lines.add(_title(key), _brief(value), indent)


def _any_section(lines: Lines, obj: Resource) -> None:
    """The spec of a kind with no section of its own, field by field, from its data."""
    md = obj.metadata
    hint = f"stigmer get {kinds.of(obj).singular} {md.slug} --org {md.org} -o yaml"
    lines.add("Spec")
    _fields(lines, conversion.to_dict(obj).get("spec", {}), 1, hint)
    lines.add("Status")


# The kinds whose spec reads better laid out by hand; any other is shown field by field.
_SECTIONS: dict[str, Callable[[Lines, Resource], None]] = {
    kinds.AGENT.key: _agent_section,
    kinds.AGENT_INSTANCE.key: _instance_section,
}


def _conditions(obj: Resource) -> str:
    conds = list(obj.status.conditions)
    if not conds:
        return "Conditions:  <none>\n"
    rows = [["Type", "Status", "Reason", "Message", "Last Transition"]]
    rows += [[c.type, c.status, c.reason, c.message, _when(c.last_transition_time)] for c in conds]
    return "Conditions:\n" + _indented_table(rows)


def _indented_table(rows: list[list[str]]) -> str:
    rows = [[escape(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "".join(
        "  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() + "\n"
        for r in rows
    )


def _instances(client: Client, obj: Resource) -> str:
    assert isinstance(obj, Agent)
    owned = client.owned(obj)
    if not owned:
        return "Instances:  <none>\n"
    lines = [
        f"  {o.metadata.slug}"
        + (" (default)" if o.metadata.id == obj.status.default_instance_id else "")
        for o in sorted(owned, key=lambda o: o.metadata.slug)
    ]
    return "Instances:\n" + "\n".join(lines) + "\n"


def _agent(client: Client, obj: Resource) -> str:
    refs = [f"  {kinds.AGENT.singular}/{r.slug} ({r.id})" for r in obj.metadata.owner_references]
    return "Agent:\n" + ("\n".join(refs) if refs else "  <none>") + "\n"


def _references(client: Client, obj: Resource) -> str:
    """Each reference the object makes, with its state (Resolved, NotFound, NotPermitted)."""
    states = client.references(obj)
    if not states:
        return ""
    rows = [["Field", "Kind", "Target", "State"]]
    rows += [[s.ref.path, s.ref.kind, f"{s.ref.org}/{s.ref.slug}", s.state] for s in states]
    return "References:\n" + _indented_table(rows)


def _environment(client: Client, obj: Resource, show_secrets: bool) -> str:
    """An instance's effective environment, each value with its source; secrets masked."""
    if kinds.of(obj) is not kinds.AGENT_INSTANCE:
        return ""
    entries = client.environment(obj, show_secrets=show_secrets)
    if not entries:
        return "Environment:  <none>\n"
    rows = [["Name", "Value", "Source"]]
    rows += [[e.name, e.value or ("<missing>" if e.required else NONE), e.source] for e in entries]
    return "Environment:\n" + _indented_table(rows)


# The objects a kind's describe lists after its conditions.
_RELATIVES: dict[str, Callable[[Client, Resource], str]] = {
    kinds.AGENT.key: _instances,
    kinds.AGENT_INSTANCE.key: _agent,
}


def _relatives(client: Client, obj: Resource) -> str:
    show = _RELATIVES.get(kinds.of(obj).key)
    return show(client, obj) if show is not None else ""


def _events(client: Client, obj: Resource) -> str:
    events = client.events_for(obj)
    if not events:
        return "Events:  <none>\n"
    rows = [["Revision", "Type", "Actor", "Time"]]
    rows += [[str(e.revision), event_type(e), e.actor or NONE, _when(e.time)] for e in events]
    return "Events:\n" + _indented_table(rows)


def describe_text(client: Client, obj: Resource, *, show_secrets: bool = False) -> str:
    """Everything ``stigmer describe`` prints for one object."""
    lines = Lines()
    _metadata(lines, obj)
    _SECTIONS.get(kinds.of(obj).key, _any_section)(lines, obj)
    lines.add("Observed Generation", obj.status.observed_generation, 1)
    return (
        lines.text()
        + _conditions(obj)
        + _references(client, obj)
        + _environment(client, obj, show_secrets)
        + _relatives(client, obj)
        + _events(client, obj)
    )
