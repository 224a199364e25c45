"""Running the CLI as different users, and a small world of orgs, roles and secret agents."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner, Result

from stigmer import iam
from stigmer.client import Client
from stigmer.iam import Iam
from stigmer.store import WriteTxn

ROOT = Path(__file__).resolve().parents[2]
SECRET = "sk-live-SECRET-4242"  # the env value; the HTTP header is "Bearer " + SECRET
OWN, OTHER = "acme", "globex"
OWNER = "alice"
# The users of the world, by the role they hold in OWN (none anywhere else).
ROLE_OF = {"vic": "viewer", "eddie": "editor", "ada": "admin", "nobody": None}
RANKS: dict[str | None, int] = {None: -1, **{r: i for i, r in enumerate(iam.ROLES)}}

AGENT_YAML = """apiVersion: agentic.stigmer.ai/v1
kind: Agent
metadata:
  name: {name}
  org: {org}
spec:
  instructions: {instructions}
  envSpec:
    data:
      API_KEY:
        value: {secret}
        isSecret: true
      REGION:
        value: eu-west-1
  mcpServers:
    - name: search
      http:
        url: https://search.example/mcp
        headers:
          Authorization: Bearer {secret}
"""


def agent_yaml(
    path: Path,
    name: str = "bot",
    *,
    org: str = OWN,
    instructions: str = "You are a careful assistant.",
    secret: str = SECRET,
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(AGENT_YAML.format(name=name, org=org, instructions=instructions, secret=secret))
    return path


def cli(data_dir: Path, user: str, *args: str, input: str | None = None) -> Result:
    """Runs ``stigmer --user USER ARGS`` in-process on the store in ``data_dir``."""
    from stigmer.cli.app import app

    env = {"STIGMER_DATA_DIR": str(data_dir), "STIGMER_STORE": None, "STIGMER_ORG": None}
    return CliRunner().invoke(app, ["--user", user, *args], env=env, input=input)


def run(data_dir: Path, *args: str, user: str | None = None) -> subprocess.CompletedProcess[str]:
    """Runs ``python -m stigmer ARGS`` as a real process; without ``user``, as the OS user."""
    env = dict(os.environ, STIGMER_DATA_DIR=str(data_dir))
    for name in ("STIGMER_STORE", "STIGMER_ORG", "STIGMER_USER"):
        env.pop(name, None)
    if user is not None:
        env["STIGMER_USER"] = user
    return subprocess.run(
        [sys.executable, "-m", "stigmer", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def iam_client(data_dir: Path, user: str) -> Client:
    """A library client that enforces IAM, as the CLI's does."""
    return Client(data_dir, actor=user, authorizer=Iam())


def grant_all(txn: WriteTxn, grants: list[tuple[str, str, str]]) -> None:
    for user, role, org in grants:
        iam.grant(txn, OWNER, user, role, org)


def build_world(data_dir: Path) -> None:
    """alice owns the store; "bot" (with secrets) lives in both orgs; roles in OWN only.

    eve is viewer in both orgs, so that there is a binding to revoke anywhere.
    """
    manifests = data_dir.parent / "world"
    paths = [agent_yaml(manifests / f"{org}.yaml", org=org) for org in (OWN, OTHER)]
    with iam_client(data_dir, OWNER) as c:
        report = c.apply_files(paths)
        assert report.ok and len(report.results) == 2, report
        grants = [(user, role, OWN) for user, role in ROLE_OF.items() if role]
        grants += [("eve", "viewer", OWN), ("eve", "viewer", OTHER)]
        c.store.transact(lambda txn: grant_all(txn, grants))


def allowed(user: str, need: str, org: str) -> bool:
    """The expectation the matrix checks: the owner may all; others by their role in OWN."""
    if user == OWNER:
        return True
    role = ROLE_OF[user] if org == OWN else None
    return RANKS[role] >= RANKS[need]


def one_line(text: str) -> str:
    """The only line of ``text``; fails if there are more or none."""
    lines = text.splitlines()
    assert len(lines) == 1, f"expected one line, got: {text!r}"
    return lines[0]
