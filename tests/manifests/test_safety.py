"""Hostile or broken input is refused with a Problem, quickly, and never raises."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stigmer.manifests import loading, reading, yamlio
from tests.manifests._common import agent_yaml


def problems_of(text: str, **options: int) -> list[str]:
    """The problems of loading ``text`` (YAML only: it need not be a manifest)."""
    return [str(p) for p in loading.load_text(text, "in.yaml", **options).problems]


def bomb(levels: int, width: int) -> str:
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


@pytest.mark.timeout(5)
@pytest.mark.parametrize(("levels", "width"), [(9, 9), (20, 10), (60, 2)])
def test_alias_bombs_are_refused(tmp_path: Path, levels: int, width: int) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(bomb(levels, width))
    parsed = reading.read([path])
    assert parsed.manifests == []
    (problem,) = parsed.problems
    assert "aliases expand to more than" in problem.message
    assert "YAML bomb" in problem.message
    # Placed at the value that uses the aliases, not at the anchor it expands.
    assert problem.path.startswith(f"l{problem.line - 1}[")


@pytest.mark.timeout(5)
def test_a_bomb_inside_a_manifest_field_is_refused_at_that_field() -> None:
    text = agent_yaml("Bot") + "  x: &a [a, a, a, a, a, a, a, a, a, a]\n"
    for level in "bcdef":
        text += f"  {level}: &{level} [" + ", ".join([f"*{chr(ord(level) - 1)}"] * 10) + "]\n"
    (line,) = problems_of(text)
    # At the entry whose value uses the aliases: "  d: &d [*c, ...]" is line 10.
    match = re.match(r"in\.yaml:(\d+):6: spec\.([b-f])\[\d+\]", line)
    assert match is not None, line
    assert int(match[1]) == 7 + "xbcdef".index(match[2])
    assert "aliases expand to more than" in line


def test_aliases_within_the_bound_are_expanded() -> None:
    text = "base: &b {team: support}\nitems: [*b, *b, *b]\n"
    (doc,) = loading.load_text(text, "a.yaml").documents
    assert doc.data["items"] == [{"team": "support"}] * 3


@pytest.mark.timeout(5)
def test_a_recursive_alias_is_refused() -> None:
    (line,) = problems_of("a: &a [*a]\n")
    assert line.startswith("in.yaml:1:4: a[0][0]")
    assert line.endswith("nesting deeper than 100 levels")


def test_nesting_is_bounded_at_max_depth() -> None:
    def nested(depth: int) -> str:
        return "[" * depth + "]" * depth

    # The root mapping is level 0 and "a"'s value level 1.
    assert problems_of(f"a: {nested(yamlio.MAX_DEPTH)}\n") == []
    (line,) = problems_of(f"a: {nested(yamlio.MAX_DEPTH + 1)}\n")
    assert line.startswith(f"in.yaml:1:{4 + yamlio.MAX_DEPTH}: a[0][0]")
    assert line.endswith("more levels): nesting deeper than 100 levels")
    # A scalar inside the deepest list is one level deeper, whatever its type.
    for leaf in ("x", "1", "'quoted'"):
        inner = "[" * (yamlio.MAX_DEPTH - 1) + leaf + "]" * (yamlio.MAX_DEPTH - 1)
        assert problems_of(f"a: {inner}\n") == []
        deeper = "[" * yamlio.MAX_DEPTH + leaf + "]" * yamlio.MAX_DEPTH
        (line,) = problems_of(f"a: {deeper}\n")
        assert line.endswith("nesting deeper than 100 levels")
    # libyaml refuses extreme nesting itself; that too is a problem, not a crash.
    (line,) = problems_of(f"a: {nested(100_000)}\n")
    assert "maximum nesting depth" in line


@pytest.mark.parametrize(
    ("value", "tag"),
    [
        ("!!python/object/apply:os.system ['true']", "!!python/object/apply:os.system"),
        ("!!python/name:os.system ''", "!!python/name:os.system"),
        ("!!python/object:object {}", "!!python/object:object"),
        ("!!binary aGVsbG8=", "!!binary"),
        ("!!set {a, b}", "!!set"),
        ("!!omap [a: 1]", "!!omap"),
        ("!Ref Bucket", "!Ref"),
        ("!<tag:example.com,2000:app/foo> x", "tag:example.com,2000:app/foo"),
    ],
)
def test_tags_other_than_plain_data_are_refused(value: str, tag: str) -> None:
    (line,) = problems_of(f"a: 1\nb: {value}\n")
    assert line == f'in.yaml:2:4: b: tag "{tag}" is not allowed; only plain data is'


def test_standard_tags_of_plain_data_are_accepted() -> None:
    text = "a: !!str 123\nb: !!int '42'\nc: !!float '1.5'\nd: !!bool 'yes'\ne: !!null ''\n"
    (doc,) = loading.load_text(text, "t.yaml").documents
    assert doc.data == {"a": "123", "b": 42, "c": 1.5, "d": True, "e": None}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("!!int abc", '"abc" is not a valid !!int'),
        ("!!int ''", '"" is not a valid !!int'),
        ("!!float x", '"x" is not a valid !!float'),
        ("!!bool maybe", '"maybe" is not a valid !!bool'),
        ("!!str {a: 1}", 'tag "!!str" cannot be used on a mapping'),
        ("!!map [1]", 'tag "!!map" cannot be used on a list'),
        ("!!seq {a: 1}", 'tag "!!seq" cannot be used on a mapping'),
        ("!!int [1]", 'tag "!!int" cannot be used on a list'),
        ("0x" + "f" * 17, '"0xfffffffffffffffff" is out of range (integers have at most 64 bits)'),
    ],
)
def test_values_that_do_not_fit_their_tag_are_problems(value: str, message: str) -> None:
    assert problems_of(f"b: {value}\n") == [f"in.yaml:1:4: b: {message}"]


def test_a_number_too_long_to_print_is_refused_without_trying() -> None:
    (line,) = problems_of("b: " + "9" * 5000 + "\n")
    assert line.startswith('in.yaml:1:4: b: "99999')
    assert line.endswith('..." is out of range (integers have at most 64 bits)')
    assert len(line) < 200


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: 1\na: 2\n", 'in.yaml:2:1: a: duplicate key "a" (first defined at line 1)'),
        (
            "m: {x: 1, y: 2, x: 3}\n",
            'in.yaml:1:17: m.x: duplicate key "x" (first defined at line 1)',
        ),
        (
            "l:\n  - k: 1\n    j: 2\n    k: 3\n",
            'in.yaml:4:5: l[0].k: duplicate key "k" (first defined at line 2)',
        ),
        ("1: a\n'1': b\n", 'in.yaml:2:1: 1: duplicate key "1" (first defined at line 1)'),
    ],
)
def test_duplicate_keys_are_refused(text: str, expected: str) -> None:
    assert problems_of(text) == [expected]


def test_a_document_over_the_size_limit_is_refused_and_the_others_load() -> None:
    small = agent_yaml("Small")
    big = agent_yaml("Big") + "  description: " + "x" * 2000 + "\n"
    text = small + "---\n" + big + "---\n" + agent_yaml("After")
    loaded = loading.load_text(text, "in.yaml", max_bytes=1024)
    assert [d.data["metadata"]["name"] for d in loaded.documents] == ["Small", "After"]
    size = len(("---\n" + big).encode())
    assert [str(p) for p in loaded.problems] == [
        f"in.yaml:7:1: document is {size} bytes, larger than the limit of 1024 bytes"
    ]
    # The documents after it keep their positions.
    assert loaded.documents[1].line == 7 + 1 + big.count("\n") + 1


def test_the_size_limit_counts_bytes_and_its_boundary_is_inclusive() -> None:
    text = "a: " + "é" * 300 + "\n"  # 304 characters, 604 bytes
    size = len(text.encode())
    assert (len(text), size) == (304, 604)
    assert problems_of(text, max_bytes=size) == []
    assert problems_of(text, max_bytes=size - 1) == [
        f"in.yaml:1:1: document is {size} bytes, larger than the limit of {size - 1} bytes"
    ]


def test_the_default_size_limit_is_4_mib(tmp_path: Path) -> None:
    assert loading.DEFAULT_MAX_DOCUMENT_BYTES == 4 * 1024 * 1024
    path = tmp_path / "huge.yaml"
    path.write_text("a: " + "x" * (4 * 1024 * 1024) + "\n")
    (problem,) = reading.read([path]).problems
    assert problem.message.endswith("larger than the limit of 4194304 bytes")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"apiVersion: v1\n\x00\x01\x02binary", "binary file (contains NUL bytes), not a manifest"),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            "binary file (contains NUL bytes), not a manifest",
        ),
        ("a: ok\n".encode("utf-16"), "UTF-16 or UTF-32 text; save the file as UTF-8"),
        (b"a: 1\nname: caf\xe9\n", "2:10: not valid UTF-8 (byte 0xe9); save the file as UTF-8"),
        # The column counts characters: "é" before the bad byte is one column.
        (
            "a: 1\né: ".encode() + b"\xff",
            "2:4: not valid UTF-8 (byte 0xff); save the file as UTF-8",
        ),
    ],
)
def test_files_that_are_not_utf8_text_are_refused(
    tmp_path: Path, raw: bytes, expected: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(raw)
    separator = "" if expected[0].isdigit() else " "
    assert [str(p) for p in reading.read([path]).problems] == [f"{path}:{separator}{expected}"]


def test_control_characters_and_lone_surrogates_are_problems() -> None:
    assert problems_of("a: ok\nb: x\x07y\n") == [
        "in.yaml:2:5: unacceptable character #x0007: control characters are not allowed"
    ]
    assert problems_of("a: é\nb: \ud800\n") == [
        "in.yaml:2:4: not valid Unicode text (a lone surrogate)"
    ]


def test_documents_that_are_not_mappings_are_refused() -> None:
    text = "- a\n- b\n---\njust text\n---\n42\n---\n" + agent_yaml("Ok")
    loaded = loading.load_text(text, "in.yaml")
    assert [str(p) for p in loaded.problems] == [
        "in.yaml:1:1: document is a list, not a mapping",
        "in.yaml:4:1: document is a scalar, not a mapping",
        "in.yaml:6:1: document is a scalar, not a mapping",
    ]
    assert [d.data["metadata"]["name"] for d in loaded.documents] == ["Ok"]


def test_a_syntax_error_keeps_the_documents_before_it() -> None:
    text = agent_yaml("First") + "---\nkey: [unclosed\n---\n" + agent_yaml("Lost")
    loaded = loading.load_text(text, "in.yaml")
    assert [d.data["metadata"]["name"] for d in loaded.documents] == ["First"]
    (problem,) = loaded.problems
    assert (problem.line, problem.column) == (9, 1)
    assert "(while parsing a flow sequence that starts at line 8, column 6)" in problem.message


def test_odd_keys_are_quoted_in_paths_so_a_problem_stays_one_line() -> None:
    text = agent_yaml("Bot") + '  "line\\nbreak": 1\n  "sep\\u2028x": 2\n  "a.b": 3\n'
    parsed = reading.parse_documents(loading.load_text(text, "in.yaml").documents)
    lines = [str(p) for p in parsed.problems]
    assert lines == [
        'in.yaml:7:3: spec["line\\nbreak"]: unknown field',
        'in.yaml:8:3: spec["sep\\u2028x"]: unknown field',
        'in.yaml:9:3: spec["a.b"]: unknown field',
    ]
    assert all(len(line.splitlines()) == 1 for line in lines)
