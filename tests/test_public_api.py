"""The public API: what ``import stigmer`` offers, and that it stays cheap."""

from __future__ import annotations

import subprocess
import sys

import pytest

import stigmer


def test_all_lists_exactly_the_public_names() -> None:
    assert sorted(stigmer.__all__) == [
        "AlreadyExists",
        "ApplyReport",
        "Change",
        "Client",
        "Conflict",
        "Diff",
        "Forbidden",
        "Iam",
        "InvalidResource",
        "ManifestError",
        "NotFound",
        "Problem",
        "Result",
        "StepFailed",
        "StigmerError",
        "Store",
        "StoreClosed",
        "StoreError",
        "UsageError",
        "__version__",
        "open_store",
    ]


@pytest.mark.parametrize("name", [n for n in stigmer.__all__ if n != "__version__"])
def test_every_public_name_resolves(name: str) -> None:
    value = getattr(stigmer, name)
    assert getattr(value, "__name__", name) == name
    assert name in dir(stigmer)


def test_errors_share_one_base() -> None:
    for name in ("UsageError", "ManifestError", "Forbidden", "StoreError", "NotFound", "Conflict"):
        assert issubclass(getattr(stigmer, name), stigmer.StigmerError)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError):
        _ = stigmer.NoSuchThing


def test_importing_stigmer_imports_nothing_heavy() -> None:
    heavy = "('stigmer', 'google', 'lmdb', 'yaml')"
    code = f"import sys, stigmer; print(sorted(m for m in sys.modules if m.startswith({heavy})))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "['stigmer']"


def test_the_readme_example_runs(tmp_path: object) -> None:
    with stigmer.Client(str(tmp_path), actor="alice") as client:
        report = client.apply_files(["manifests/examples/"])
        assert report.ok and len(report.results) == 7
        slugs = sorted(a.metadata.slug for a in client.list("agents"))
        assert slugs == ["code-reviewer", "support-agent"]
