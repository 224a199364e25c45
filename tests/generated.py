"""Checking committed generated files against their generator in tools/."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def load_tool(name: str) -> ModuleType:
    """``tools/<name>.py`` as a module (tools/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_fresh(written: list[Path], committed: Callable[[Path], Path], tool: str) -> None:
    """Each freshly written file equals its committed twin, or says which tool to run."""
    for fresh in written:
        twin = committed(fresh)
        assert twin.exists(), f"{twin} is missing; run python tools/{tool}.py"
        assert twin.read_bytes() == fresh.read_bytes(), (
            f"{twin} is stale; run python tools/{tool}.py"
        )
