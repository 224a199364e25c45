"""An etcd store's URL and options: endpoints, prefix, TLS files and user."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from stigmer.cli.app import app
from stigmer.errors import UsageError
from stigmer.store import etcdstore
from stigmer.store.etcdclient import Tls


def test_endpoints_and_prefix_come_from_the_url() -> None:
    assert etcdstore.parse_url("//10.0.0.1:2379,10.0.0.2:2379/team/a") == (
        ["10.0.0.1:2379", "10.0.0.2:2379"],
        "/team/a",
        {},
    )
    assert etcdstore.parse_url("//etcd:2379") == (["etcd:2379"], "/stigmer", {})


@pytest.mark.parametrize("rest", ["/etcd:2379", "//", "//etcd", "//etcd:2379,other"])
def test_a_malformed_url_is_a_usage_error_naming_the_form(rest: str) -> None:
    with pytest.raises(UsageError, match=r"etcd://HOST:PORT|HOST:PORT"):
        etcdstore.parse_url(rest)


def test_tls_and_user_come_from_the_query_else_from_the_cli_options(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("CA", "CERT", "KEY", "USER", "PASSWORD"):  # restored after the test
        monkeypatch.setenv(f"STIGMER_ETCD_{name}", "")
        monkeypatch.delenv(f"STIGMER_ETCD_{name}")
    # The CLI's global options export what the backend reads; run one that opens no store.
    result = CliRunner().invoke(
        app,
        ["--etcd-ca", "/ca.pem", "--etcd-user", "ops", "explain", "agent"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    monkeypatch.setenv("STIGMER_ETCD_PASSWORD", "s3cret")
    _, _, options = etcdstore.parse_url("//etcd:2379/p?cert=/c.pem&key=/k.pem")
    assert etcdstore._tls(options) == Tls(
        ca="/ca.pem", cert="/c.pem", key="/k.pem", user="ops", password="s3cret"
    )


def test_the_cli_refuses_a_malformed_etcd_url_in_one_line(tmp_path: object) -> None:
    result = CliRunner().invoke(app, ["--store", "etcd://nowhere", "get", "agents"])
    assert result.exit_code != 0
    assert "every endpoint needs HOST:PORT" in result.output
    assert "Traceback" not in result.output


def test_a_missing_tls_file_is_one_line_naming_its_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STIGMER_ETCD_CA", "")  # the option exports it: restored after the test
    result = CliRunner().invoke(
        app,
        ["--store", "etcd://127.0.0.1:1/p", "--etcd-ca", str(tmp_path / "none.pem"), "get", "ag"],
    )
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"error: cannot read --etcd-ca {tmp_path / 'none.pem'}: No such file or directory"
    ]
