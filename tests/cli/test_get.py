"""stigmer get, in every output format."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from stigmer.store.lmdbstore import LmdbStore
from stigmer.store.protocol import Retention
from tests.cli.conftest import EXAMPLES, Run
from tests.factories import agent
from tests.processes import read_line, start, stigmer, wait_until


def test_the_default_table(applied: Run) -> None:
    lines = applied("get", "agents").stdout.splitlines()
    assert lines[0].split() == ["NAME", "ORG", "DEFAULT-INSTANCE", "READY", "AGE"]
    rows = [line.split() for line in lines[1:]]
    assert [r[:4] for r in rows] == [
        ["code-reviewer", "local", "code-reviewer-default", "True"],
        ["support-agent", "local", "support-agent-default", "True"],
    ]
    assert rows[0][4].endswith("s")
    instances = applied("get", "ai").stdout.splitlines()
    assert instances[0].split() == ["NAME", "ORG", "AGENT", "READY", "AGE"]
    assert instances[3].split()[:3] == ["support-agent-eu", "local", "support-agent"]


def test_every_kind_name_works(applied: Run) -> None:
    for name in ("agent", "agents", "ag", "AGENTS"):
        assert "code-reviewer" in applied("get", name).stdout
    for name in ("agentinstance", "agentinstances", "ai"):
        assert "support-agent-eu" in applied("get", name).stdout


def test_wide_adds_id_and_labels(applied: Run) -> None:
    lines = applied("get", "agents", "-o", "wide").stdout.splitlines()
    assert lines[0].split()[-2:] == ["ID", "LABELS"]
    support = next(line for line in lines if line.startswith("support-agent"))
    assert support.split()[-1] == "team=support,tier=gold"
    assert support.split()[-2].startswith("agt-")


def test_yaml_prints_one_object_as_itself_and_several_as_a_list(applied: Run) -> None:
    one = yaml.safe_load(applied("get", "agent", "support-agent", "-o", "yaml").stdout)
    assert one["kind"] == "Agent" and one["metadata"]["slug"] == "support-agent"
    assert one["metadata"]["ownerScope"] == "organization"
    assert isinstance(one["metadata"]["generation"], int)
    several = yaml.safe_load(applied("get", "agents", "-o", "yaml").stdout)
    assert (several["apiVersion"], several["kind"]) == ("v1", "List")
    assert [i["metadata"]["slug"] for i in several["items"]] == ["code-reviewer", "support-agent"]
    two = json.loads(applied("get", "agent", "support-agent", "code-reviewer", "-o", "json").stdout)
    assert two["kind"] == "List" and len(two["items"]) == 2


def test_name_output_and_selectors(applied: Run) -> None:
    assert (
        applied("get", "agents", "-o", "name").stdout
        == "agent/code-reviewer\nagent/support-agent\n"
    )
    assert (
        applied("get", "agents", "-l", "team=support", "-o", "name").stdout
        == "agent/support-agent\n"
    )
    assert (
        applied("get", "agents", "-l", "team!=support", "-o", "name").stdout
        == "agent/code-reviewer\n"
    )
    assert applied("get", "agents", "-l", "tier", "-o", "name").stdout == "agent/support-agent\n"
    bad = applied("get", "agents", "-l", "a in b")
    assert bad.exit_code == 2 and "invalid selector" in bad.stderr


def test_org_and_all_orgs(applied: Run) -> None:
    acme = applied("--org", "acme", "get", "agents", "-o", "name")
    assert acme.stdout == "agent/data-analyst\n"
    assert applied("get", "agents", "-o", "name", env={"STIGMER_ORG": "acme"}).stdout == acme.stdout
    everything = applied("get", "agents", "-A").stdout.splitlines()
    assert [line.split()[:2] for line in everything[1:]] == [
        ["data-analyst", "acme"],
        ["code-reviewer", "local"],
        ["support-agent", "local"],
    ]


def test_a_missing_name_is_an_error(applied: Run) -> None:
    result = applied("get", "agent", "nope")
    assert result.exit_code == 1
    assert result.stderr == 'error: agent "nope" not found in org "local"\n'
    mixed = applied("get", "agent", "support-agent", "nope", "-o", "name")
    assert mixed.exit_code == 1 and mixed.stdout == "agent/support-agent\n"


def test_an_empty_list_is_not_an_error(fresh: Run) -> None:
    run = fresh
    table = run("get", "agents")
    assert (table.exit_code, table.stdout, table.stderr) == (
        0,
        "",
        "No resources found in org local\n",
    )
    assert json.loads(run("get", "agents", "-o", "json").stdout) == {
        "apiVersion": "v1",
        "kind": "List",
        "items": [],
    }
    assert yaml.safe_load(run("get", "ai", "-o", "yaml").stdout)["items"] == []


def test_an_unknown_kind_or_format_is_a_usage_error(run: Run) -> None:
    assert run("get", "pods").exit_code == 2
    assert run("get", "agents", "-o", "xml").exit_code == 2


def test_watch_prints_changes_from_other_processes(data_dir: Path) -> None:
    assert (
        stigmer("apply", "-f", str(EXAMPLES / "acme-analyst.yaml"), data_dir=data_dir).returncode
        == 0
    )
    watcher = start("get", "agents", "-w", "-A", data_dir=data_dir)
    try:
        header = read_line(watcher)
        assert header.split()[:2] == ["NAME", "ORG"]
        assert read_line(watcher).startswith("data-analyst")
        wait_until(
            lambda: (
                stigmer(
                    "apply", "-f", str(EXAMPLES / "support-agent.yaml"), data_dir=data_dir
                ).returncode
                == 0
            )
        )
        line = read_line(watcher)
        assert line.startswith("support-agent") and line.rstrip().endswith(("created", "updated"))
        stigmer("delete", "agent", "support-agent", data_dir=data_dir)
        line = read_line(watcher)
        assert line.startswith("support-agent") and line.rstrip().endswith("deleted")
    finally:
        watcher.send_signal(signal.SIGINT)
        watcher.wait(timeout=5)
        watcher.communicate()
    assert watcher.returncode == 0


@pytest.mark.timeout(60)
def test_a_watch_that_expires_lists_everything_again(
    applied: Run, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The feed's retention overtakes ``get -w``: it warns, lists again and watches on."""
    real, calls = LmdbStore.watch, []

    def watch(self: LmdbStore, *args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        if len(calls) == 2:  # the watch after the re-list: stopped, so the command ends
            kwargs["stop"] = threading.Event()
            kwargs["stop"].set()
            return real(self, *args, **kwargs)
        feed = real(self, *args, **kwargs)
        with LmdbStore(data_dir) as other:  # before the watcher reads on: a write, compacted
            other.put(agent("agt-late", slug="late"))
            other.put(agent("agt-later", slug="later"))
            other.compact(Retention(events=1))  # the first of the two is gone
        return feed

    monkeypatch.setattr(LmdbStore, "watch", watch)
    result = applied("get", "agents", "-w")
    assert result.exit_code == 0, result.stderr
    assert "warning: watch from revision" in result.stderr and "list again" in result.stderr
    names = [line.split()[0] for line in result.stdout.splitlines()[1:]]
    listed = ["code-reviewer", "late", "later", "support-agent"]
    assert names == listed + listed  # the list, then the list again after the warning
