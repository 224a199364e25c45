"""Deleting converges at once: an owner puts back its default instance, cascades count."""

from __future__ import annotations

import yaml

from stigmer.client import Client
from tests.cli.conftest import Run

BOT = """apiVersion: agentic.stigmer.ai/v1
kind: Agent
metadata:
  name: Bot
spec:
  instructions: You answer questions politely.
"""
HELPER = """apiVersion: agentic.stigmer.ai/v1
kind: AgentInstance
metadata:
  name: Bot Helper
spec:
  agentId: bot
"""


def default_instance_id(run: Run) -> str:
    agent = yaml.safe_load(run("get", "agent", "bot", "-o", "yaml").stdout)
    return str(agent["status"]["defaultInstanceId"])


def test_deleting_a_default_instance_recreates_it_and_the_agent_names_the_new_one(
    run: Run,
) -> None:
    run("apply", "-f", "-", input=BOT)
    old = default_instance_id(run)
    result = run("delete", "agentinstance", "bot-default")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "agentinstance/bot-default deleted\nagentinstance/bot-default recreated by agent/bot\n"
    )
    new = yaml.safe_load(run("get", "ai", "bot-default", "-o", "yaml").stdout)["metadata"]["id"]
    assert new != old
    assert default_instance_id(run) == new  # the status never names the instance that is gone
    every = run("delete", "ai", "--all")
    assert every.stdout == (
        "agentinstance/bot-default deleted\nagentinstance/bot-default recreated by agent/bot\n"
    )


def test_an_apply_that_repairs_says_configured(run: Run, data_dir: object) -> None:
    run("apply", "-f", "-", input=BOT)
    with Client(str(data_dir)) as client:  # lost behind the pipelines' back, as by a crash
        client.store.delete("agent_instance", default_instance_id(run))
    result = run("apply", "-f", "-", input=BOT)
    assert result.stdout == "agent/bot configured\n"
    assert run("apply", "-f", "-", input=BOT).stdout == "agent/bot unchanged\n"


def test_instances_deleted_by_their_agents_cascade_count_as_deleted(run: Run) -> None:
    both = BOT + "---\n" + HELPER
    assert run("apply", "-f", "-", input=both).exit_code == 0
    result = run("delete", "-f", "-", input=both)
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == "agent/bot deleted\nagentinstance/bot-helper deleted\n"
    assert run("get", "ai").stderr == "No resources found in org local\n"
