"""Every verb x every role x own org and other org, through the CLI as different users.

The world (see helpers.build_world): alice owns the store; vic, eddie and ada
are viewer, editor and admin in "acme" and hold nothing in "globex"; nobody
holds nothing at all. Each case runs one command on a fresh copy of it.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from stigmer import iam
from stigmer.errors import Forbidden
from stigmer.store import open_store
from tests.iam.helpers import (
    OTHER,
    OWN,
    OWNER,
    ROLE_OF,
    SECRET,
    agent_yaml,
    allowed,
    build_world,
    cli,
    iam_client,
    one_line,
)

USERS = [OWNER, *ROLE_OF]
ORGS = [OWN, OTHER]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("world") / "data"
    build_world(data)
    return data


@pytest.fixture
def world(template: Path, tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(template, data)  # copy2 keeps the 0700/0600 modes
    return data


def snapshot(data: Path) -> tuple[int, list[str]]:
    """What a denied command must leave as it was: the revision and every tuple."""
    store = open_store(data)
    try:
        return store.revision(), store.tuples()
    finally:
        store.close()


@dataclass(frozen=True)
class Verb:
    """How to run a verb through the CLI, and what it says when denied."""

    name: str
    need: str
    args: Callable[[Path, str], list[str]]
    what: str = "agents"
    ok_code: int = 0
    denied_code: int = 1


def _manifest(tmp: Path, org: str, name: str, instructions: str) -> str:
    return str(agent_yaml(tmp / f"{name}-{org}.yaml", name, org=org, instructions=instructions))


def _sync_dir(tmp: Path, org: str) -> str:
    agent_yaml(tmp / "repo" / "fresh.yaml", "fresh", org=org)
    return str(tmp / "repo")


VERBS = [
    Verb("get", "viewer", lambda tmp, org: ["--org", org, "get", "agent", "bot"]),
    Verb("list", "viewer", lambda tmp, org: ["--org", org, "get", "agents"]),
    Verb("describe", "viewer", lambda tmp, org: ["--org", org, "describe", "agent", "bot"]),
    # diff exits 1 for "there is a difference", so its errors exit 2 (README's command reference).
    Verb(
        "diff",
        "viewer",
        lambda tmp, org: ["diff", "-f", _manifest(tmp, org, "bot", "Changed instructions.")],
        ok_code=1,
        denied_code=2,
    ),
    Verb(
        "apply",
        "editor",
        lambda tmp, org: ["apply", "-f", _manifest(tmp, org, "fresh", "Brand new agent.")],
    ),
    Verb(
        "create",
        "editor",
        lambda tmp, org: ["--org", org, "agent", "create", "Fresh", "--instructions", "Be useful."],
    ),
    Verb("delete", "editor", lambda tmp, org: ["--org", org, "delete", "agent", "bot"]),
    Verb("sync", "editor", lambda tmp, org: ["--org", org, "sync", _sync_dir(tmp, org)]),
    Verb(
        "grant",
        "admin",
        lambda tmp, org: ["iam", "grant", "zed", "viewer", "--org", org],
        what="roles",
    ),
    Verb(
        "revoke",
        "admin",
        lambda tmp, org: ["iam", "revoke", "eve", "viewer", "--org", org],
        what="roles",
    ),
    Verb(
        "show-secrets",
        "admin",
        lambda tmp, org: ["--org", org, "get", "agent", "bot", "-o", "yaml", "--show-secrets"],
    ),
]


def denial_for(verb: Verb, user: str, org: str) -> str:
    if verb.name == "show-secrets":
        if ROLE_OF.get(user) is None or org != OWN:  # get is refused before the secrets
            return f'forbidden: user "{user}" cannot get agents in org "{org}"'
        return f'forbidden: user "{user}" cannot reveal secrets in org "{org}"'
    return f'forbidden: user "{user}" cannot {verb.name} {verb.what} in org "{org}"'


@pytest.mark.parametrize("org", ORGS)
@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize("verb", VERBS, ids=lambda v: v.name)
def test_cli_verb_role_org(verb: Verb, user: str, org: str, world: Path, tmp_path: Path) -> None:
    before = snapshot(world)
    result = cli(world, user, *verb.args(tmp_path, org))
    if allowed(user, verb.need, org):
        assert result.exit_code == verb.ok_code, result.output
        assert "forbidden" not in result.output
        if verb.name == "show-secrets":
            assert SECRET in result.stdout
        return
    assert result.exit_code == verb.denied_code, result.output
    assert result.stdout == ""
    assert one_line(result.stderr).endswith(denial_for(verb, user, org))
    assert snapshot(world) == before, "a denied command wrote to the store"


@pytest.mark.parametrize("org", ORGS)
@pytest.mark.parametrize("user", USERS)
def test_watch_is_authorized_per_org(user: str, org: str, world: Path) -> None:
    stop = threading.Event()
    stop.set()  # one pass over the feed, then stop: the check comes first
    with iam_client(world, user) as c:
        if allowed(user, "viewer", org):
            assert list(c.watch("agents", org=org, stop=stop)) == []
        else:  # refused at the call, before the feed is read
            with pytest.raises(Forbidden, match=f'cannot watch agents in org "{org}"'):
                c.watch("agents", org=org, stop=stop)


@pytest.mark.parametrize("org", ORGS)
@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize("verb", ["update", "reconcile"])
def test_library_only_verbs(verb: str, user: str, org: str, world: Path) -> None:
    """update and reconcile have no CLI command of their own; the library enforces them."""
    with iam_client(world, OWNER) as c:
        target = c.get("agents", "bot", org=org, show_secrets=True)
    target.spec.description = "updated"  # type: ignore[union-attr]
    before = snapshot(world)
    with iam_client(world, user) as c:
        if verb == "update":
            act: Callable[[], object] = lambda: c.update(target)  # noqa: E731
        else:
            act = lambda: c.reconcile("agents", "bot", org=org)  # noqa: E731
        if allowed(user, "editor", org):
            act()
            return
        with pytest.raises(Forbidden, match=f'cannot {verb} agents in org "{org}"'):
            act()
    assert snapshot(world) == before


@pytest.mark.parametrize("tool", ["check", "dump", "stats"])
@pytest.mark.parametrize("user", USERS)
def test_store_tools_need_admin_of_every_org(tool: str, user: str, world: Path) -> None:
    result = cli(world, user, "store", tool)
    if user == OWNER:
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 1
    assert one_line(result.stderr) == (
        f'error: forbidden: user "{user}" cannot run store {tool}: it needs admin of every org'
    )


def test_an_admin_of_every_org_may_use_the_store_tools_and_act_anywhere(world: Path) -> None:
    assert cli(world, OWNER, "iam", "grant", "root2", "admin", "--org", "*").exit_code == 0
    assert cli(world, "root2", "store", "dump").exit_code == 0
    done = cli(
        world,
        "root2",
        "--org",
        "brand-new",
        "agent",
        "create",
        "x",
        "--instructions",
        "Hello there, be kind.",
    )
    assert done.exit_code == 0, done.output
    # An admin of one org may not hand out roles in every org.
    refused = cli(world, "ada", "iam", "grant", "zed", "viewer", "--org", "*")
    assert refused.exit_code == 1
    assert 'cannot grant roles in org "*"' in refused.stderr


def test_the_library_check_and_the_cli_agree(world: Path) -> None:
    """iam check answers what the enforcement does, for each user, verb and org."""
    for user in USERS:
        for verb in ("get", "apply", "grant", "show-secrets"):
            for org in ORGS:
                result = cli(world, OWNER, "iam", "check", user, verb, "agents", "--org", org)
                expected = allowed(user, iam.NEEDS[verb], org)
                assert result.exit_code == (0 if expected else 1), result.output
                assert one_line(result.stdout).startswith("allowed: " if expected else "denied: ")


def test_delete_by_id_is_checked_in_the_org_of_the_object(world: Path) -> None:
    """An id from another org does not reach past the ACL of that org."""
    with iam_client(world, OWNER) as c:
        other_id = c.get("agents", "bot", org=OTHER).metadata.id
    before = snapshot(world)
    for args in (["delete", "agent", other_id], ["get", "agent", other_id]):
        result = cli(world, "eddie", "--org", OWN, *args)
        assert result.exit_code == 1
        verb = args[0]
        assert one_line(result.stderr).endswith(f'cannot {verb} agents in org "{OTHER}"')
    assert snapshot(world) == before


def test_a_denied_apply_of_many_documents_writes_none_of_the_denied(
    world: Path, tmp_path: Path
) -> None:
    mixed = tmp_path / "mixed.yaml"
    own = agent_yaml(tmp_path / "a.yaml", "mine", org=OWN).read_text()
    other = agent_yaml(tmp_path / "b.yaml", "theirs", org=OTHER).read_text()
    mixed.write_text(own + "---\n" + other)
    result = cli(world, "eddie", "apply", "-f", str(mixed))
    assert result.exit_code == 1
    assert "agent/mine created" in result.stdout
    assert one_line(result.stderr).endswith(
        f'forbidden: user "eddie" cannot apply agents in org "{OTHER}"'
    )
    with iam_client(world, OWNER) as c:
        assert [a.metadata.slug for a in c.list("agents", org=OTHER)] == ["bot"]
