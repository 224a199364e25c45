"""Loading: files, directories and streams, with positions counted across documents."""

from __future__ import annotations

import io
import math
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from stigmer.manifests import loading, reading, yamlio
from tests.manifests._common import INSTRUCTIONS, agent_yaml


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def sources(loaded: loading.Loaded) -> list[str]:
    return [d.source for d in loaded.documents]


# -- positions ----------------------------------------------------------------------


THREE_DOCUMENTS = f"""\
# leading comment
{agent_yaml("First")}---
{agent_yaml("Second")}---
# a comment before the third document
apiVersion: agentic.stigmer.ai/v1
kind: Agent
metadata:
  name: Third
spec:
  instructions: {INSTRUCTIONS}
  mcpServers:
    - name: tickets
      stdio:
        comand: npx
"""


def test_positions_count_lines_across_the_documents_of_a_file(tmp_path: Path) -> None:
    path = write(tmp_path / "agents.yaml", THREE_DOCUMENTS)
    loaded = loading.load([path])
    assert [d.line for d in loaded.documents] == [2, 9, 17]
    assert [d.index for d in loaded.documents] == [0, 1, 2]
    third = loaded.documents[2]
    assert third.position(("metadata", "name")) == (20, 3)
    assert third.position(("spec", "mcpServers", 0, "stdio", "comand")) == (26, 9)
    # A path that does not exist is placed at its nearest existing parent.
    assert third.position(("spec", "mcpServers", 0, "http", "url")) == (24, 7)

    parsed = reading.read([path])
    assert [m.resource.metadata.name for m in parsed.manifests] == ["First", "Second"]
    assert [str(p) for p in parsed.problems] == [
        f"{path}:25:7: spec.mcpServers[0].stdio.command: required field is missing",
        f'{path}:26:9: spec.mcpServers[0].stdio.comand: unknown field (did you mean "command"?)',
    ]


def test_positions_with_crlf_line_ends_and_documents_on_the_marker_line() -> None:
    text = "a: 1\r\n--- {kind: Agent, x: [1, 2]}\r\n---\r\n\r\nb:\r\n  c: 3\r\n"
    loaded = loading.load_text(text, "crlf.yaml")
    first, flow, block = loaded.documents
    assert (flow.line, flow.column) == (2, 5)
    assert flow.position(("x", 1)) == (2, 26)
    assert block.position(("b", "c")) == (6, 3)
    assert first.position(("a",)) == (1, 1)


def test_a_document_after_a_tag_directive_is_still_located() -> None:
    second = agent_yaml("!s!str Second")  # the tag handle is the directive's
    text = agent_yaml("First") + "%TAG !s! tag:yaml.org,2002:\n---\n" + second
    parsed = reading.parse_documents(loading.load_text(text, "t.yaml").documents)
    assert [m.resource.metadata.name for m in parsed.manifests] == ["First", "Second"]
    doc = parsed.manifests[1].document
    # Its slice cannot be parsed without the directive: positions fall back to its start.
    assert doc.position(("metadata", "name")) == (doc.line, doc.column) == (9, 1)


# -- what is loaded -----------------------------------------------------------------


def test_directories_load_top_level_files_and_subdirectories_only_when_recursive(
    tmp_path: Path,
) -> None:
    root = tmp_path / "manifests"
    write(root / "a.yaml", agent_yaml("A"))
    write(root / "b.yml", agent_yaml("B"))
    write(
        root / "c.json",
        '{"apiVersion": "agentic.stigmer.ai/v1", "kind": "Agent", '
        f'"metadata": {{"name": "C"}}, "spec": {{"instructions": "{INSTRUCTIONS}"}}}}',
    )
    write(root / "sub" / "d.yaml", agent_yaml("D"))
    write(root / "sub" / "deeper" / "e.yml", agent_yaml("E"))
    skipped = [
        ".hidden.yaml",
        ".#a.yaml",  # emacs lock file
        "a.yaml~",  # editor backup
        ".a.yaml.swp",  # vim swap file
        "a.yaml.swp",
        "notes.txt",
        "README.md",
        ".git/config.yaml",  # hidden directory
        "sub/.cache/f.yaml",
    ]
    for name in skipped:
        write(root / name, "this: [is not: a manifest\n")

    top = loading.load([root])
    assert top.problems == []
    assert sources(top) == [str(root / n) for n in ("a.yaml", "b.yml", "c.json")]

    deep = loading.load([root], recursive=True)
    assert deep.problems == []
    assert sources(deep) == [
        str(root / n) for n in ("a.yaml", "b.yml", "c.json", "sub/d.yaml", "sub/deeper/e.yml")
    ]
    names = [m.resource.metadata.name for m in reading.read([root], recursive=True).manifests]
    assert names == ["A", "B", "C", "D", "E"]


def test_a_recursive_walk_takes_entries_in_name_order_like_kubectl(tmp_path: Path) -> None:
    root = tmp_path / "m"
    for name in ("top.yaml", "sub/deep.yaml", "a-first.yaml", "sub/z/zz.yaml", "zed.yaml"):
        write(root / name, agent_yaml(name))
    (root / "loop").symlink_to(root, target_is_directory=True)  # never entered
    found = [str(p.relative_to(root)) for p in loading.manifest_files(root, recursive=True)]
    assert found == ["a-first.yaml", "sub/deep.yaml", "sub/z/zz.yaml", "top.yaml", "zed.yaml"]
    flat = [str(p.relative_to(root)) for p in loading.manifest_files(root)]
    assert flat == ["a-first.yaml", "top.yaml", "zed.yaml"]


def test_a_file_is_named_as_the_user_gave_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "agents" / "bot.yaml", agent_yaml("Bot", org="Not_Valid"))
    monkeypatch.chdir(tmp_path)
    for name in ("agents/bot.yaml", "./agents/../agents/bot.yaml"):
        (problem,) = reading.read([name]).problems
        assert str(problem).startswith(f"{name}:5:3: metadata.org: ")
    (problem,) = reading.read(["agents"]).problems
    assert problem.file == str(Path("agents") / "bot.yaml")


def test_a_missing_path_is_a_problem_not_an_exception(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    loaded = loading.load([missing])
    assert [str(p) for p in loaded.problems] == [f"{missing}: no such file or directory"]


def test_stdin_is_read_from_a_text_or_binary_stream() -> None:
    text = agent_yaml("From Stdin") + "---\n" + agent_yaml("Second", org="Bad Org")
    for stream in (io.StringIO(text), io.TextIOWrapper(io.BytesIO(text.encode()))):
        parsed = reading.read(["-"], stdin=stream)
        assert [m.resource.metadata.name for m in parsed.manifests] == ["From Stdin"]
        assert [m.document.source for m in parsed.manifests] == ["<stdin>"]
        (problem,) = parsed.problems
        assert str(problem).startswith("<stdin>:12:3: metadata.org: ")


def test_stdin_and_files_mix_in_order(tmp_path: Path) -> None:
    path = write(tmp_path / "a.yaml", agent_yaml("A"))
    parsed = reading.read([path, "-"], stdin=io.StringIO(agent_yaml("B")))
    assert [(m.document.source, m.resource.metadata.name) for m in parsed.manifests] == [
        (str(path), "A"),
        ("<stdin>", "B"),
    ]


def test_empty_documents_are_skipped_and_do_not_count() -> None:
    text = "---\n---\n# only a comment\n---\n...\n---\n" + agent_yaml("Only") + "...\n---\n~\n---\n"
    loaded = loading.load_text(text, "empty.yaml")
    assert loaded.problems == []
    (doc,) = loaded.documents
    assert (doc.index, doc.line, doc.data["metadata"]["name"]) == (0, 7, "Only")
    assert loading.load_text("", "e.yaml") == loading.Loaded()
    assert loading.load_text("# nothing\n", "e.yaml") == loading.Loaded()


def test_a_utf8_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + agent_yaml("Bom", org="Bad_Org").encode())
    parsed = reading.read([path])
    (problem,) = parsed.problems
    assert str(problem).startswith(f"{path}:5:3: metadata.org: ")
    (doc,) = loading.load([path]).documents
    assert (doc.line, doc.column, doc.data["metadata"]["name"]) == (1, 1, "Bom")


def test_json_manifests_load_like_yaml(tmp_path: Path) -> None:
    body = (
        '{"apiVersion": "agentic.stigmer.ai/v1", "kind": "Agent",\n'
        ' "metadata": {"name": "Json", "labels": {"a": "1"}},\n'
        f' "spec": {{"instructions": "{INSTRUCTIONS}"}}}}\n'
    )
    path = write(tmp_path / "bot.json", body)
    (manifest,) = reading.read([path]).manifests
    assert manifest.resource.metadata.name == "Json"
    assert dict(manifest.resource.metadata.labels) == {"a": "1"}


def test_timestamps_stay_text_and_merge_keys_work() -> None:
    text = (
        "base: &base {team: support, tier: gold}\n"
        "date: 2024-01-01\n"
        "labels:\n  <<: *base\n  tier: silver\n"
    )
    (doc,) = loading.load_text(text, "m.yaml").documents
    assert doc.data["date"] == "2024-01-01"
    assert doc.data["labels"] == {"team": "support", "tier": "silver"}


# -- plain scalars resolve exactly as PyYAML's safe loader resolves them ---------------

_SCALAR_PIECES = st.sampled_from(
    [
        *("0", "1", "7", "9", "-", "+", ".", "e", "E", "x", "o", "b", "_", ":", "inf", "nan"),
        *("Inf", "NaN", "true", "True", "FALSE", "yes", "No", "on", "OFF", "y", "n", "null"),
        *("Null", "~", "a", "Z", "2001-12-14", "t21:59:43.10", "-05:00", " ", "0x", "0b", "0o"),
        "1_000",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_SCALAR_PIECES, min_size=1, max_size=5).map("".join))
def test_plain_scalars_resolve_as_pyyaml_does(scalar: str) -> None:
    text = f"v: {scalar}\n"
    try:
        expected = yaml.load(text, Loader=yaml.CSafeLoader)
    except (yaml.YAMLError, ValueError):
        return  # not a plain scalar; the fuzz tests cover such text
    docs, problems = yamlio.parse_stream(text)
    if problems:  # only a number too large for 64 bits is refused
        assert "out of range" in problems[0].message
        return
    value = expected["v"]
    if not isinstance(value, bool | int | float | str | None):  # a timestamp stays text
        value = scalar.strip()
    if isinstance(value, float) and math.isnan(value):
        assert math.isnan(docs[0].data["v"])
    else:
        assert docs[0].data == {"v": value}
