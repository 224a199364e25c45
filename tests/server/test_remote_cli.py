"""The CLI's remote mode: every command through a real ``stigmer serve``, as locally."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from stigmer.cli.app import app
from stigmer.client import Client
from tests.cli.test_edit import Editor
from tests.cli.test_imports import loaded_at_exit
from tests.processes import ROOT, env_for, wait_until
from tests.rerunning import program
from tests.server.conftest import Server, make_token, start_server

EXAMPLES = str(ROOT / "manifests" / "examples")
INVALID = str(ROOT / "tests" / "testdata" / "invalid" / "agent-skill-ref-wrong-kind.yaml")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """serve on a store alice owns, holding the examples; a token per user."""
    data_dir = tmp_path_factory.mktemp("remote") / "data"
    with Client(data_dir, actor="alice") as c:
        c.apply_files([EXAMPLES])
    server = start_server(data_dir)
    yield server
    server.stop(signal.SIGKILL)


@pytest.fixture(scope="module")
def tokens(served: Server) -> dict[str, str]:
    return {u: make_token(served.data_dir, u) for u in ("alice", "bob")}


def cli(
    served: Server, *args: str, remote: str | None = None, user: str = "alice", **env: str
) -> Result:
    """``stigmer ARGS`` as ``user``: on the data dir, or with ``remote`` (a token) through
    the API."""
    full = {"STIGMER_DATA_DIR": str(served.data_dir), "STIGMER_USER": user, "STIGMER_ORG": "local"}
    if remote is not None:
        full |= {"STIGMER_SERVER": served.address, "STIGMER_TOKEN": remote}
    return CliRunner().invoke(app, list(args), env=full | env, catch_exceptions=False)


def outputs(result: Result) -> tuple[int, str, str]:
    return result.exit_code, result.stdout, result.stderr


READS = [
    ("get", "agents", "-o", "name"),
    ("get", "agentinstances", "-o", "yaml"),
    ("get", "agent", "code-reviewer", "-o", "json"),
    ("get", "agents", "-A", "-l", "team=platform", "-o", "name"),
    ("get", "agent", "code-reviewer", "--show-secrets", "-o", "yaml"),
    ("describe", "agent", "code-reviewer"),
    ("describe", "agentinstance", "support-agent-eu"),
    ("diff", "-f", EXAMPLES),
    ("apply", "--dry-run", "-f", EXAMPLES),
    ("get", "agent", "nope"),  # NOT_FOUND: exit 1
    ("iam", "list"),
    ("iam", "check", "bob", "apply"),  # denied: exit 1
    ("iam", "check", "bob", "fly"),  # a usage error on the server: exit 2
    ("wait", "agent", "code-reviewer", "--for=condition=Ready"),
    ("wait", "ai", "--all", "-A", "--timeout", "0"),
    ("wait", "agent", "code-reviewer", "nope", "--timeout", "0"),  # not met: exit 1
]


@pytest.mark.parametrize("args", READS, ids=[" ".join(a[:3]) for a in READS])
def test_a_read_prints_the_same_remotely_as_locally(
    served: Server, tokens: dict[str, str], args: tuple[str, ...]
) -> None:
    local = cli(served, *args)
    assert outputs(cli(served, *args, remote=tokens["alice"])) == outputs(local)


def _writes(served: Server, org: str, token: str | None) -> list[tuple[int, str, str]]:
    """apply, apply again, an invalid document, a diff, delete: what each printed."""
    manifest = served.data_dir.parent / f"probe-{org}.yaml"
    manifest.write_text(
        "apiVersion: agentic.stigmer.ai/v1\nkind: Agent\nmetadata:\n  name: Probe\n"
        "  labels: {probe: 'yes'}\nspec:\n  instructions: Probe things.\n"
    )
    steps = [
        ("apply", "-f", str(manifest)),
        ("apply", "-f", str(manifest), "-o", "name"),
        ("apply", "-f", INVALID),
        ("get", "agent", "probe", "-o", "jsonpath={.spec.instructions}"),
        ("delete", "agent", "probe"),
        ("delete", "agent", "probe"),
    ]
    found = []
    for step in steps:
        result = cli(served, "--org", org, *step, remote=token)
        found.append(outputs(result))
    return [(c, o.replace(org, "ORG"), e.replace(org, "ORG")) for c, o, e in found]


def test_writes_print_and_exit_the_same_remotely_as_locally(
    served: Server, tokens: dict[str, str]
) -> None:
    local = _writes(served, "local-writes", None)
    remote = _writes(served, "remote-writes", tokens["alice"])
    assert remote == local
    assert [code for code, _, _ in remote] == [0, 0, 1, 0, 0, 1]
    assert "skillRefs[0].kind" in remote[2][2]  # FILE:LINE:COL and the field path
    with Client(served.data_dir, actor="alice") as c:
        assert not c.list("agents", org="remote-writes")  # deleted through the API


def _more_writes(served: Server, org: str, token: str | None) -> list[tuple[int, str, str]]:
    """The agent shortcuts, delete -f and -l, apply --prune, and IAM, in one org."""
    labelled = served.data_dir.parent / f"labelled-{org}.yaml"
    labelled.write_text(
        "".join(
            f"---\napiVersion: agentic.stigmer.ai/v1\nkind: Agent\nmetadata:\n  name: L{i}\n"
            f"  labels: {{set: one}}\nspec:\n  instructions: Labelled agent {i}.\n"
            for i in range(3)
        )
    )
    kept = served.data_dir.parent / f"kept-{org}.yaml"
    kept.write_text(labelled.read_text().split("---\n")[1])
    steps = [
        ("agent", "create", "Shortcut", "--instructions", "Made by the shortcut."),
        ("agent", "create", "Shortcut", "--instructions", "Made by the shortcut."),
        ("agent", "get", "shortcut", "-o", "json"),
        ("agent", "delete", "shortcut"),
        ("apply", "-f", str(labelled)),
        ("apply", "-f", str(kept), "--prune", "-l", "set=one", "--dry-run"),
        ("apply", "-f", str(kept), "--prune", "-l", "set=one"),
        ("delete", "-f", str(kept), "--dry-run"),
        ("delete", "agents", "-l", "set=one"),
        ("delete", "agents", "-l", "set=one"),
        ("iam", "grant", "carol", "viewer"),
        ("iam", "grant", "carol", "viewer"),
        ("iam", "list", "--org", org),
        ("iam", "check", "carol", "get"),
        ("iam", "revoke", "carol", "viewer"),
        ("iam", "revoke", "carol", "viewer"),
    ]
    found = []
    for step in steps:
        code, out, err = outputs(cli(served, "--org", org, *step, remote=token))
        if "--prune" in step:  # objects made in one millisecond are pruned in any order
            out = "".join(sorted(out.splitlines(keepends=True)))
        found.append((code, out, err))
    return [(c, o.replace(org, "ORG"), e.replace(org, "ORG")) for c, o, e in found]


def test_shortcuts_prune_and_iam_are_the_same_remotely_as_locally(
    served: Server, tokens: dict[str, str]
) -> None:
    local = _more_writes(served, "lcl-more", None)
    remote = _more_writes(served, "rmt-more", tokens["alice"])  # as long: same widths
    for found in (local, remote):  # ids and times differ; what the user wrote must not
        obj = json.loads(found[2][1])
        found[2] = (found[2][0], json.dumps([obj["metadata"]["slug"], obj["spec"]]), found[2][2])
    assert remote == local
    assert [code for code, _, _ in remote] == [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]


def test_tokens_are_administered_through_the_api(served: Server, tokens: dict[str, str]) -> None:
    made = cli(served, "iam", "token", "create", "dave", "--ttl", "1h", remote=tokens["alice"])
    assert made.exit_code == 0 and made.stdout.startswith("stg_"), made.stderr
    listed = cli(served, "iam", "token", "list", "--user", "dave", remote=tokens["alice"])
    [row] = listed.stdout.splitlines()[1:]
    token_id = row.split()[0]
    assert row.split()[1] == "dave" and token_id in made.stdout
    dave = cli(served, "get", "agents", remote=made.stdout.strip())
    assert dave.exit_code == 1 and "forbidden" in dave.stderr  # a valid token, no role
    revoked = cli(served, "iam", "token", "revoke", token_id, remote=tokens["alice"])
    assert revoked.exit_code == 0, revoked.stderr
    after = cli(served, "get", "agents", remote=made.stdout.strip())
    assert after.exit_code == 1 and after.stderr.startswith("error: unauthenticated")
    by_bob = cli(served, "iam", "token", "list", remote=tokens["bob"])
    assert by_bob.exit_code == 1 and "forbidden" in by_bob.stderr


def test_a_forbidden_call_is_the_same_line_and_exit_code(
    served: Server, tokens: dict[str, str]
) -> None:
    local = cli(served, "get", "agents", user="bob")
    remote = cli(served, "get", "agents", remote=tokens["bob"])
    assert local.exit_code == remote.exit_code == 1
    assert remote.stderr == local.stderr and "bob" in remote.stderr


def test_a_missing_or_bad_token_is_one_clear_line(served: Server) -> None:
    missing = cli(served, "get", "agents", STIGMER_SERVER=served.address)
    assert missing.exit_code == 1
    assert missing.stderr.startswith("error: unauthenticated: the call has no token")
    assert missing.stderr.count("\n") == 1
    bad = cli(served, "get", "agents", remote="not-a-token")
    assert bad.exit_code == 1 and bad.stderr.startswith("error: unauthenticated")
    assert bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr


def test_a_token_file_authenticates(served: Server, tokens: dict[str, str]) -> None:
    path = served.data_dir.parent / "token"
    path.write_text(tokens["alice"] + "\n")
    result = cli(
        served,
        "--token-file",
        str(path),
        "get",
        "agents",
        "-o",
        "name",
        STIGMER_SERVER=served.address,
    )
    assert result.exit_code == 0, result.stderr
    assert "agent/code-reviewer" in result.stdout


def test_exported_token_file_and_ca_wait_for_a_server(
    served: Server, tokens: dict[str, str]
) -> None:
    """As STIGMER_TOKEN, the environment's token file and CA are ignored by local commands."""
    path = served.data_dir.parent / "exported-token"
    path.write_text(tokens["alice"] + "\n")
    local = cli(
        served, "get", "agents", "-o", "name", STIGMER_TOKEN_FILE=str(path), STIGMER_TLS_CA="/x"
    )
    assert local.exit_code == 0, local.stderr
    assert "agent/code-reviewer" in local.stdout
    remote = cli(
        served,
        "get",
        "agents",
        "-o",
        "name",
        STIGMER_SERVER=served.address,
        STIGMER_TOKEN_FILE=str(path),
    )
    assert remote.exit_code == 0, remote.stderr  # with a server, the exported file is the token
    assert "agent/code-reviewer" in remote.stdout


@pytest.mark.parametrize("flag", ["--token-file", "--tls-ca"])
def test_a_typed_token_file_or_ca_without_a_server_is_a_usage_error(
    served: Server, flag: str
) -> None:
    path = served.data_dir.parent / "typed-token"
    path.write_text("stg_x.y\n")
    result = cli(served, flag, str(path), "get", "agents")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == "error: --token-file and --tls-ca go with --server\n"


def test_edit_works_through_the_api_as_the_tokens_user(
    served: Server, tokens: dict[str, str], tmp_path: Path
) -> None:
    editor = Editor(tmp_path)
    env = editor.env(("team: platform", "team: remote-edit"))
    done = cli(served, "edit", "agent", "code-reviewer", remote=tokens["alice"], **env)
    assert (done.exit_code, done.stdout) == (0, "agent/code-reviewer edited\n"), done.stderr
    with Client(served.data_dir, actor="alice") as local:
        assert local.get("agent", "code-reviewer").metadata.labels["team"] == "remote-edit"
        local.relabel("agent", "code-reviewer", {"team": "platform"}, overwrite=True)  # as it was
    refused = cli(served, "edit", "agent", "code-reviewer", remote=tokens["bob"], **env)
    assert refused.exit_code == 1  # bob has no role: refused before the editor opens
    assert refused.stderr.startswith('error: forbidden: user "bob" cannot')


def test_a_server_that_is_not_there_is_one_clear_line(served: Server) -> None:
    result = cli(served, "--server", "127.0.0.1:1", "get", "agents", remote="x")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot reach the API server at 127.0.0.1:1")


@pytest.mark.parametrize(
    "args",
    [
        ("store", "check"),
        ("migrate", "copy", "--to", "lmdb:/nonexistent/copy"),
        ("migrate", "from-sqlite", "/nonexistent/stigmer.db"),
        ("serve",),
    ],
)
def test_commands_that_need_a_local_store_say_so(
    served: Server, tokens: dict[str, str], args: tuple[str, ...]
) -> None:
    result = cli(served, *args, remote=tokens["alice"])
    assert result.exit_code == 2
    assert result.stderr == (
        "error: this command needs a local store (--data-dir or --store): "
        "it does not work with --server\n"
    )


def test_get_watch_through_the_api_sees_another_process_apply(
    served: Server, tokens: dict[str, str]
) -> None:
    env = env_for(served.data_dir) | {
        "STIGMER_SERVER": served.address,
        "STIGMER_TOKEN": tokens["alice"],
    }
    watcher = subprocess.Popen(
        [*program(), "get", "agents", "--org", "watched", "-w", "-o", "name"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        manifest = served.data_dir.parent / "watched.yaml"
        manifest.write_text(
            "apiVersion: agentic.stigmer.ai/v1\nkind: Agent\nmetadata:\n  name: Watched\n"
            "  org: watched\nspec:\n  instructions: Be watched.\n"
        )
        # the watcher lists an empty org first ("No resources found" on stderr)
        assert watcher.stderr is not None and "No resources" in watcher.stderr.readline()
        applied = subprocess.run(
            [*program(), "apply", "-f", str(manifest)],
            env=env_for(served.data_dir),
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        assert applied.returncode == 0, applied.stderr
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(watcher.stdout or ()), daemon=True)
        reader.start()
        wait_until(lambda: lines, what="the watched apply", proc=watcher)
        assert lines[0] == "agent/watched\n"
    finally:
        watcher.kill()
        watcher.communicate(timeout=30)


def test_a_command_without_server_never_imports_grpc(served: Server) -> None:
    out, loaded = loaded_at_exit(
        "--user", "alice", "get", "agents", "-o", "name", data_dir=served.data_dir
    )
    assert "agent/code-reviewer" in out
    assert not {m for m in loaded if m.split(".")[0] in ("grpc", "grpc_health")}
    assert "stigmer.remote.client" not in loaded


def _self_signed(where: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made by openssl."""
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        capture_output=True,
        check=True,
    )
    return cert, key


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")
def test_tls_is_verified_with_the_ca_given(owned: Path) -> None:
    cert, key = _self_signed(owned.parent)
    with Client(owned, actor="alice") as c:
        c.apply_files([EXAMPLES])
    served = start_server(owned, "--tls-cert", str(cert), "--tls-key", str(key))
    try:
        token = make_token(owned, "alice")
        port = served.address.rpartition(":")[2]
        for server in (f"https://127.0.0.1:{port}", f"127.0.0.1:{port}"):  # a CA implies TLS
            ok = cli(
                served,
                "--tls-ca",
                str(cert),
                "--server",
                server,
                "get",
                "agents",
                "-o",
                "name",
                remote=token,
            )
            assert ok.exit_code == 0, ok.stderr
            assert "agent/code-reviewer" in ok.stdout
        # the system roots do not know a self-signed certificate: one line, no traceback
        refused = cli(
            served, "--server", f"grpcs://127.0.0.1:{port}", "get", "agents", remote=token
        )
        assert refused.exit_code == 1
        assert refused.stderr.startswith("error: cannot reach the API server at 127.0.0.1:")
        assert refused.stderr.count("\n") == 1
    finally:
        served.stop(signal.SIGKILL)
