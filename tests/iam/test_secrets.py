"""Secrets are masked in every output, revealed to admins only, and kept out of the change feed.

The agent "bot" carries SECRET twice: as an isSecret env value and inside an
MCP HTTP header ("Bearer SECRET"). Every assertion that SECRET is absent
covers both.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

import lmdb
import pytest

from stigmer.reconcilers.masking import MASK
from tests.iam.helpers import OWN, OWNER, ROOT, SECRET, agent_yaml, build_world, cli, iam_client

ORG = ["--org", OWN]


@pytest.fixture
def world(data_dir: Path) -> Path:
    build_world(data_dir)
    return data_dir


def stored_secret(data: Path) -> str:
    with iam_client(data, OWNER) as c:
        agent = c.get("agents", "bot", org=OWN, show_secrets=True)
    return agent.spec.env_spec.data["API_KEY"].value  # type: ignore[union-attr]


@pytest.mark.parametrize("output", ["table", "wide", "yaml", "json", "name"])
@pytest.mark.parametrize("names", [[], ["bot"]], ids=["list", "one"])
def test_get_masks_in_every_format(world: Path, output: str, names: list[str]) -> None:
    result = cli(world, OWNER, *ORG, "get", "agents", *names, "-o", output)
    assert result.exit_code == 0, result.output
    assert "bot" in result.stdout
    assert SECRET not in result.output
    if output in ("yaml", "json"):
        assert MASK in result.stdout


def test_json_masks_the_env_value_and_the_header_whole(world: Path) -> None:
    data = json.loads(cli(world, OWNER, *ORG, "get", "agent", "bot", "-o", "json").stdout)
    spec = data["spec"]
    assert spec["envSpec"]["data"]["API_KEY"] == {"value": MASK, "isSecret": True}
    assert spec["envSpec"]["data"]["REGION"]["value"] == "eu-west-1"  # not a secret: shown
    assert spec["mcpServers"][0]["http"]["headers"] == {"Authorization": MASK}


def test_describe_masks(world: Path) -> None:
    result = cli(world, OWNER, *ORG, "describe", "agent", "bot")
    assert result.exit_code == 0
    assert f"API_KEY={MASK} (secret)" in result.stdout
    assert SECRET not in result.output


def test_diff_shows_that_a_secret_changed_but_not_its_values(world: Path, tmp_path: Path) -> None:
    manifest = agent_yaml(tmp_path / "bot.yaml", secret="sk-live-NEWSECRET-1")
    result = cli(world, OWNER, "diff", "-f", str(manifest))
    assert result.exit_code == 1  # there is a difference
    assert f'-        value: "{MASK} (before)"' in result.stdout
    assert f'+        value: "{MASK} (after)"' in result.stdout
    assert SECRET not in result.output
    assert "NEWSECRET" not in result.output


def test_store_dump_masks(world: Path) -> None:
    result = cli(world, OWNER, "store", "dump")
    assert result.exit_code == 0
    assert MASK in result.stdout
    assert SECRET not in result.output


def test_apply_output_masks(world: Path, tmp_path: Path) -> None:
    manifest = agent_yaml(tmp_path / "new.yaml", "fresh")
    for output in ("yaml", "json"):
        result = cli(world, OWNER, "apply", "-f", str(manifest), "-o", output)
        assert result.exit_code == 0, result.output
        assert MASK in result.stdout
        assert SECRET not in result.output


def test_error_messages_and_logs_mask(world: Path, tmp_path: Path) -> None:
    refused = cli(world, "vic", "-v", "apply", "-f", str(agent_yaml(tmp_path / "a.yaml", "x")))
    invalid = cli(
        world,
        OWNER,
        "-v",
        "apply",
        "-f",
        str(agent_yaml(tmp_path / "b.yaml", instructions="Short")),
    )
    conflict = cli(world, OWNER, "-v", *ORG, "agent", "create", "bot", "--instructions", "x" * 20)
    verbose_get = cli(world, OWNER, "-v", *ORG, "get", "agents", "-o", "yaml")
    for result in (refused, invalid, conflict):
        assert result.exit_code == 1
        assert result.stderr
    for result in (refused, invalid, conflict, verbose_get):
        assert SECRET not in result.output


def test_show_secrets_reveals_to_an_admin(world: Path) -> None:
    for user in (OWNER, "ada"):
        got = cli(world, user, *ORG, "get", "agent", "bot", "-o", "yaml", "--show-secrets")
        assert got.exit_code == 0
        assert f"value: {SECRET}" in got.stdout
        assert f"Authorization: Bearer {SECRET}" in got.stdout
        described = cli(world, user, *ORG, "describe", "agent", "bot", "--show-secrets")
        assert f"API_KEY={SECRET} (secret)" in described.stdout


@pytest.mark.parametrize("user", ["vic", "eddie"])
def test_show_secrets_is_refused_below_admin(world: Path, user: str) -> None:
    for args in (["get", "agent", "bot"], ["get", "agents"], ["describe", "agent", "bot"]):
        result = cli(world, user, *ORG, *args, "--show-secrets")
        assert result.exit_code == 1
        assert result.stdout == ""
        assert result.stderr == (
            f'error: forbidden: user "{user}" cannot reveal secrets in org "acme"\n'
        )


def test_reapplying_masked_output_keeps_the_secret_and_is_unchanged(
    world: Path, tmp_path: Path
) -> None:
    """Export, drop the system fields, re-apply: the masks never overwrite the secrets."""
    data = json.loads(cli(world, OWNER, *ORG, "get", "agent", "bot", "-o", "json").stdout)
    manifest = {
        "apiVersion": data["apiVersion"],
        "kind": data["kind"],
        "metadata": {"name": data["metadata"]["name"], "org": data["metadata"]["org"]},
        "spec": data["spec"],
    }
    masked = tmp_path / "masked.yaml"
    masked.write_text(json.dumps(manifest))  # JSON is YAML
    assert MASK in masked.read_text()
    result = cli(world, OWNER, "apply", "-f", str(masked))
    assert (result.exit_code, result.stdout) == (0, 'agent/bot unchanged in org "acme"\n'), (
        result.output
    )
    assert stored_secret(world) == SECRET


def test_watching_a_change_prints_it_masked(world: Path) -> None:
    """get -w in a real process: its first document is the list, the next one the change."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "stigmer", *ORG, "get", "agents", "-w", "-o", "json"],
        env={"STIGMER_DATA_DIR": str(world), "STIGMER_USER": OWNER, "PATH": "/usr/bin:/bin"},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    try:
        listed = read_json_document(proc.stdout)  # printed after the watch's start revision
        with iam_client(world, OWNER) as c:
            live = c.get("agents", "bot", org=OWN, show_secrets=True)
            live.spec.description = "watched change"  # type: ignore[union-attr]
            c.apply([live])
        changed = read_json_document(proc.stdout)
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert SECRET not in listed + changed + err
    data = json.loads(changed)
    assert data["spec"]["description"] == "watched change"
    assert data["spec"]["envSpec"]["data"]["API_KEY"]["value"] == MASK


def read_json_document(stream: IO[str]) -> str:
    """The lines up to the next "}" at column 0: one document of indented JSON."""
    lines = []
    for line in iter(stream.readline, ""):
        lines.append(line)
        if line == "}\n":
            return "".join(lines)
    raise AssertionError(f"the stream ended inside a document: {''.join(lines)!r}")


def test_the_library_watch_masks(world: Path) -> None:
    stop = threading.Event()
    with iam_client(world, "vic") as c:
        start = c.store.revision()
        with iam_client(world, OWNER) as owner:
            live = owner.get("agents", "bot", org=OWN, show_secrets=True)
            live.spec.description = "changed"  # type: ignore[union-attr]
            owner.apply([live])
        for change in c.watch("agents", since=start, org=OWN, stop=stop):
            stop.set()
            assert change.object.spec.env_spec.data["API_KEY"].value == MASK  # type: ignore[union-attr]
            assert SECRET not in str(change.object)


# -- the data dir ----------------------------------------------------------------------


def sub_databases_holding(data: Path, needle: bytes) -> dict[str, int]:
    """How many records of each named sub-database contain ``needle``, read with raw LMDB."""
    found: dict[str, int] = {}
    env = lmdb.open(str(data), max_dbs=16, readonly=True)
    try:
        with env.begin() as txn:
            names = [key for key, _ in txn.cursor()]  # the main db lists the named ones
            for name in names:
                db = env.open_db(name, txn=txn, create=False)
                for key, value in txn.cursor(db=db):
                    if needle in key or needle in value:
                        found[name.decode()] = found.get(name.decode(), 0) + 1
    finally:
        env.close()
    return found


def count_events(data: Path) -> int:
    env = lmdb.open(str(data), max_dbs=16, readonly=True)
    try:
        with env.begin() as txn:
            return int(txn.stat(env.open_db(b"events", txn=txn, create=False))["entries"])
    finally:
        env.close()


def test_the_change_feed_holds_no_secret(world: Path, tmp_path: Path) -> None:
    """Objects keep their secrets (file permissions guard them); events never have them."""
    rotated = agent_yaml(tmp_path / "bot.yaml", secret="sk-live-ROTATED-77")
    done = cli(world, OWNER, "apply", "-f", str(rotated))
    assert done.stdout == 'agent/bot configured in org "acme"\n'
    assert cli(world, OWNER, *ORG, "delete", "agent", "bot").exit_code == 0
    assert count_events(world) >= 6  # two creates with instances, an update, a cascade delete
    for needle in (SECRET.encode(), b"ROTATED"):
        holders = sub_databases_holding(world, needle)
        assert "events" not in holders
        assert set(holders) <= {"objects"}
    # The search is not vacuous: the secret of the agent left in globex is found where it is.
    assert sub_databases_holding(world, SECRET.encode()) == {"objects": 1}
    assert (world / "lock.mdb").read_bytes().find(SECRET.encode()) == -1
