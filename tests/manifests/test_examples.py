"""Every example is a test: each loads cleanly and names its schema for editors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stigmer.api import kinds
from stigmer.manifests import loading, reading, validation
from tests.manifests._common import EXAMPLES

EXAMPLE_FILES = sorted(p for p in EXAMPLES.iterdir() if loading.is_manifest_file(p))
MODELINE = re.compile(r"# yaml-language-server: \$schema=(\S+)")


def test_there_are_examples() -> None:
    assert len(EXAMPLE_FILES) >= 4
    assert {p.suffix for p in EXAMPLE_FILES} <= set(loading.EXTENSIONS)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_an_example_loads_without_problems(path: Path) -> None:
    parsed = reading.read([path])
    assert [str(p) for p in parsed.problems] == []
    assert parsed.manifests
    for manifest in parsed.manifests:
        assert manifest.resource.api_version == kinds.API_VERSION
        assert manifest.resource.metadata.name


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_an_example_points_editors_at_the_schema_of_its_kind(path: Path) -> None:
    first_line = path.read_text(encoding="utf-8").splitlines()[0]
    match = MODELINE.fullmatch(first_line)
    assert match, f"{path.name} must start with '# yaml-language-server: $schema=<path>'"
    schema = (path.parent / match[1]).resolve()
    assert not Path(match[1]).is_absolute()
    assert schema.is_file(), f"{match[1]} does not exist"
    for manifest in reading.read([path]).manifests:
        assert schema == validation.schema_path(manifest.kind).resolve()


def test_all_examples_apply_together() -> None:
    parsed = reading.read([EXAMPLES])
    assert [str(p) for p in parsed.problems] == []
    assert len(parsed.manifests) >= len(EXAMPLE_FILES)
    assert {m.kind for m in parsed.manifests} == set(kinds.KINDS)
