"""Tokens seen before are not hashed again, yet a revoked or expired one is refused at once."""

from __future__ import annotations

import time
from pathlib import Path

import grpc
import pytest

from stigmer.api.v1.agent_service_pb2 import AgentId
from stigmer.client import Client
from stigmer.server.auth import Authenticator
from stigmer.tokens import Unauthenticated
from tests.processes import wait_until
from tests.server.conftest import Server, Stubs, bearer, code_of, make_token


def test_a_revoked_token_is_refused_at_the_next_call_after_being_remembered(
    owned: Path,
) -> None:
    token = make_token(owned, "bob")
    with Client(owned, actor="alice") as client:
        auth = Authenticator(client, None)
        assert auth.user(bearer(token)) == "bob"
        assert auth.user(bearer(token)) == "bob"  # from memory: the record is unchanged
        client.revoke_tokens([token.removeprefix("stg_").split(".")[0]])
        with pytest.raises(Unauthenticated, match="was revoked"):
            auth.user(bearer(token))


def test_a_remembered_token_is_refused_once_it_expires(owned: Path) -> None:
    token = make_token(owned, "bob", ttl=60)
    now = [time.time()]
    with Client(owned, actor="alice") as client:
        auth = Authenticator(client, None, clock=lambda: now[0])
        assert auth.user(bearer(token)) == "bob"
        now[0] += 61
        with pytest.raises(Unauthenticated, match="has expired"):
            auth.user(bearer(token))


def test_a_wrong_secret_for_a_remembered_id_is_refused(owned: Path) -> None:
    token = make_token(owned, "bob")
    with Client(owned, actor="alice") as client:
        auth = Authenticator(client, None)
        assert auth.user(bearer(token)) == "bob"
        forged = token.split(".")[0] + ".notthesecretnotthesecretnotthesecret"
        with pytest.raises(Unauthenticated, match="not valid"):
            auth.user(bearer(forged))


def test_a_get_served_on_the_event_loop_still_records_the_tokens_use(
    server: Server, stubs: Stubs
) -> None:
    token = make_token(server.data_dir, "alice")
    query = stubs.agent.AgentQueryControllerStub(server.channel())
    missing = code_of(lambda: query.get(AgentId(value="agt-nothing"), metadata=bearer(token)))
    assert missing[0] == grpc.StatusCode.NOT_FOUND  # authenticated, then not found

    def recorded() -> bool:
        with Client(server.data_dir, actor="alice") as c:
            return c.tokens()[0].last_used is not None

    wait_until(recorded, what="the token's last use to be recorded")
