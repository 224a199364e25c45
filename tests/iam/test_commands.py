"""stigmer iam grant|revoke|list|check, the store owner, and listing across orgs."""

from __future__ import annotations

import getpass
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from stigmer import iam
from stigmer.store import open_store
from tests.iam.helpers import (
    OTHER,
    OWN,
    OWNER,
    ROOT,
    agent_yaml,
    build_world,
    cli,
    iam_client,
    one_line,
    run,
)
from tests.reconcilers.helpers import new_agent


@pytest.fixture
def world(data_dir: Path) -> Path:
    build_world(data_dir)
    return data_dir


def tuples(data: Path, prefix: str = "org:") -> list[str]:
    store = open_store(data)
    try:
        return store.tuples(prefix)
    finally:
        store.close()


# -- the store owner ------------------------------------------------------------------


def test_the_os_user_owns_a_fresh_store_with_zero_setup(tmp_path: Path) -> None:
    data = tmp_path / "data"
    manifest = agent_yaml(tmp_path / "bot.yaml", org="anywhere")
    done = run(data, "apply", "-f", str(manifest))  # no --user, no STIGMER_USER
    assert done.returncode == 0, done.stderr
    assert done.stdout == 'agent/bot created in org "anywhere"\n'
    listed = run(data, "iam", "list")
    assert ("*", "admin", getpass.getuser(), "owner") in rows(listed.stdout)
    assert run(data, "--org", "anywhere", "get", "agents", "--show-secrets").returncode == 0
    assert run(data, "store", "check").returncode == 0
    stranger = run(data, "--org", "anywhere", "get", "agents", user="mallory")
    assert stranger.returncode == 1
    assert stranger.stdout == ""
    assert stranger.stderr == (
        'error: forbidden: user "mallory" cannot list agents in org "anywhere"\n'
    )


def test_the_owner_is_admin_of_orgs_that_did_not_exist_yet(world: Path, tmp_path: Path) -> None:
    for org in ("brand-new", "another-one"):
        manifest = agent_yaml(tmp_path / f"{org}.yaml", org=org)
        assert cli(world, OWNER, "apply", "-f", str(manifest)).exit_code == 0
        granted = cli(world, OWNER, "iam", "grant", "bob", "viewer", "--org", org)
        assert granted.exit_code == 0


CREATE = ("agent", "create", "bot", "--instructions", "Be a good bot.")


def test_of_processes_opening_a_fresh_store_at_once_exactly_one_owns_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    open_store(data).close()  # the files exist, no owner yet: the race is about the claim
    procs = {
        user: subprocess.Popen(
            [sys.executable, "-m", "stigmer", "--user", user, *CREATE],
            env={"STIGMER_DATA_DIR": str(data), "PATH": "/usr/bin:/bin"},
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for user in ("u1", "u2", "u3", "u4")
    }
    outcomes = {user: (p.communicate(timeout=60)[1], p.returncode) for user, p in procs.items()}
    store = open_store(data)
    try:
        owner = iam.owner(store)
    finally:
        store.close()
    assert owner in procs
    for user, (err, code) in outcomes.items():
        if user == owner:
            assert (code, err) == (0, "")
        else:
            assert code == 1
            assert err == f'error: forbidden: user "{user}" cannot create agents in org "local"\n'


def test_the_owner_cannot_be_revoked(world: Path) -> None:
    result = cli(world, OWNER, "iam", "revoke", OWNER, "admin", "--org", "*")
    assert result.exit_code == 1
    assert "holds a built-in role" in one_line(result.stderr)
    assert cli(world, OWNER, "store", "dump").exit_code == 0


# -- grant and revoke -----------------------------------------------------------------


def test_grant_then_revoke(world: Path) -> None:
    first = cli(world, "ada", "iam", "grant", "bob", "editor", "--org", OWN)
    assert (first.exit_code, first.stdout) == (0, 'user "bob" is now editor in org "acme"\n')
    again = cli(world, "ada", "iam", "grant", "bob", "editor", "--org", OWN)
    assert again.stdout == 'user "bob" is already editor in org "acme"\n'
    assert "org:acme#editor@user:bob" in tuples(world)
    created = cli(
        world, "bob", "--org", OWN, "agent", "create", "Bobs", "--instructions", "Be very kind."
    )
    assert created.exit_code == 0, created.output

    gone = cli(world, "ada", "iam", "revoke", "bob", "editor", "--org", OWN)
    assert (gone.exit_code, gone.stdout) == (0, 'user "bob" is no longer editor in org "acme"\n')
    assert "org:acme#editor@user:bob" not in tuples(world)
    refused = cli(world, "bob", "--org", OWN, "delete", "agent", "bobs")
    assert refused.exit_code == 1
    assert 'cannot delete agents in org "acme"' in refused.stderr


def test_revoking_a_role_nobody_holds_is_an_error(world: Path) -> None:
    result = cli(world, OWNER, "iam", "revoke", "bob", "admin", "--org", OWN)
    assert result.exit_code == 1
    assert result.stderr == 'error: user "bob" has no role admin in org "acme"\n'


def test_the_global_org_is_the_default(world: Path) -> None:
    assert cli(world, "ada", "--org", OWN, "iam", "grant", "bob", "viewer").exit_code == 0
    assert "org:acme#viewer@user:bob" in tuples(world)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bob", "wizard"], 'unknown role "wizard"'),
        (["bob", "viewer", "--org", "Not_Valid"], '"Not_Valid" is not a valid org'),
        (["bad user", "viewer"], '"bad user" is not a valid user name'),
    ],
)
def test_grant_refuses_bad_input_with_exit_2(world: Path, args: list[str], message: str) -> None:
    before = tuples(world)
    result = cli(world, OWNER, "iam", "grant", *args)
    assert result.exit_code == 2
    assert message in one_line(result.stderr)
    assert tuples(world) == before


# -- list -----------------------------------------------------------------------------


def rows(output: str) -> set[tuple[str, ...]]:
    lines = output.splitlines()
    assert lines[0].split() == ["ORG", "ROLE", "USER", "VIA"]
    return {tuple(line.split()) for line in lines[1:]}


def test_the_owner_lists_every_binding(world: Path) -> None:
    result = cli(world, OWNER, "iam", "list")
    assert result.exit_code == 0
    assert rows(result.stdout) == {
        ("*", "admin", OWNER, "owner"),
        ("*", "editor", iam.CONTROLLER, "system"),
        (OWN, "viewer", "vic", "grant"),
        (OWN, "editor", "eddie", "grant"),
        (OWN, "admin", "ada", "grant"),
        (OWN, "viewer", "eve", "grant"),
        (OTHER, "viewer", "eve", "grant"),
    }


def test_a_viewer_lists_only_the_orgs_it_may_view_and_its_own_roles(world: Path) -> None:
    vic = rows(cli(world, "vic", "iam", "list").stdout)
    assert (OTHER, "viewer", "eve", "grant") not in vic
    assert (OWN, "admin", "ada", "grant") in vic
    eve = rows(cli(world, "eve", "iam", "list").stdout)
    assert (OTHER, "viewer", "eve", "grant") in eve  # its own, though it may view globex anyway
    nobody = rows(cli(world, "nobody", "iam", "list").stdout)
    assert nobody == {("*", "admin", OWNER, "owner"), ("*", "editor", iam.CONTROLLER, "system")}


def test_list_filters_by_org_and_user(world: Path) -> None:
    acme = rows(cli(world, "vic", "iam", "list", "--org", OWN).stdout)
    assert {r[0] for r in acme} == {"*", OWN}  # every-org roles hold in acme too
    eve = rows(cli(world, OWNER, "iam", "list", "--user", "eve").stdout)
    assert eve == {(OWN, "viewer", "eve", "grant"), (OTHER, "viewer", "eve", "grant")}
    refused = cli(world, "vic", "iam", "list", "--org", OTHER)
    assert refused.exit_code == 1
    assert refused.stderr == 'error: forbidden: user "vic" cannot list roles in org "globex"\n'


# -- check ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "args", "code", "line"),
    [
        (
            "eddie",
            ["eddie", "apply", "agents", "--org", OWN],
            0,
            'allowed: user "eddie" is editor in org "acme", and apply needs editor',
        ),
        (
            "vic",
            ["vic", "delete", "agents", "--org", OWN],
            1,
            'denied: user "vic" is viewer in org "acme", but delete needs editor',
        ),
        (
            "nobody",
            ["nobody", "get", "agentinstances", "--org", OTHER],
            1,
            'denied: user "nobody" has no role in org "globex"; get needs viewer',
        ),
        (
            OWNER,
            ["ada", "store"],
            1,
            'denied: user "ada" has no role in every org; store needs admin',
        ),
        (
            OWNER,
            [OWNER, "migrate"],
            0,
            'allowed: user "alice" is the store owner, admin of every org, and migrate needs admin',
        ),
        (
            OWNER,
            [iam.CONTROLLER, "reconcile", "--org", OTHER],
            0,
            'allowed: user "stigmer-controller" is the controller, editor in every org, '
            "and reconcile needs editor",
        ),
    ],
)
def test_check_says_allowed_or_denied_and_why(
    world: Path, actor: str, args: list[str], code: int, line: str
) -> None:
    result = cli(world, actor, "iam", "check", *args)
    assert (result.exit_code, result.stdout) == (code, line + "\n")


def test_checking_someone_else_needs_viewer_of_the_org(world: Path) -> None:
    refused = cli(world, "nobody", "iam", "check", "vic", "get", "--org", OWN)
    assert refused.exit_code == 1
    assert refused.stderr == 'error: forbidden: user "nobody" cannot list roles in org "acme"\n'
    assert cli(world, "vic", "iam", "check", "eddie", "get", "--org", OWN).exit_code == 0


def test_check_refuses_unknown_verbs_and_kinds(world: Path) -> None:
    assert cli(world, OWNER, "iam", "check", "vic", "fly", "agents").exit_code == 2
    assert cli(world, OWNER, "iam", "check", "vic", "get", "widgets").exit_code == 2


# -- across orgs ----------------------------------------------------------------------


def test_all_orgs_shows_only_the_orgs_the_user_may_view(world: Path) -> None:
    with iam_client(world, OWNER) as c:
        c.apply([new_agent("local one", org="local")])
    result = cli(world, "vic", "get", "agents", "-A")
    assert result.exit_code == 0
    assert result.stderr == ""
    orgs = {line.split()[1] for line in result.stdout.splitlines()[1:]}
    assert orgs == {OWN}
    everything = cli(world, OWNER, "get", "agents", "-A")
    assert {line.split()[1] for line in everything.stdout.splitlines()[1:]} == {
        OWN,
        OTHER,
        "local",
    }
    hidden = cli(world, "nobody", "get", "agentinstances", "-A", "-o", "name")
    assert (hidden.exit_code, hidden.stdout, hidden.stderr) == (0, "", "No resources found\n")


def test_watching_all_orgs_shows_only_the_visible_ones(world: Path) -> None:
    with iam_client(world, OWNER) as c:
        start = c.store.revision()
        c.apply([new_agent("seen", org=OWN)])
        c.apply([new_agent("hidden", org=OTHER)])  # after the visible one in the feed
    stop = threading.Event()
    seen = []
    with iam_client(world, "vic") as c:
        for change in c.watch("agents", since=start, stop=stop):
            seen.append(change.object)
            stop.set()  # the rest of this batch still comes through: a leak would show
    assert [(o.metadata.org, o.metadata.slug) for o in seen] == [(OWN, "seen")]
