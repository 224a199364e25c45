"""Kinds are data (issue 15, item 2): a kind is its registry entry, proto, schema and steps.

No module of the CLI, the client, the printers, the masking or the stores
asks which kind an object is in order to choose what to do; they read the
kind's entry in stigmer.api.kinds. Every registered kind is whole: it has a
schema, a compiled check, pipelines and table columns without code of its own.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stigmer.api import kinds
from stigmer.api.v1.commons_pb2 import ApiResourceKind
from stigmer.manifests import validation
from stigmer.reconcilers.catalog import pipeline_for

ROOT = Path(__file__).resolve().parents[1]
# The modules that must not branch on a kind: everything under these paths.
KIND_BLIND = [
    "stigmer/cli",
    "stigmer/client.py",
    "stigmer/store",
    "stigmer/reconcilers/masking.py",
    "stigmer/manifests/constraints.py",
    "stigmer/manifests/conversion.py",
]
NAMES = "|".join(k.name for k in kinds.KINDS)
CONSTS = "AGENT|AGENT_INSTANCE|ENVIRONMENT|SKILL|MCP_SERVER"
BRANCHES = [
    re.compile(rf"\bif\b[^\n]*\bisinstance\([^)]*\b({NAMES})\)"),  # if isinstance(obj, Agent)
    re.compile(rf"\b(is|==|!=)\s+(kinds\.)?({CONSTS})\b"),  # kind is kinds.AGENT
    re.compile(rf"\b(kinds\.)?({CONSTS})(\.\w+)?\s+(is|==|!=)\s"),  # kinds.AGENT.key == kind
    re.compile(rf"""(==|!=)\s*["']({NAMES}|{CONSTS.lower()})["']"""),  # kind == "Agent"
]


def sources() -> list[Path]:
    found: list[Path] = []
    for name in KIND_BLIND:
        path = ROOT / name
        found += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return [p for p in found if not p.name.endswith("_pb2.py")]


def test_no_module_that_serves_every_kind_branches_on_one() -> None:
    hits = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in sources()
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if any(b.search(line) for b in BRANCHES)
    ]
    assert hits == []


def test_the_branch_patterns_catch_what_they_are_for() -> None:
    for line in (
        "    if isinstance(obj, Agent):",
        "    if kind is kinds.AGENT:",
        "    elif kinds.AGENT_INSTANCE.key == event.kind:",
        '    if data.get("kind") == "Agent":',
    ):
        assert any(b.search(line) for b in BRANCHES), line


@pytest.mark.parametrize("kind", kinds.KINDS, ids=lambda k: k.name)
def test_every_kind_is_whole(kind: kinds.Kind) -> None:
    assert ApiResourceKind.Name(kind.number) == kind.key  # upstream's number and name agree
    assert kinds.by_name(kind.name) is kinds.by_key(kind.key) is kind
    assert all(kinds.by_cli_name(n) is kind for n in kind.cli_names)
    assert validation.schema(kind)["title"] == kind.name
    assert validation.is_valid(kind, {}) is False  # its compiled check exists and runs
    for verb in ("apply", "create", "update", "reconcile", "delete"):
        assert pipeline_for(kind, verb).steps
    assert kind.columns and all(c.header.isupper() for c in kind.columns)


def test_the_registry_has_no_duplicates() -> None:
    for attr in ("name", "key", "id_prefix", "number"):
        values = [getattr(k, attr) for k in kinds.KINDS]
        assert len(values) == len(set(values)), attr
    cli = [n for k in kinds.KINDS for n in dict.fromkeys(k.cli_names)]
    assert len(cli) == len(set(cli))
