"""Usage errors, pipes, help and output polish, as a user meets them."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from stigmer.cli.app import build
from tests.cli.conftest import EXAMPLES, Run
from tests.processes import ROOT, env_for, read_line, start, stigmer, wait_until


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("serve", "--workers", "0"), "error: --workers must be at least 1, not 0\n"),
        (
            ("serve", "--health-port", "99999"),
            "error: --health-port must be a port from 0 to 65535, not 99999\n",
        ),
        (
            ("serve", "--retention", "3w"),
            'error: retention "3w" is neither a count of events (100000) '
            "nor an age (90s, 30m, 12h, 7d) above zero\n",
        ),
        (("get", "agents", "--bogus"), "error: No such option: --bogus"),
        (("--bogus", "get", "agents"), "error: No such option: --bogus"),
        (("frobnicate",), "error: No such command 'frobnicate'."),
    ],
)
def test_usage_errors_exit_2_with_one_line(run: Run, args: tuple[str, ...], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1, result.stderr


def test_a_closed_pipe_ends_quietly(data_dir: Path) -> None:
    """``stigmer get ... | head -1``: the reader is gone before stigmer writes."""
    assert stigmer("apply", "-f", str(EXAMPLES), data_dir=data_dir).returncode == 0
    for args in (
        ("get", "agents", "-A", "-o", "yaml"),
        ("get", "ai"),
        ("describe", "ag/support-agent"),
    ):
        with subprocess.Popen(
            [sys.executable, "-m", "stigmer", *args],
            env=env_for(data_dir),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        ) as proc:
            assert proc.stdout is not None and proc.stderr is not None
            proc.stdout.close()
            err = proc.stderr.read()
            assert proc.wait(timeout=60) in (0, 141, -signal.SIGPIPE), args
        assert err == b"", err


def test_a_pipe_into_head_is_quiet(data_dir: Path, tmp_path: Path) -> None:
    """More output than a default (64 KiB) pipe holds: head exits while stigmer writes.

    Where pipes hold more, stigmer finishes first and exits 0; the test above
    closes the pipe before stigmer writes, which fails the same way everywhere.
    """
    big = tmp_path / "big.yaml"
    lines = "".join(f"    Line {n} of a long system prompt for the bot.\n" for n in range(6000))
    big.write_text(
        "apiVersion: agentic.stigmer.ai/v1\nkind: Agent\nmetadata:\n  name: Big\n"
        f"spec:\n  instructions: |\n{lines}"
    )
    assert len(lines) > 4 * 65536
    assert stigmer("apply", "-f", str(big), data_dir=data_dir).returncode == 0
    command = f"{sys.executable} -m stigmer get agent big -o yaml | head -1"
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        env=env_for(data_dir),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode in (0, 141)
    assert (done.stdout, done.stderr) == ("apiVersion: agentic.stigmer.ai/v1\n", "")


def test_sync_watch_on_a_missing_directory_names_it(tmp_path: Path, data_dir: Path) -> None:
    missing = tmp_path / "no-such-dir"
    for extra in ((), ("--watch",)):
        done = stigmer("sync", str(missing), *extra, data_dir=data_dir)
        assert done.returncode == 1
        assert str(missing) in done.stderr and "missing or not a directory" in done.stderr


def test_sync_help_shows_what_users_type(run: Run) -> None:
    text = run("sync", "--help").stdout
    usage = next(line for line in text.splitlines() if "Usage:" in line)
    assert "stigmer sync [OPTIONS]" in usage and "DIR" in usage
    for expected in ("--watch", "--prune", "--resync", "stigmer sync status DIR"):
        assert expected in text, expected
    assert " run " not in text and "Commands" not in text


def _command_paths() -> list[tuple[str, ...]]:
    """Every command and group of the CLI, as the words that name it."""
    paths: list[tuple[str, ...]] = [()]
    root = build()
    import typer.main

    group = typer.main.get_command(root)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        paths.append((name,))
        for sub, cmd in getattr(command, "commands", {}).items():
            if not cmd.hidden:
                paths.append((name, sub))
    return paths


@pytest.mark.parametrize("path", _command_paths(), ids=lambda p: " ".join(p) or "stigmer")
def test_every_help_ends_with_examples(run: Run, path: tuple[str, ...]) -> None:
    text = run(*path, "--help").stdout
    tail = text[text.rindex("Examples:") :]
    commands = [line.strip() for line in tail.splitlines() if line.strip().startswith("stigmer ")]
    comments = [line.strip() for line in tail.splitlines() if line.strip().startswith("# ")]
    assert 2 <= len(commands) <= 3 and len(comments) == len(commands), tail


def test_watch_rows_line_up_with_the_header(data_dir: Path) -> None:
    assert (
        stigmer("apply", "-f", str(EXAMPLES / "acme-analyst.yaml"), data_dir=data_dir).returncode
        == 0
    )
    watcher = start("get", "agents", "-w", "--org", "local", data_dir=data_dir)
    try:
        header = read_line(watcher)
        assert header.split() == ["NAME", "ORG", "DEFAULT-INSTANCE", "READY", "AGE", "EVENT"]
        wait_until(
            lambda: (
                stigmer(
                    "apply", "-f", str(EXAMPLES / "support-agent.yaml"), data_dir=data_dir
                ).returncode
                == 0
            )
        )
        row = read_line(watcher)
        cells = row.split()
        assert cells[0] == "support-agent" and cells[-1] in ("created", "updated")
        for title, cell in zip(header.split(), cells, strict=True):
            assert header.index(title) == row.index(cell, header.index(title)), (header, row)
    finally:
        watcher.send_signal(signal.SIGINT)
        watcher.wait(timeout=20)
        watcher.communicate()


def test_describe_shortens_long_text(run: Run, tmp_path: Path) -> None:
    instructions = "\n".join(f"    Rule {n}: be helpful in the {n}th way." for n in range(1, 21))
    f = tmp_path / "long.yaml"
    f.write_text(
        "apiVersion: agentic.stigmer.ai/v1\nkind: Agent\nmetadata:\n  name: Long\n"
        f"spec:\n  description: {'word ' * 60}\n  instructions: |\n{instructions}\n"
    )
    assert run("apply", "-f", str(f)).exit_code == 0
    text = run("describe", "agent", "long").stdout
    assert "Rule 3:" in text and "Rule 4:" not in text
    assert (
        "(17 more lines; see the whole text with stigmer get agent long --org local -o yaml)"
        in text
    )
    assert max(len(line) for line in text.splitlines() if "word" in line) < 130
    assert "Rule 20:" in run("get", "agent", "long", "-o", "yaml").stdout


def test_kind_names_are_the_same_everywhere(applied: Run, tmp_path: Path) -> None:
    outputs = [
        applied("store", "stats").stdout,
        applied("get", "ai", "-o", "name").stdout,
        applied("describe", "agent", "support-agent").stdout,
    ]
    assert "agentinstance: 4" in outputs[0]
    assert all("agent_instance" not in text for text in outputs)
