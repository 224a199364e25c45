"""Every key component has a maximum, checked before any store sees it, on every backend.

And characters that forge output (controls, bidi overrides) are refused in
names, keys and users, and escaped where free text is printed.
Issue 12 items 2 and 7.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from stigmer.api import naming
from stigmer.api.v1.agent_pb2 import Agent
from stigmer.cli.app import app
from stigmer.client import Client

AGENT = """apiVersion: agentic.stigmer.ai/v1
kind: Agent
metadata:
  name: {name}
spec:
  instructions: You answer questions politely.
"""
LONG = "n" * 600


def stigmer(store: str, *args: str) -> Result:
    env = {
        "STIGMER_STORE": store,
        "STIGMER_USER": "alice",
        "STIGMER_ORG": "",
        "STIGMER_DATA_DIR": "",
    }
    return CliRunner().invoke(app, list(args), env=env)


@pytest.fixture(params=["lmdb", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return f"lmdb:{tmp_path / 'data'}" if request.param == "lmdb" else f"sqlite:{tmp_path / 's.db'}"


def slugs(store: str) -> list[str]:
    with Client(store, actor="alice") as c:
        return sorted(o.metadata.slug for o in c.list("agents"))


def test_an_oversize_name_fails_alone_and_the_others_apply(store: str, tmp_path: Path) -> None:
    docs = [AGENT.format(name=f"bot-{i}") for i in range(10)]
    docs.insert(5, AGENT.format(name=LONG))
    manifest = tmp_path / "batch.yaml"
    manifest.write_text("---\n".join(docs))
    result = stigmer(store, "apply", "-f", str(manifest))
    assert result.exit_code == 1
    assert result.stderr == f"{manifest}:39:3: metadata.name: must be at most 253 characters\n"
    assert slugs(store) == sorted(f"bot-{i}" for i in range(10))


@pytest.mark.parametrize(
    ("metadata", "line"),
    [
        (
            f"name: Bot\n  slug: {'s' * 100_000}",
            "5:3: metadata.slug: must be at most 63 characters",
        ),
        (
            f"name: {'n' * 64}",
            "4:3: metadata.name: yields a slug of 64 characters, above the limit of 63 "
            "(a DNS label); set a shorter metadata.slug",
        ),
    ],
    ids=["slug", "derived-slug"],
)
def test_a_key_above_its_limit_is_refused_on_every_backend(
    store: str, tmp_path: Path, metadata: str, line: str
) -> None:
    manifest = tmp_path / "bad.yaml"
    manifest.write_text(AGENT.replace("name: {name}", metadata))
    result = stigmer(store, "apply", "-f", str(manifest))
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr.startswith(f"{manifest}:{line}")
    assert len(result.stderr.splitlines()) == 1
    assert slugs(store) == []


def test_agent_create_checks_the_name_too(store: str) -> None:
    result = stigmer(store, "agent", "create", LONG, "--instructions", "You answer questions.")
    assert result.exit_code == 1
    assert "metadata.name: must be at most 253 characters" in result.stderr
    assert slugs(store) == []


@pytest.mark.parametrize(
    ("user", "message"),
    [
        ("u" * 254, "error: user name of 254 characters: the limit is 253\n"),
        (
            "bob\u202e",
            "error: user name must not contain control characters or bidi overrides "
            "(U+202E at character 4)\n",
        ),
    ],
    ids=["long", "bidi"],
)
def test_a_bad_user_is_refused_before_the_store_sees_it(
    store: str, user: str, message: str
) -> None:
    granted = stigmer(store, "iam", "grant", user, "viewer", "--org", "acme")
    assert (granted.exit_code, granted.stderr) == (2, message)
    acting = stigmer(store, "--user", user, "get", "agents")
    assert (acting.exit_code, acting.stderr) == (2, message)
    listed = stigmer(store, "iam", "list", "-A")
    assert user not in listed.output


def test_a_stored_control_character_cannot_forge_a_table_row(tmp_path: Path) -> None:
    """An object stored before keys were checked: its newline prints escaped, on one row."""
    store = f"lmdb:{tmp_path / 'data'}"
    agent = Agent(api_version="agentic.stigmer.ai/v1", kind="Agent")
    md = agent.metadata
    md.name, md.slug, md.org, md.id = "Bot\x08\x07", "bot", "local", naming.new_id("agt")
    md.labels["x\nfake   local   <none>   True"] = "v"
    agent.spec.instructions = "Be kind.\x00\x07\x08 Always.\u202eevil"
    with Client(store, actor="alice") as c:
        c.store.transact(lambda txn: txn.put(agent, expected_version=0))
    wide = stigmer(store, "get", "agents", "-o", "wide")
    assert wide.exit_code == 0, wide.output
    assert len(wide.stdout.splitlines()) == 2  # the header and one row
    assert "x\\nfake" in wide.stdout
    described = stigmer(store, "describe", "agent", "bot")
    assert described.exit_code == 0, described.output
    assert "Bot\\x08\\x07" in described.stdout
    assert "Be kind.\\x00\\x07\\x08 Always.\\u202eevil" in described.stdout
    for char in "\x00\x07\x08\u202e":
        assert char not in wide.stdout + described.stdout


FORGED = "bot\nerror: forged"


@pytest.fixture
def with_bot(store: str, tmp_path: Path) -> str:
    """The store, holding one agent "bot"."""
    manifest = tmp_path / "bot.yaml"
    manifest.write_text(AGENT.format(name="bot"))
    assert stigmer(store, "apply", "-f", str(manifest)).exit_code == 0
    return store


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("get", "agent", FORGED),
            "error: agent name must not contain control characters or bidi overrides "
            "(U+000A at character 4)\n",
        ),
        (
            ("describe", "agent", "bot\x1b[31mred"),
            "error: agent name must not contain control characters or bidi overrides "
            "(U+001B at character 4)\n",
        ),
        (
            ("delete", "agent", "bot\u202e"),
            "error: agent name must not contain control characters or bidi overrides "
            "(U+202E at character 4)\n",
        ),
        (("get", "agent", LONG), "error: agent name of 600 characters: the limit is 253\n"),
        (
            ("get", "agent", "bot", "--org", "acme\nerror: forged"),
            "error: org must not contain control characters or bidi overrides "
            "(U+000A at character 5)\n",
        ),
        (
            ("get", "agents", "--org", "Acme"),
            'error: "Acme" is not a valid org: use lowercase letters, digits and "-"\n',
        ),
        (
            ("iam", "grant", "bob", "viewer", "--org", "acme\u202e"),
            "error: org must not contain control characters or bidi overrides "
            "(U+202E at character 5)\n",
        ),
    ],
    ids=[
        "get-newline",
        "describe-escape",
        "delete-bidi",
        "get-long",
        "org-newline",
        "org-case",
        "grant-org-bidi",
    ],
)
def test_a_name_or_org_typed_on_the_command_line_is_checked_before_the_store_sees_it(
    with_bot: str, args: tuple[str, ...], message: str
) -> None:
    """Not echoed into a "not found" line, where a newline forged a second error."""
    result = stigmer(with_bot, *args)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", message)
    assert slugs(with_bot) == ["bot"]


def test_the_sdk_checks_names_and_orgs_before_the_store_sees_them(tmp_path: Path) -> None:
    from stigmer.errors import UsageError

    with Client(f"lmdb:{tmp_path / 'data'}", actor="alice") as c:
        for call in (
            lambda: c.get("agent", FORGED),
            lambda: c.get_by_id("agent", "agt-\x00"),
            lambda: c.delete("agent", ""),
            lambda: c.list("agents", org="-acme"),
        ):
            with pytest.raises(UsageError):
                call()
    with pytest.raises(UsageError, match="not a valid org"):
        Client(f"lmdb:{tmp_path / 'data'}", actor="alice", org="Acme")


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("get", "agentz\nerror: forged"), 2),
        (("get", "agents", "-l", "a=b\nerror: forged"), 2),
        (("get", "agents", "-o", "yaml\nerror: forged"), 2),
        (("iam", "grant", "bob", "viewer\nerror: forged"), 2),
        (("iam", "token", "revoke", "tok\nerror: forged"), 1),
        (("get", "agents", "--bogus\nerror: forged"), 2),
        (("apply", "-f", "/no/such\nerror: forged"), 1),
    ],
    ids=["kind", "selector", "output", "role", "token", "option", "file"],
)
def test_an_error_quoting_what_it_was_given_stays_one_line(
    with_bot: str, args: tuple[str, ...], code: int
) -> None:
    """The message quotes the argument; its newline prints escaped, not as a forged error."""
    result = stigmer(with_bot, *args)
    assert result.exit_code == code
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert "error: forged" in result.stderr  # escaped within the one line
