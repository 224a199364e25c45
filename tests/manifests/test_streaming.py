"""reading.stream: a large input, parsed by a worker in parts, gives exactly what read gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stigmer.manifests import reading, worker
from tests.manifests._common import agent_yaml

BAD_SCHEMA = "apiVersion: agentic.stigmer.ai/v1\nkind: Agent\nmetadata: {name: Bad}\nspec: {}\n"
A_LIST = "- just\n- a list\n"


def big_input(tmp_path: Path, count: int = 2000) -> Path:
    """More than PARALLEL_MIN_CHARS of agents, with a bad, a non-mapping and a duplicate doc."""
    docs = [agent_yaml(f"Agent {i}", labels=f"{{n: '{i}'}}") for i in range(count)]
    docs[300] = BAD_SCHEMA
    docs[450] = A_LIST
    docs[600] = agent_yaml("Agent 7")
    path = tmp_path / "many.yaml"
    path.write_text("---\n".join(docs))
    assert path.stat().st_size > reading.PARALLEL_MIN_CHARS
    return path


def _summary(parsed: reading.Parsed) -> list[Any]:
    return [
        (
            m.kind.key,
            m.resource.SerializeToString(deterministic=True),
            m.document.source,
            m.document.index,
            m.document.line,
            m.document.column,
            m.document.position(("spec", "instructions")),
        )
        for m in parsed.manifests
    ]


def _joined(parts: list[reading.Parsed]) -> reading.Parsed:
    joined = reading.Parsed()
    for part in parts:
        joined.manifests += part.manifests
        joined.problems += part.problems
    return joined


def test_a_large_input_streams_from_a_worker_the_manifests_and_problems_read_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = big_input(tmp_path)
    small = tmp_path / "small.yaml"
    small.write_text(agent_yaml("Last One"))
    forks = []
    real = worker.produce_in_worker
    monkeypatch.setattr(
        worker,
        "produce_in_worker",
        lambda *a: forks.append(1) or real(*a),  # type: ignore[func-returns-value]
    )
    parts = list(reading.stream([path, small, tmp_path / "missing.yaml"]))
    assert forks == [1]
    assert len(parts) > 5  # it came in parts, not at the end
    streamed, whole = _joined(parts), reading.read([path, small, tmp_path / "missing.yaml"])
    assert _summary(streamed) == _summary(whole)
    assert len(whole.manifests) == 2000 - 3 + 1
    assert sorted(map(str, streamed.problems)) == sorted(map(str, whole.problems))
    assert any("already declared" in str(p) for p in whole.problems)
    assert any("not a mapping" in str(p) for p in whole.problems)
    assert any("missing.yaml" in str(p) for p in whole.problems)


def test_a_small_input_is_parsed_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "one.yaml"
    path.write_text(agent_yaml("Solo"))
    monkeypatch.setattr(worker, "produce_in_worker", None)  # calling it would fail the test
    parts = list(reading.stream([path]))
    assert [m.resource.metadata.name for m in _joined(parts).manifests] == ["Solo"]


def test_the_manifests_of_a_stream_locate_fields_in_their_own_file(tmp_path: Path) -> None:
    path = big_input(tmp_path)
    text = path.read_text().splitlines()
    manifests = _joined(list(reading.stream([path]))).manifests
    for m in (manifests[0], manifests[500], manifests[-1]):
        line, column = m.document.position(("spec", "instructions"))
        assert text[line - 1][column - 1 :].startswith("instructions:")
