"""Bearer tokens: made by the CLI, checked on every call, revoked at once."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import grpc
from typer.testing import CliRunner

from stigmer.api.v1.agent_service_pb2 import AgentId
from stigmer.cli.app import app
from stigmer.client import Client
from tests.processes import stigmer
from tests.server.conftest import (
    Server,
    Stubs,
    bearer,
    code_of,
    make_token,
    new_agent,
    start_server,
)


def cli(data_dir: Path, *args: str, user: str = "alice") -> tuple[int, str, str]:
    env = {"STIGMER_DATA_DIR": str(data_dir), "STIGMER_USER": user, "STIGMER_ORG": ""}
    done = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    return done.exit_code, done.stdout, done.stderr


def test_token_create_prints_the_token_alone_and_stores_only_a_hash(owned: Path) -> None:
    code, out, _ = cli(owned, "iam", "token", "create", "bob", "--ttl", "90d")
    assert code == 0
    token = out.strip()
    assert out == token + "\n" and token.startswith("stg_")
    secret = token.split(".", 1)[1]
    for f in owned.iterdir():  # the store keeps no copy of the secret
        assert secret.encode() not in f.read_bytes()
    with Client(owned, actor="alice") as c:
        assert c.authenticate(token).user == "bob"


def test_token_list_shows_ids_never_tokens_and_revoke_removes(owned: Path) -> None:
    bob = cli(owned, "iam", "token", "create", "bob")[1].strip()
    cli(owned, "iam", "token", "create", "carol")
    code, out, _ = cli(owned, "iam", "token", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "USER", "CREATED", "EXPIRES", "LAST-USED"]
    assert [line.split()[1] for line in lines[1:]] == ["bob", "carol"]
    assert bob not in out and bob.split(".")[1] not in out
    bob_id = bob.removeprefix("stg_").split(".")[0]
    assert lines[1].split()[0] == bob_id
    only_bob = cli(owned, "iam", "token", "list", "--user", "bob")[1]
    assert len(only_bob.splitlines()) == 2
    assert cli(owned, "iam", "token", "revoke", bob_id) == (0, f"token {bob_id} revoked\n", "")
    assert "bob" not in cli(owned, "iam", "token", "list")[1]
    code, _, err = cli(owned, "iam", "token", "revoke", bob_id)
    assert code == 1 and err.startswith(f'error: token "{bob_id}" not found')


def test_only_an_admin_of_every_org_manages_tokens(owned: Path) -> None:
    with Client(owned, actor="alice") as c:
        c.grant("bob", "admin", org="local")
    code, out, err = cli(owned, "iam", "token", "create", "bob", user="bob")
    assert code == 1 and out == ""
    assert (
        err == 'error: forbidden: user "bob" cannot run store tokens: it needs admin of every org\n'
    )


def test_a_bad_ttl_is_a_usage_error(owned: Path) -> None:
    code, _, err = cli(owned, "iam", "token", "create", "bob", "--ttl", "soon")
    assert code == 2
    assert '--ttl "soon" is not a duration' in err


def test_calls_without_a_valid_token_are_unauthenticated(server: Server, stubs: Stubs) -> None:
    query = stubs.agent.AgentQueryControllerStub(server.channel())
    ask = AgentId(value="agt-x")
    missing = code_of(lambda: query.get(ask))
    assert missing[0] == grpc.StatusCode.UNAUTHENTICATED and "no token" in missing[1]
    wrong = "stg_0123456789abcdef.notthesecretnotthesecretnotthesecret"
    bad = code_of(lambda: query.get(ask, metadata=bearer(wrong)))
    assert bad == (grpc.StatusCode.UNAUTHENTICATED, "unauthenticated: the token is not valid")
    assert wrong not in bad[1]
    not_bearer = code_of(lambda: query.get(ask, metadata=(("authorization", "Basic abc"),)))
    assert not_bearer[0] == grpc.StatusCode.UNAUTHENTICATED
    expired = make_token(server.data_dir, "alice", created=time.time() - 120, ttl=60)
    code, details = code_of(lambda: query.get(ask, metadata=bearer(expired)))
    assert code == grpc.StatusCode.UNAUTHENTICATED and details.endswith("has expired")


def test_a_revoked_token_is_refused_at_its_next_call(server: Server, stubs: Stubs) -> None:
    token = make_token(server.data_dir, "alice")
    cmd = stubs.agent.AgentCommandControllerStub(server.channel())
    cmd.apply(new_agent("Pirate"), metadata=bearer(token))
    token_id = token.removeprefix("stg_").split(".")[0]
    with Client(server.data_dir, actor="alice") as c:
        assert c.tokens()[0].last_used is not None  # the server recorded its use
        c.revoke_tokens([token_id])
    code, details = code_of(lambda: cmd.apply(new_agent("Parrot"), metadata=bearer(token)))
    assert code == grpc.StatusCode.UNAUTHENTICATED and details.endswith("was revoked")


def test_an_anonymous_user_serves_tokenless_calls_under_its_roles(
    owned: Path, stubs: Stubs
) -> None:
    with Client(owned, actor="alice") as c:
        c.grant("guest", "viewer", org="local")
        c.apply([new_agent("Pirate")])
    server = start_server(owned, "--anonymous-user", "guest")
    try:
        channel = server.channel()
        query = stubs.agent.AgentQueryControllerStub(channel)
        from stigmer.api.v1.commons_pb2 import ApiResourceReference

        found = query.getByReference(ApiResourceReference(org="local", slug="pirate"))
        assert found.metadata.slug == "pirate"
        cmd = stubs.agent.AgentCommandControllerStub(channel)
        code, details = code_of(lambda: cmd.apply(new_agent("Parrot")))
        assert code == grpc.StatusCode.PERMISSION_DENIED
        assert details == 'forbidden: user "guest" cannot apply agents in org "local"'
        # a token still names its own user
        made = cmd.apply(new_agent("Parrot"), metadata=bearer(make_token(owned, "alice")))
        assert made.metadata.slug == "parrot"
    finally:
        server.stop(signal.SIGKILL)


def test_the_controller_gets_no_token_and_is_no_anonymous_user(owned: Path) -> None:
    code, out, err = cli(owned, "iam", "token", "create", "stigmer-controller")
    assert (code, out) == (2, "")
    assert err == 'error: user "stigmer-controller" is the built-in controller; it gets no token\n'
    done = stigmer(
        "serve", "--listen", "127.0.0.1:0", "--anonymous-user", "stigmer-controller", data_dir=owned
    )
    assert done.returncode == 2
    assert "--anonymous-user cannot be" in done.stderr
