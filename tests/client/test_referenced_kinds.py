"""Environment, Skill and McpServer through the library (issue 15, items 1 and 2)."""

from __future__ import annotations

import threading
from pathlib import Path

from stigmer.api import kinds
from stigmer.api.v1.environment_pb2 import Environment, EnvironmentValue
from stigmer.api.v1.mcp_server_pb2 import McpServer
from stigmer.api.v1.skill_pb2 import Skill
from stigmer.client import Client
from stigmer.reconcilers.masking import MASK

SECRET = "sk-live-42"
TOKEN = "Bearer t0ken"


def environment() -> Environment:
    env = kinds.ENVIRONMENT.new()
    assert isinstance(env, Environment)
    env.metadata.name = "Prod"
    env.spec.data["API_KEY"].CopyFrom(EnvironmentValue(value=SECRET, is_secret=True))
    env.spec.data["REGION"].value = "eu"
    return env


def server() -> McpServer:
    mcp = kinds.MCP_SERVER.new()
    assert isinstance(mcp, McpServer)
    mcp.metadata.name = "Search"
    mcp.spec.http.url = "https://search.example.com/mcp"
    mcp.spec.http.headers["Authorization"] = TOKEN
    return mcp


def skill() -> Skill:
    obj = kinds.SKILL.new()
    assert isinstance(obj, Skill)
    obj.metadata.name = "Style"
    obj.spec.skill_md = "# Style\nShort functions."
    return obj


def test_apply_answers_masked_and_stores_the_secrets(client: Client) -> None:
    results = client.apply([environment(), server(), skill()])
    assert [(r.kind.name, r.name, str(r.outcome)) for r in results] == [
        ("Environment", "prod", "created"),
        ("McpServer", "search", "created"),
        ("Skill", "style", "created"),
    ]
    env, mcp = results[0].object, results[1].object
    assert isinstance(env, Environment) and env.spec.data["API_KEY"].value == MASK
    assert env.spec.data["REGION"].value == "eu"  # not a secret
    assert isinstance(mcp, McpServer) and mcp.spec.http.headers["Authorization"] == MASK
    live = client.get("env", "prod", show_secrets=True)
    assert isinstance(live, Environment) and live.spec.data["API_KEY"].value == SECRET
    listed = client.list("mcpservers") + client.list(kinds.ENVIRONMENT)
    assert SECRET not in str(listed) and TOKEN not in str(listed)


def test_reapplying_a_masked_object_keeps_its_secrets(client: Client) -> None:
    client.apply([environment(), server()])
    shown = [client.get("env", "prod"), client.get("mcp", "search")]
    again = client.apply(shown)
    assert [str(r.outcome) for r in again] == ["unchanged", "unchanged"]
    mcp = client.get("mcp", "search", show_secrets=True)
    assert isinstance(mcp, McpServer) and mcp.spec.http.headers["Authorization"] == TOKEN


def test_a_mask_moved_to_another_server_type_stands_for_nothing(client: Client) -> None:
    client.apply([server()])
    moved = server()
    moved.spec.ClearField("http")
    moved.spec.stdio.command = "npx"
    assert client.apply([moved])[0].outcome == "configured"  # no secret is left behind
    assert client.get("mcp", "search").spec.WhichOneof("server_type") == "stdio"


def test_watch_and_events_never_carry_secrets(client: Client) -> None:
    stop = threading.Event()
    changes = client.watch(stop=stop)
    client.apply([environment()])
    first = next(changes)
    stop.set()
    assert first.event.kind == "environment" and SECRET not in str(first.object)
    assert client.events_for(client.get("env", "prod"))[0].kind == "environment"


def test_delete_returns_the_masked_object(client: Client) -> None:
    client.apply([environment()])
    (gone,) = client.delete("environments", "prod")
    assert isinstance(gone, Environment) and gone.spec.data["API_KEY"].value == MASK
    assert client.list("env") == []


def test_dump_masks_every_kind(client: Client, data_dir: Path) -> None:
    client.apply([environment(), server(), skill()])
    dumped = client.dump()
    assert {kinds.of(o).name for o in dumped} == {"Environment", "McpServer", "Skill"}
    assert SECRET not in str(dumped) and TOKEN not in str(dumped)
