"""Ids: lowercase ULIDs with the kind's prefix."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from stigmer.api.naming import encode_ulid, new_id, new_ulid

CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


def reference(value: int) -> str:
    """The ULID spec's encoding, digit by digit."""
    return "".join(CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(26)))


@given(st.integers(min_value=0, max_value=2**128 - 1))
def test_encoding_matches_the_spec(value: int) -> None:
    assert encode_ulid(value) == reference(value)


@given(st.integers(0, 2**48 - 2), st.integers(0, 2**80 - 1), st.integers(0, 2**80 - 1))
def test_a_later_millisecond_sorts_later_as_text(ms: int, a: int, b: int) -> None:
    assert encode_ulid(ms << 80 | a) < encode_ulid((ms + 1) << 80 | b)


def test_ids_are_prefixed_and_lowercase() -> None:
    assert re.fullmatch(r"agt-[0-9a-hjkmnp-tv-z]{26}", new_id("agt"))
    assert new_ulid() != new_ulid()
