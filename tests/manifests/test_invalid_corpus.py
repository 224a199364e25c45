"""The bad-input corpus: each file in tests/testdata/invalid beside its expected problems.

See tests/testdata/invalid/README.md for the format.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from stigmer.errors import Problem
from stigmer.manifests import loading, reading
from tests.manifests._common import CORPUS

SIDECARS = {".expected", ".options", ".md"}
CASES = sorted(p for p in CORPUS.iterdir() if p.suffix not in SIDECARS)


def read_case(path: Path, given: str) -> tuple[reading.Parsed, list[str]]:
    options_file = path.with_suffix(".options")
    options = json.loads(options_file.read_text()) if options_file.exists() else {}
    parsed = reading.read([given], **options)
    expected = path.with_suffix(".expected").read_text(encoding="utf-8").splitlines()
    return parsed, [line.replace("{file}", given) for line in expected]


def test_the_corpus_has_at_least_40_cases() -> None:
    assert len(CASES) >= 40


def test_every_case_has_its_expected_problems_and_nothing_is_orphaned() -> None:
    inputs = {p.stem for p in CASES}
    for sidecar in CORPUS.iterdir():
        if sidecar.suffix in {".expected", ".options"}:
            assert sidecar.stem in inputs, f"{sidecar.name} has no input file"
    for case in CASES:
        assert case.suffix in loading.EXTENSIONS, f"{case.name}: not a manifest extension"
        assert case.with_suffix(".expected").is_file(), f"{case.name} has no .expected"
    assert len(inputs) == len(CASES), "two inputs share a name"


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_a_bad_input_is_reported_exactly(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parsed, expected = read_case(path, str(path))
    assert capsys.readouterr() == ("", ""), "problems are values: the library never prints"
    assert expected, f"{path.name}.expected is empty: a bad input must report something"
    assert all(isinstance(p, Problem) for p in parsed.problems)
    assert [str(p) for p in parsed.problems] == expected
    for line in expected:
        assert len(line.splitlines()) == 1
        assert line.startswith(f"{path}:")


@pytest.mark.parametrize("path", CASES[:5], ids=lambda p: p.name)
def test_a_problem_names_the_file_as_it_was_given(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(CORPUS.parent)
    given = os.path.join("invalid", path.name)
    parsed, expected = read_case(path, given)
    assert [str(p) for p in parsed.problems] == expected
    assert {p.file for p in parsed.problems} == {given}
