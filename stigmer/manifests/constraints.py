"""The documented rules a JSON Schema cannot say, checked on data the schema accepted.

Names that must be unique within an agent, references between its parts,
URLs, environment variable names, Kubernetes' label and annotation syntax,
the length of a derived slug, and characters that forge output (control
characters, bidi overrides). Each rule gives (field path, message) pairs, as
``validation.errors`` does, so the manifest and library paths report alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from stigmer.api import naming
from stigmer.manifests import yamlio

Path = tuple[str | int, ...]
Found = Iterator[tuple[Path, str]]
Pairs = list[tuple[Path, str]]

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Kubernetes' label and annotation keys: [DNS-subdomain prefix "/"] name.
_KEY_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
KEY_NAME_MAX, KEY_PREFIX_MAX, LABEL_VALUE_MAX = 63, 253, 63
# The usual label key or value: a name without prefix, at most min(KEY_NAME_MAX,
# LABEL_VALUE_MAX) = 63 characters, so every rule of _key and _label_value holds; it
# admits no control or bidi character, so the unsafe-character check holds too. One
# match of it, a C call, stands for those rules' several steps.
_plain_name = re.compile(r"[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?").fullmatch
# Texts that matched _plain_name, so that a label seen before costs a set lookup.
_PLAIN: set[str] = set()
_PLAIN_MAX = 4096
_PLAIN_URL = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?([/?#][!-~]*)?")
ANNOTATIONS_MAX_BYTES = 256 * 1024  # Kubernetes' TotalAnnotationSizeLimitB
_NAME_HINT = 'letters, digits, "-", "_" and ".", starting and ending with a letter or digit'


def problems(data: dict[str, Any], *, authoring: bool = True) -> list[tuple[Path, str]]:
    """Every rule ``data`` (schema-valid, with JSON names) breaks.

    Without ``authoring``, only the rules that keep stores and output safe
    (lengths, forging characters): an import keeps upstream's labels and names
    as they are, since upstream never asked for Kubernetes' syntax.

    Each rule runs once per document of an apply, and almost every document
    breaks none: a rule returns a list and tests first, cheaply, whether there
    is anything to check, so that the usual case makes no generator.
    """
    md, spec = data.get("metadata", {}), data.get("spec", {})
    if not authoring:
        keys = [("metadata", m, k) for m in ("labels", "annotations") for k in md.get(m, {})]
        return [*_name(md), *(p for path in keys for p in _key_chars(path, str(path[2])))]
    found = _name(md)
    if "labels" in md or "annotations" in md:
        found += _metadata(md)
    for rule in _SPEC_RULES.get(data.get("kind", ""), ()):
        found += rule(spec)
    return found


def _instance_refs(spec: dict[str, Any]) -> Pairs:
    if not (refs := spec.get("environmentRefs")):
        return []
    paths = ((("spec", "environmentRefs", i), r, "environment") for i, r in enumerate(refs))
    return list(_ref_kinds(paths))


def _agent_refs(spec: dict[str, Any]) -> Pairs:
    return list(_ref_kinds(_agent_references(spec))) if _has_refs(spec) else []


def _has_refs(spec: dict[str, Any]) -> bool:
    """Whether an agent makes any reference (most make none), before walking them."""
    if spec.get("skillRefs"):
        return True
    for sub in spec.get("subAgents", ()):
        if "skillRefs" in sub:
            return True
    for server in spec.get("mcpServers", ()):  # noqa: SIM110 (any() of a generator costs more)
        if "mcpServerRef" in server:
            return True
    return False


def _agent_references(spec: dict[str, Any]) -> Iterator[tuple[Path, Any, str]]:
    """(path, reference, the kind its field names) for each reference an agent makes."""
    for i, ref in enumerate(spec.get("skillRefs", ())):
        yield ("spec", "skillRefs", i), ref, "skill"
    for j, sub in enumerate(spec.get("subAgents", ())):
        for i, ref in enumerate(sub.get("skillRefs", ())):
            yield ("spec", "subAgents", j, "skillRefs", i), ref, "skill"
    for i, server in enumerate(spec.get("mcpServers", ())):
        if "mcpServerRef" in server:
            yield ("spec", "mcpServers", i, "mcpServerRef"), server["mcpServerRef"], "mcp_server"


def _ref_kinds(refs: Iterable[tuple[Path, Any, str]]) -> Found:
    """A reference's ``kind``, when given, is its field's: an environment reference is 53.

    Upstream's rule on environmentRefs checks kind 52 (workflow_execution), a
    bug; docs/architecture.md, "References".
    """
    for path, ref, kind in refs:
        given = ref.get("kind", kind)
        if given != kind:
            yield (*path, "kind"), f'must be "{kind}" (or left out), not {yamlio.show(given)}'


def _key_chars(path: Path, key: str) -> Found:
    if bad := naming.unsafe_char(key):
        yield path, f"key {bad}"


def _name(md: dict[str, Any]) -> Pairs:
    name = md.get("name", "")
    if bad := naming.unsafe_char(name):
        return [(("metadata", "name"), bad)]
    if "slug" in md or (len(name) <= naming.SLUG_MAX_LENGTH and name.isascii()):
        return []  # the usual case: an ASCII slug is never longer than its name
    if len(slug := naming.slugify(name)) > naming.SLUG_MAX_LENGTH:
        return [
            (
                ("metadata", "name"),
                (
                    f"yields a slug of {len(slug)} characters, above the limit of "
                    f"{naming.SLUG_MAX_LENGTH} (a DNS label); set a shorter metadata.slug"
                ),
            )
        ]
    return []


def _is_plain(text: str) -> bool:
    """``_plain_name(text)``, remembered: labels repeat from one document to the next."""
    if _plain_name(text) is None:
        return False
    if len(_PLAIN) >= _PLAIN_MAX:
        _PLAIN.clear()
    _PLAIN.add(text)
    return True


def _metadata(md: dict[str, Any]) -> Pairs:
    found: Pairs = []
    plain = _PLAIN
    for key, value in md.get("labels", {}).items():
        if (key in plain or _is_plain(key)) and (not value or value in plain or _is_plain(value)):
            continue  # the usual label; a set lookup costs a tenth of a regex match
        found += _key(("metadata", "labels", key), key)
        found += _label_value(("metadata", "labels", key), value)
    if annotations := md.get("annotations"):
        found += _annotations(annotations)
    return found


def _annotations(annotations: dict[str, str]) -> Found:
    for key in annotations:
        if not _plain_name(key):
            yield from _key(("metadata", "annotations", key), key)
    size = sum(len(k.encode()) + len(v.encode()) for k, v in annotations.items())
    if size > ANNOTATIONS_MAX_BYTES:
        yield (
            ("metadata", "annotations"),
            (f"take {size} bytes, above the limit of {ANNOTATIONS_MAX_BYTES} (256 KiB)"),
        )


def _key(path: Path, key: str) -> Found:
    """A label or annotation key, by Kubernetes' rules."""
    if naming.unsafe_char(key):
        yield from _key_chars(path, key)
        return
    prefix, slash, name = key.rpartition("/")
    if len(name) > KEY_NAME_MAX:
        yield (
            path,
            f"key's name (after any prefix/) is {len(name)} characters, at most {KEY_NAME_MAX}",
        )
    elif not _KEY_NAME.fullmatch(name):
        yield path, f"key {yamlio.show(key)} is not valid: its name must be {_NAME_HINT}"
    elif slash and (not _DNS_SUBDOMAIN.fullmatch(prefix) or len(prefix) > KEY_PREFIX_MAX):
        yield (
            path,
            (
                f"key {yamlio.show(key)} is not valid: its prefix must be a DNS subdomain "
                f"(lowercase letters, digits, '-' and '.', at most {KEY_PREFIX_MAX} characters)"
            ),
        )


def _label_value(path: Path, value: str) -> Found:
    if len(value) > LABEL_VALUE_MAX:
        yield path, f"value is {len(value)} characters, at most {LABEL_VALUE_MAX}"
    elif value and not _KEY_NAME.fullmatch(value):
        yield path, f"value {yamlio.show(value)} is not valid: must be empty, or {_NAME_HINT}"


def _unique(path: Path, items: list[Any], what: str) -> Pairs:
    """Each item's name must be new in ``items``; a repeat names the first's place."""
    found: Pairs = []
    first: dict[str, int] = {}
    for i, item in enumerate(items):
        name = item.get("name", "")
        if bad := naming.unsafe_char(name):
            found.append(((*path, i, "name"), bad))
        elif name in first:
            where = yamlio.format_path((*path, first[name]))
            found.append(
                (
                    (*path, i, "name"),
                    f"duplicate {what} name {yamlio.show(name)} (first at {where})",
                )
            )
        else:
            first[name] = i
    return found


def _servers(spec: dict[str, Any]) -> Pairs:
    servers = spec.get("mcpServers")
    if not servers:
        return []
    found = _unique(("spec", "mcpServers"), servers, "MCP server")
    for i, server in enumerate(servers):
        http = server.get("http")
        if http is not None and (url := http.get("url")) is not None and not _is_http_url(url):
            found.append((("spec", "mcpServers", i, "http", "url"), _not_a_url(url)))
        for kind in ("stdio", "docker"):
            if (run := server.get(kind)) and (env := run.get("envPlaceholders")):
                found += _env_names(("spec", "mcpServers", i, kind, "envPlaceholders"), env)
    return found


def _not_a_url(url: str) -> str:
    return f'{yamlio.show(url)} is not an absolute http or https URL (like "https://mcp.example.com/sse")'


def _is_http_url(url: str) -> bool:
    if _PLAIN_URL.fullmatch(url):
        return True  # the usual case, without urlsplit's cost
    try:
        parts = urlsplit(url)
    except ValueError:  # a malformed IPv6 host
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and url.strip() == url


def _sub_agents(spec: dict[str, Any]) -> Pairs:
    subs = spec.get("subAgents")
    if not subs:
        return []  # the usual case
    found = _unique(("spec", "subAgents"), subs, "sub-agent")
    servers = list(dict.fromkeys(s.get("name") for s in spec.get("mcpServers", [])))
    known = ", ".join(map(yamlio.show, servers)) if servers else "none"
    for i, sub in enumerate(subs):
        for j, name in enumerate(sub.get("mcpServers", [])):
            if name not in servers:
                found.append(
                    (
                        ("spec", "subAgents", i, "mcpServers", j),
                        (
                            f"{yamlio.show(name)} is not an MCP server of this agent "
                            f"(spec.mcpServers has {known})"
                        ),
                    )
                )
    return found


def _env(spec: dict[str, Any]) -> Pairs:
    if (env := spec.get("envSpec")) and (data := env.get("data")):
        return _env_names(("spec", "envSpec", "data"), data)
    return []


def _environment(spec: dict[str, Any]) -> Pairs:
    return _env_names(("spec", "data"), spec.get("data", {}))


def _server(spec: dict[str, Any]) -> Pairs:
    """An McpServer: its URL, as an agent's inline server's."""
    url = spec.get("http", {}).get("url")
    if url is not None and not _is_http_url(url):
        return [(("spec", "http", "url"), _not_a_url(url))]
    return []


def _env_names(path: Path, names: dict[str, Any]) -> Pairs:
    found: Pairs = []
    for name in names:
        if not ENV_NAME.fullmatch(name):
            found.append(
                (
                    (*path, name),
                    (
                        f"environment variable name {yamlio.show(name)} is not valid: "
                        f"must match {ENV_NAME.pattern}"
                    ),
                )
            )
    return found


# The rules of each kind's spec beyond its schema, by manifest kind; a kind with none
# needs no entry.
_SPEC_RULES: dict[str, tuple[Callable[[dict[str, Any]], Pairs], ...]] = {
    "Agent": (_servers, _sub_agents, _env, _agent_refs),
    "AgentInstance": (_instance_refs,),
    "Environment": (_environment,),
    "McpServer": (_server, _env),
}
