"""The stored history value keeps its format: compact JSON that every release reads and extends.

An update appends to the value without parsing the revisions it keeps
(stigmer.reconcilers.history), so these pin what it must still do: write the
JSON older releases read, extend a value they wrote, in whatever JSON layout,
and keep a writer's name that looks like the entries' own keys intact.
"""

from __future__ import annotations

import json

from stigmer.api import kinds
from stigmer.api.v1.agent_pb2 import Agent
from stigmer.client import Client
from stigmer.reconcilers import history
from tests.reconcilers.helpers import new_agent


def _edit(client: Client, *instructions: str) -> Agent:
    for text in instructions:
        [result] = client.apply([new_agent("bot", instructions=text)])
        assert result.ok, result.error
    agent = client.store.get_by_slug("agent", "local", "bot")
    assert isinstance(agent, Agent)
    return agent


def _raw(client: Client, agent: Agent) -> str:
    return client.store.get_meta(history.key(kinds.AGENT, agent.metadata.id)) or ""


def _instructions(client: Client, agent: Agent) -> list[tuple[int, str]]:
    kept = history.revisions(client.store, kinds.AGENT, agent.metadata.id)
    return [(r.number, r.object.spec.instructions) for r in kept]  # type: ignore[union-attr]


def test_the_value_is_compact_json_in_the_layout_older_releases_wrote(client: Client) -> None:
    agent = _edit(client, "edit one of the bot", "edit two of the bot", "edit three of the bot")
    raw = _raw(client, agent)
    entries = json.loads(raw)
    assert raw == json.dumps(entries, separators=(",", ":"))
    assert [list(e) for e in entries] == [["revision", "generation", "when", "who", "object"]] * 2
    assert [(e["revision"], e["generation"], e["who"]) for e in entries] == [
        (1, 1, "alice"),
        (2, 2, "alice"),
    ]


def test_a_value_in_another_json_layout_is_extended_and_numbered_on(client: Client) -> None:
    agent = _edit(client, "edit one of the bot", "edit two of the bot")
    entries = json.loads(_raw(client, agent))
    entries[0]["revision"] = 7
    reordered = [{k: e[k] for k in reversed(list(e))} for e in entries]
    name, value = history.key(kinds.AGENT, agent.metadata.id), json.dumps(reordered, indent=1)
    client.store.transact(lambda txn: txn.set_meta(name, value))  # as another tool might

    agent = _edit(client, "edit three of the bot")

    assert _instructions(client, agent) == [(7, "edit one of the bot"), (8, "edit two of the bot")]
    assert json.loads(_raw(client, agent))[0] == entries[0]


def test_a_writer_named_like_an_entry_key_does_not_split_its_entry(client: Client) -> None:
    odd = 'x,{"revision":9,"who":"y'
    _edit(client, "edit one of the bot")
    _edit(client.as_user(odd), "edit two of the bot", "edit three of the bot")
    agent = _edit(client, "edit four of the bot")

    kept = history.revisions(client.store, kinds.AGENT, agent.metadata.id)

    assert [(r.number, r.who) for r in kept] == [(1, "alice"), (2, odd), (3, odd)]


def test_the_limit_keeps_the_newest_revisions_of_an_older_value(client: Client) -> None:
    agent = _edit(client, *(f"edit number {n}" for n in range(12)))

    assert _instructions(client, agent) == [(n, f"edit number {n - 1}") for n in range(2, 12)]
