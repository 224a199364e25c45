"""For any agent, no secret value appears in any output of any command.

Hypothesis draws agents with secret env values and MCP HTTP headers, whose
server names often repeat: such an agent is refused today, but one stored
before names had to be unique must still never leak. The secrets are listed
as they are drawn, not through the masking code under test.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stigmer import iam
from stigmer.api import naming
from stigmer.api.v1.agent_pb2 import Agent
from stigmer.cli import printers
from tests.iam.helpers import OWN, OWNER, cli, iam_client

SECRET = st.from_regex(r"zq[0-9a-f]{10}", fullmatch=True)
PLAIN = st.from_regex(r"plain[0-9a-f]{4}", fullmatch=True)
ENV_NAMES = st.sampled_from(["API_KEY", "TOKEN", "REGION", "DB_PASS"])
HEADERS = st.sampled_from(["Authorization", "X-Api-Key", "Cookie"])
SERVERS = st.lists(
    st.tuples(
        st.sampled_from(["api", "search", "files"]),  # three names: repeats are common
        st.booleans(),  # http (with headers) or stdio
        st.dictionaries(HEADERS, SECRET, max_size=2),
    ),
    max_size=4,
)
# (name, over http, its headers)
Server = tuple[str, bool, dict[str, str]]
Env = dict[str, tuple[bool, str, str]]  # name: (is secret, secret value, plain value)
ENV = st.dictionaries(ENV_NAMES, st.tuples(st.booleans(), SECRET, PLAIN), max_size=3)


def build(slug: str, env: Env, servers: list[Server]) -> tuple[Agent, set[str]]:
    """An agent of acme and the secret values it carries."""
    agent = Agent(api_version="agentic.stigmer.ai/v1", kind="Agent")
    secrets: set[str] = set()
    agent.metadata.name, agent.metadata.slug, agent.metadata.org = slug, slug, OWN
    agent.metadata.id = naming.new_id("agt")
    agent.spec.instructions = "You answer questions politely."
    for name, (is_secret, secret, plain) in env.items():
        entry = agent.spec.env_spec.data[name]
        entry.value, entry.is_secret = (secret, True) if is_secret else (plain, False)
        secrets |= {secret} if is_secret else set()
    for name, http, headers in servers:
        server = agent.spec.mcp_servers.add(name=name)
        if http:
            server.http.url = "https://mcp.example/sse"
            server.http.headers.update(headers)
            secrets |= set(headers.values())
        else:
            server.stdio.command = "run-server"
    return agent, secrets


def unique_servers(servers: list[Server]) -> list[Server]:
    """The first server of each name: what a valid manifest may hold."""
    first: dict[str, Server] = {}
    for server in servers:
        first.setdefault(server[0], server)
    return list(first.values())


def legacy_outputs(data: Path, agent: Agent) -> list[str]:
    """Every read of an agent stored before validation refused repeated names."""
    with iam_client(data, OWNER) as c:
        c.store.transact(lambda txn: txn.put(agent, expected_version=0))
        start = 0
    reads = [
        *(["get", "agents", "-o", o] for o in printers.FORMATS),
        *(["get", "agent", "legacy", "-o", o] for o in printers.FORMATS),
        ["describe", "agent", "legacy"],
    ]
    outputs = [cli(data, "vic", "--org", OWN, *r).output for r in reads]
    outputs.append(cli(data, OWNER, "store", "dump").output)
    stop = threading.Event()
    with iam_client(data, "vic") as c:
        for change in c.watch("agents", since=start, org=OWN, stop=stop):
            stop.set()  # the agent's own event: what get -w prints
            outputs.append(printers.render_yaml([change.object], single=True))
    return outputs


def apply_outputs(data: Path, agent: Agent) -> list[str]:
    """Every command that applies or compares a valid manifest with these secrets."""
    manifest = data.parent / "fresh.yaml"
    manifest.write_text(printers.render_yaml([agent], single=True))
    runs = [
        (OWNER, "apply", "-f", str(manifest), "-o", "yaml"),
        ("eddie", "diff", "-f", str(manifest)),
        ("eddie", "apply", "--dry-run", "-f", str(manifest), "-o", "yaml"),
        ("eddie", "apply", "-f", str(manifest), "-o", "json"),
        ("vic", "diff", "-f", str(manifest)),
        ("vic", "get", "agent", "fresh", "-o", "json"),
    ]
    return [cli(data, user, "--org", OWN, *args).output for user, *args in runs]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(env=ENV, servers=SERVERS, fresh_env=ENV, fresh_servers=SERVERS)
def test_no_secret_appears_in_any_output(
    env: Env, servers: list[Server], fresh_env: Env, fresh_servers: list[Server]
) -> None:
    legacy, legacy_secrets = build("legacy", env, servers)
    fresh, fresh_secrets = build("fresh", fresh_env, unique_servers(fresh_servers))
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        with iam_client(data, OWNER) as c:
            grants = [("vic", "viewer", OWN), ("eddie", "editor", OWN)]
            c.store.transact(lambda txn: [iam.grant(txn, OWNER, *g) for g in grants])
        outputs = legacy_outputs(data, legacy) + apply_outputs(data, fresh)
    for text in outputs:
        for secret in legacy_secrets | fresh_secrets:
            assert secret not in text
