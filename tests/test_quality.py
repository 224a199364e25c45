"""The one check command runs these too: lint, strict types, and the layer rules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CHECKED = ("stigmer", "tests", "tools", "bench")


def run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


def test_ruff_lint_is_clean() -> None:
    result = run(str(BIN / "ruff"), "check", *CHECKED)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean() -> None:
    result = run(str(BIN / "ruff"), "format", "--check", *CHECKED)
    assert result.returncode == 0, result.stdout + result.stderr


def typed_sources() -> list[Path]:
    """What strict mypy must check: all our Python but generated protobuf code and checks."""
    found = [p for d in CHECKED for p in (ROOT / d).rglob("*.py*") if p.suffix in (".py", ".pyi")]
    return [
        p
        for p in found
        if not p.name.endswith("_pb2.py") and "stigmer/manifests/checks" not in p.as_posix()
    ]


def test_mypy_strict_is_clean() -> None:
    result = run(sys.executable, "-m", "mypy")
    assert result.returncode == 0, result.stdout + result.stderr
    # One run covers the tests, tools and benches as strictly as the package.
    assert f"no issues found in {len(typed_sources())} source files" in result.stdout


def test_layers_and_third_party_imports_follow_the_design() -> None:
    result = run(str(BIN / "lint-imports"))
    assert result.returncode == 0, result.stdout + result.stderr
