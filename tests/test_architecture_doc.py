"""The project documents itself: what the code cites is in docs/architecture.md."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "architecture.md"


def sources() -> list[Path]:
    found = [ROOT / "pyproject.toml"]
    for top in ("stigmer", "tests", "tools", "bench"):
        found += sorted((ROOT / top).rglob("*.py"))
    return found


def test_nothing_cites_a_design_file_outside_the_repository() -> None:
    outside = re.compile(r"DESIGN\.md|\.\./shared/")
    citing = [str(p.relative_to(ROOT)) for p in sources() if outside.search(p.read_text())]
    assert citing == []


def test_every_section_the_code_cites_exists() -> None:
    headings = set(re.findall(r"^## (.+)$", DOC.read_text(), flags=re.MULTILINE))
    cited = {
        section
        for p in sources()
        for section in re.findall(r'docs/architecture\.md, \\?"([^"\\]+)\\?"', p.read_text())
    }
    assert cited, "nothing cites docs/architecture.md"
    assert cited <= headings, f"cited sections missing from the doc: {cited - headings}"
