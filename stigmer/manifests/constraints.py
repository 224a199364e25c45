"""The documented rules a JSON Schema cannot say, checked on data the schema accepted.

Names that must be unique within an agent, references between its parts,
URLs, environment variable names, Kubernetes' label and annotation syntax,
the length of a derived slug, and characters that forge output (control
characters, bidi overrides). Each rule gives (field path, message) pairs, as
``validation.errors`` does, so the manifest and library paths report alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

from stigmer.api import naming
from stigmer.manifests import yamlio

Path = tuple[str | int, ...]
Found = Iterator[tuple[Path, str]]

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Kubernetes' label and annotation keys: [DNS-subdomain prefix "/"] name.
_KEY_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
KEY_NAME_MAX, KEY_PREFIX_MAX, LABEL_VALUE_MAX = 63, 253, 63
_PLAIN_URL = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?([/?#][!-~]*)?")
ANNOTATIONS_MAX_BYTES = 256 * 1024  # Kubernetes' TotalAnnotationSizeLimitB
_NAME_HINT = 'letters, digits, "-", "_" and ".", starting and ending with a letter or digit'


def problems(data: dict[str, Any], *, authoring: bool = True) -> list[tuple[Path, str]]:
    """Every rule ``data`` (schema-valid, with JSON names) breaks.

    Without ``authoring``, only the rules that keep stores and output safe
    (lengths, forging characters): an import keeps upstream's labels and names
    as they are, since upstream never asked for Kubernetes' syntax.
    """
    md, spec = data.get("metadata", {}), data.get("spec", {})
    if not authoring:
        keys = [("metadata", m, k) for m in ("labels", "annotations") for k in md.get(m, {})]
        return [*_name(md), *(p for path in keys for p in _key_chars(path, str(path[2])))]
    found = [*_name(md), *_metadata(md)]
    for rule in _SPEC_RULES.get(data.get("kind", ""), ()):
        found += rule(spec)
    return found


def _key_chars(path: Path, key: str) -> Found:
    if bad := naming.unsafe_char(key):
        yield path, f"key {bad}"


def _name(md: dict[str, Any]) -> Found:
    name = md.get("name", "")
    if bad := naming.unsafe_char(name):
        yield ("metadata", "name"), bad
    elif "slug" not in md and len(slug := naming.slugify(name)) > naming.SLUG_MAX_LENGTH:
        yield (
            ("metadata", "name"),
            (
                f"yields a slug of {len(slug)} characters, above the limit of "
                f"{naming.SLUG_MAX_LENGTH} (a DNS label); set a shorter metadata.slug"
            ),
        )


def _metadata(md: dict[str, Any]) -> Found:
    for key, value in md.get("labels", {}).items():
        yield from _key(("metadata", "labels", key), key)
        yield from _label_value(("metadata", "labels", key), value)
    for key in md.get("annotations", {}):
        yield from _key(("metadata", "annotations", key), key)
    size = sum(len(k.encode()) + len(v.encode()) for k, v in md.get("annotations", {}).items())
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


def _unique(path: Path, items: list[Any], what: str) -> Found:
    """Each item's name must be new in ``items``; a repeat names the first's place."""
    first: dict[str, int] = {}
    for i, item in enumerate(items):
        name = item.get("name", "")
        if bad := naming.unsafe_char(name):
            yield (*path, i, "name"), bad
        elif name in first:
            where = yamlio.format_path((*path, first[name]))
            yield (
                (*path, i, "name"),
                f"duplicate {what} name {yamlio.show(name)} (first at {where})",
            )
        else:
            first[name] = i


def _servers(spec: dict[str, Any]) -> Found:
    servers = spec.get("mcpServers", [])
    yield from _unique(("spec", "mcpServers"), servers, "MCP server")
    for i, server in enumerate(servers):
        url = server.get("http", {}).get("url")
        if url is not None and not _is_http_url(url):
            yield ("spec", "mcpServers", i, "http", "url"), _not_a_url(url)
        for kind in ("stdio", "docker"):
            env = server.get(kind, {}).get("envPlaceholders", {})
            yield from _env_names(("spec", "mcpServers", i, kind, "envPlaceholders"), env)


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


def _sub_agents(spec: dict[str, Any]) -> Found:
    subs = spec.get("subAgents")
    if not subs:
        return  # the usual case
    yield from _unique(("spec", "subAgents"), subs, "sub-agent")
    servers = list(dict.fromkeys(s.get("name") for s in spec.get("mcpServers", [])))
    known = ", ".join(map(yamlio.show, servers)) if servers else "none"
    for i, sub in enumerate(subs):
        for j, name in enumerate(sub.get("mcpServers", [])):
            if name not in servers:
                yield (
                    ("spec", "subAgents", i, "mcpServers", j),
                    (
                        f"{yamlio.show(name)} is not an MCP server of this agent "
                        f"(spec.mcpServers has {known})"
                    ),
                )


def _env(spec: dict[str, Any]) -> Found:
    data = spec.get("envSpec", {}).get("data", {})
    yield from _env_names(("spec", "envSpec", "data"), data)


def _environment(spec: dict[str, Any]) -> Found:
    yield from _env_names(("spec", "data"), spec.get("data", {}))


def _server(spec: dict[str, Any]) -> Found:
    """An McpServer: its URL, as an agent's inline server's."""
    url = spec.get("http", {}).get("url")
    if url is not None and not _is_http_url(url):
        yield ("spec", "http", "url"), _not_a_url(url)


def _env_names(path: Path, names: dict[str, Any]) -> Found:
    for name in names:
        if not ENV_NAME.fullmatch(name):
            yield (
                (*path, name),
                (
                    f"environment variable name {yamlio.show(name)} is not valid: "
                    f"must match {ENV_NAME.pattern}"
                ),
            )


# The rules of each kind's spec beyond its schema, by manifest kind; a kind with none
# needs no entry.
_SPEC_RULES: dict[str, tuple[Callable[[dict[str, Any]], Found], ...]] = {
    "Agent": (_servers, _sub_agents, _env),
    "Environment": (_environment,),
    "McpServer": (_server, _env),
}
