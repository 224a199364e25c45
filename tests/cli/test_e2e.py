"""The installed ``stigmer`` program, run as a user runs it, on a temp data dir."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from stigmer.client import Client
from tests.cli.conftest import EXAMPLES

STIGMER = Path(sys.executable).parent / "stigmer"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))


def sh(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, STIGMER_DATA_DIR=str(data_dir), STIGMER_USER="alice")
    return subprocess.run(
        [str(STIGMER), *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_there_are_examples() -> None:
    assert len(EXAMPLE_FILES) >= 4


@pytest.mark.parametrize("example", EXAMPLE_FILES, ids=lambda p: p.name)
def test_every_example_applies_reads_back_and_deletes(example: Path, data_dir: Path) -> None:
    docs = [d for d in yaml.safe_load_all(example.read_text()) if d]
    targets = ("Environment", "Skill", "McpServer")
    if not any(d["kind"] in targets for d in docs):  # what the agents and instances name
        for other in EXAMPLE_FILES:
            if yaml.safe_load(other.read_text())["kind"] in targets:
                assert sh("apply", "-f", str(other), data_dir=data_dir).returncode == 0
    if any(d["kind"] == "AgentInstance" for d in docs):  # an instance needs its agent first
        assert (
            sh("apply", "-f", str(EXAMPLES / "support-agent.yaml"), data_dir=data_dir).returncode
            == 0
        )
    applied = sh("apply", "-f", str(example), data_dir=data_dir)
    assert applied.returncode == 0, applied.stderr
    for doc in docs:
        kind = doc["kind"].lower()
        org = doc["metadata"].get("org", "local")
        name = applied.stdout.split()[0].split("/")[1]
        got = sh("--org", org, "get", kind, name, "-o", "yaml", data_dir=data_dir)
        assert got.returncode == 0, got.stderr
        live = yaml.safe_load(got.stdout)
        assert live["metadata"]["name"] == doc["metadata"]["name"]
        assert live["spec"].get("description") == doc["spec"].get("description")
        ready = [c for c in live["status"]["conditions"] if c["type"] == "Ready"]
        assert ready[0]["status"] == "True", ready
        deleted = sh("--org", org, "delete", kind, name, data_dir=data_dir)
        assert deleted.stdout == f"{kind}/{name} deleted\n"
        assert sh("--org", org, "get", kind, name, data_dir=data_dir).returncode == 1


def test_the_main_job_of_the_readme(data_dir: Path) -> None:
    applied = sh("apply", "-f", "manifests/examples/", data_dir=data_dir)
    assert applied.returncode == 0 and applied.stdout.count(" created") == 7
    agents = sh("get", "agents", data_dir=data_dir)
    assert agents.returncode == 0 and "support-agent-default" in agents.stdout
    assert sh("--version", data_dir=data_dir).stdout.startswith("stigmer ")


def test_python_dash_m_stigmer_works(data_dir: Path) -> None:
    Client(data_dir).close()  # an empty store, owned by this process's user
    env = dict(os.environ, STIGMER_DATA_DIR=str(data_dir))
    done = subprocess.run(
        [sys.executable, "-m", "stigmer", "get", "agents"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and done.stderr == "No resources found in org local\n"


def test_a_user_error_never_prints_a_traceback(data_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"kind: Agent\nmetadata: {name: \xff}\n")
    for args in (
        ["apply", "-f", str(bad)],
        ["get", "agent", "nope"],
        ["delete", "ai", "x"],
        ["get", "nope"],
    ):
        done = sh(*args, data_dir=data_dir)
        assert done.returncode in (1, 2) and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) >= 1
