"""Filesystem faults under the store: a full disk and read-only media, through the CLI.

They need real mounts (tmpfs, a read-only bind mount): CI runs as root; elsewhere
they are skipped with the reason.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import EXAMPLES, Run

Mount = Callable[..., Path]


@pytest.fixture
def mount(tmp_path: Path) -> Iterator[Mount]:
    """``mount("-t", "tmpfs", "-o", "size=1m", "tmpfs")`` mounts at a fresh dir; unmounted after."""
    points: list[Path] = []

    def _mount(*args: str) -> Path:
        point = tmp_path / f"mnt{len(points)}"
        point.mkdir()
        done = subprocess.run(
            ["mount", *args, str(point)], check=False, capture_output=True, text=True
        )
        if done.returncode:
            pytest.skip(f"cannot mount here (needs root): {done.stderr.strip()}")
        points.append(point)
        return point

    yield _mount
    for point in reversed(points):
        subprocess.run(["umount", "-l", str(point)], check=False)


def _many_agents(tmp_path: Path, n: int, size: int) -> Path:
    doc = (
        "apiVersion: agentic.stigmer.ai/v1\nkind: Agent\nmetadata:\n  name: bot-{n}\n"
        'spec:\n  instructions: "{text}"\n'
    )
    f = tmp_path / "many.yaml"
    f.write_text("---\n".join(doc.format(n=i, text="x" * size) for i in range(n)))
    return f


def test_a_full_disk_is_the_stores_own_error_and_the_store_stays_consistent(
    run: Run, mount: Mount, tmp_path: Path
) -> None:
    # LMDB sees it as EIO at commit (SQLite's SQLITE_FULL is tested in tests/store).
    disk = mount("-t", "tmpfs", "-o", "size=1m", "tmpfs")
    where = ("--data-dir", str(disk / "d"))
    result = run(*where, "apply", "-f", str(_many_agents(tmp_path, 150, 10_000)))
    assert result.exit_code == 1
    errors = set(result.stderr.splitlines())
    assert len(errors) == 1
    (line,) = errors
    assert line.startswith("error: store ") and "disk full or failing" in line
    assert "internal error" not in result.stderr
    check = run(*where, "store", "check")
    assert check.exit_code == 0, check.stdout


@pytest.mark.parametrize("backend", ["lmdb", "sqlite"])
def test_reads_work_on_read_only_media_and_a_write_fails_with_one_line(
    run: Run, mount: Mount, tmp_path: Path, backend: str
) -> None:
    source = tmp_path / "source"
    source.mkdir()
    at = {"lmdb": ("--data-dir", "d"), "sqlite": ("--store", "sqlite:")}[backend]
    name = "d" if backend == "lmdb" else "s.db"

    def where(root: Path) -> tuple[str, str]:
        return (at[0], f"{at[1]}{root / name}" if backend == "sqlite" else str(root / name))

    assert run(*where(source), "apply", "-f", str(EXAMPLES)).exit_code == 0
    media = mount("--bind", "-o", "ro", str(source))
    for args in (
        ("get", "agents", "-A"),
        ("describe", "agent", "support-agent"),
        ("iam", "list"),
        ("store", "check"),
        ("store", "stats"),
    ):
        result = run(*where(media), *args)
        assert result.exit_code == 0, (args, result.stderr)
    wrote = run(*where(media), "apply", "-f", str(EXAMPLES / "acme-analyst.yaml"))
    assert wrote.exit_code == 1
    assert wrote.stderr.endswith("is on read-only media: reads work, writes cannot\n")
    assert wrote.stderr.count("\n") == 1
