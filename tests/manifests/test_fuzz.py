"""Random mutations of valid manifests load cleanly or produce Problems, and never raise.

Seeds are the examples and the every-field manifests. Mutations happen at the
text level (characters and lines deleted, inserted, replaced) and at the data
level (values of other types, dropped and unknown keys, deep nesting, huge
strings), then the text goes through loading.load_text and
reading.parse_documents.
"""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stigmer.api import kinds
from stigmer.errors import Problem
from stigmer.manifests import conversion, loading, reading, validation, yamlio
from tests.manifests._common import EVERY_FIELD_AGENT, EVERY_FIELD_INSTANCE, EXAMPLES

SOURCE = "fuzz.yaml"
SEED_TEXTS = [p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.yaml"))]
SEED_TEXTS += [EVERY_FIELD_AGENT, EVERY_FIELD_INSTANCE, "---\n".join(SEED_TEXTS)]
SEED_DATA = [d.data for text in SEED_TEXTS for d in loading.load_text(text, "seed").documents]
LINE_BREAKS = re.compile(r"\r\n|[\n\r\x85\u2028\u2029]")  # as libyaml counts lines
FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

TOKENS = [
    *(":", "- ", " ", "  ", "\n", "\t", "[", "]", "{", "}", ",", "&a ", "*a", "!", "!!int ", "|"),
    *(">", "#", "'", '"', "%TAG ", "@", "`", "---\n", "...\n", "<<: ", "? ", "\\", "~", "0x"),
    *("é", "你好", "\u2028", "\x85", "\ufeff", "\x00", "\x07", "\ud800", "99999999999999999999"),
    *("true", "null", "1e400", ".nan", "apiVersion: ", "kind: Agent\n", "metadata:", "spec:"),
]


def check(text: str, max_bytes: int = loading.DEFAULT_MAX_DOCUMENT_BYTES) -> None:
    """Loads and parses ``text``; every outcome must be a Manifest or a one-line Problem."""
    loaded = loading.load_text(text, SOURCE, max_bytes=max_bytes)
    parsed = reading.parse_documents(loaded.documents)
    assert isinstance(parsed, reading.Parsed)
    lines = len(LINE_BREAKS.split(text)) + 1  # libyaml may point just past the end
    for problem in loaded.problems + parsed.problems:
        assert isinstance(problem, Problem)
        shown = str(problem)
        assert len(shown.splitlines()) == 1, shown
        assert problem.file == SOURCE and shown.startswith(SOURCE), shown
        assert 0 <= problem.line <= lines and problem.column >= 0, shown
    for manifest in parsed.manifests:
        assert isinstance(manifest.resource, manifest.kind.message)
        assert manifest.document.source == SOURCE
    if not parsed.problems:  # no document is ever dropped without a word
        assert len(parsed.manifests) == len(loaded.documents)
    for doc in loaded.documents:
        kind = (
            kinds.by_name(doc.data.get("kind")) if isinstance(doc.data.get("kind"), str) else None
        )
        if kind is not None:
            data = conversion.normalize(kind.message.DESCRIPTOR, doc.data)
            assert validation.is_valid(kind, data) == validation.reference_is_valid(kind, data)


# -- text-level mutations -------------------------------------------------------------


@st.composite
def mutated_text(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SEED_TEXTS))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["delete", "insert", "replace", "line"]))
        at = draw(st.integers(0, len(text)))
        if op == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 30)) :]
        elif op == "insert":
            piece = draw(st.sampled_from(TOKENS) | st.text(max_size=5))
            text = text[:at] + piece + text[at:]
        elif op == "replace" and at < len(text):
            text = text[:at] + draw(st.sampled_from(TOKENS)) + text[at + 1 :]
        else:
            lines = text.split("\n")
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            how = draw(st.sampled_from(["drop", "duplicate", "swap", "indent", "dedent"]))
            if how == "drop":
                del lines[i]
            elif how == "duplicate":
                lines.insert(j, lines[i])
            elif how == "swap":
                lines[i], lines[j] = lines[j], lines[i]
            elif how == "indent":
                lines[i] = " " * draw(st.integers(1, 4)) + lines[i]
            else:
                lines[i] = lines[i].lstrip()
            text = "\n".join(lines)
    return text


@FUZZ
@given(mutated_text(), st.sampled_from([loading.DEFAULT_MAX_DOCUMENT_BYTES, 512]))
def test_text_mutations_load_or_report_problems(text: str, max_bytes: int) -> None:
    check(text, max_bytes)


# -- data-level mutations -------------------------------------------------------------

VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def slots(data: Any) -> list[tuple[Any, Any]]:
    """Every (container, key or index) in ``data``, the root's parent excluded."""
    found: list[tuple[Any, Any]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            found += [(data, key), *slots(value)]
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += [(data, i), *slots(value)]
    return found


@st.composite
def mutated_data(draw: st.DrawFn) -> Any:
    data = json.loads(json.dumps(draw(st.sampled_from(SEED_DATA))))  # a deep copy
    for _ in range(draw(st.integers(1, 3))):
        places = slots(data)
        container, key = draw(st.sampled_from(places))
        op = draw(st.sampled_from(["value", "drop", "unknown", "nest", "huge", "snake"]))
        if op == "value":
            container[key] = draw(VALUES)
        elif op == "drop":
            del container[key]
        elif op == "unknown":
            target = container[key] if isinstance(container[key], dict) else data
            target[draw(st.text(min_size=1, max_size=12))] = draw(VALUES)
        elif op == "nest":
            value = container[key]
            for _ in range(draw(st.integers(1, 150))):
                value = [value] if draw(st.booleans()) else {"x": value}
            container[key] = value
        elif op == "huge":
            container[key] = draw(st.sampled_from(["x", "é", "你", " "])) * draw(
                st.integers(1_000, 200_000)
            )
        elif isinstance(key, str):
            container[re.sub(r"([A-Z])", lambda m: "_" + m[1].lower(), key)] = container.pop(key)
    return data


@FUZZ
@given(mutated_data(), st.booleans())
def test_data_mutations_load_or_report_problems(data: Any, as_json: bool) -> None:
    text = json.dumps(data, ensure_ascii=False) if as_json else yamlio.dump(data)
    check(text)


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes_are_refused_or_loaded_never_raise(raw: bytes) -> None:
    text, problem = loading.decode(raw, SOURCE)
    if problem is not None:
        assert text is None and str(problem).startswith(SOURCE)
        assert len(str(problem).splitlines()) == 1
    else:
        assert text is not None
        check(text)
