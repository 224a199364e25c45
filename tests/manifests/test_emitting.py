"""The fast YAML emitter: PyYAML must read back exactly what it was given."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from stigmer.manifests import emitting, yamlio
from stigmer.manifests.conversion import to_dict
from tests.factories import agent

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.text(),
    st.sampled_from(
        [
            "yes",
            "No",
            "on",
            "null",
            "~",
            "1e3",
            "0x1f",
            "12:30",
            "2024-01-01",
            "a: b",
            "#x",
            "-",
            "- a",
            "?",
            "&a",
            "*a",
            "!t",
            "|",
            ">",
            "'q'",
            '"q"',
            "%x",
            "@x",
            "`x",
            " lead",
            "trail ",
            "a\nb\n",
            "a\n\nb",
            "a\n\n",
            "\nlead",
            "x\r\ny",
            "tab\tin",
            "---",
            "...",
            "=",
            "<<",
            ".5",
            "+1",
            "0o17",
            "1_000",
            ".inf",
            "NaN",
            "true_",
            "on-call",
            "${VAR}",
            "npx",
            "https://x.y/z?q=1",
            "a,b",
            "[x]",
            "{x}",
        ]
    ),
)
keys = st.one_of(st.text(), st.sampled_from(["yes", "1", "null", "a:b", "key with space", "-"]))
plain = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=25,
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.dictionaries(keys, plain, max_size=5), st.lists(plain, max_size=5)))
def test_pyyaml_reads_back_what_was_emitted(data: Any) -> None:
    assert yaml.safe_load(emitting.dump(data)) == data


def test_an_agent_looks_like_kubectl_output() -> None:
    a = agent("agt-1", labels={"team": "a", "on": "yes"}, instructions="Line one.\nLine two.\n")
    text = emitting.dump(to_dict(a))
    assert "  instructions: |\n    Line one.\n    Line two.\n" in text
    assert '    "on": "yes"\n' in text
    assert yaml.safe_load(text) == to_dict(a)
    assert yamlio.parse_stream(text)[0][0].data == to_dict(a)
