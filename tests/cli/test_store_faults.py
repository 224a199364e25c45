"""Filesystem faults under the store: a full disk and read-only media, through the CLI.

They need real mounts (tmpfs, a read-only bind mount): CI runs as root; elsewhere
they are skipped with the reason.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import Run

Mount = Callable[..., Path]


@pytest.fixture
def mount(tmp_path: Path) -> Iterator[Mount]:
    """``mount("-t", "tmpfs", "-o", "size=1m", "tmpfs")`` mounts at a fresh dir; unmounted after."""
    points: list[Path] = []

    def _mount(*args: str) -> Path:
        point = tmp_path / f"mnt{len(points)}"
        point.mkdir()
        done = subprocess.run(["mount", *args, str(point)], capture_output=True, text=True)
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
