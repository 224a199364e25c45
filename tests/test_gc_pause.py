"""Bulk work pauses the cyclic garbage collector and always restores it."""

from __future__ import annotations

import gc

import pytest

from stigmer.api.gc import paused


def test_the_collector_is_paused_inside_and_restored_after() -> None:
    assert gc.isenabled()
    with paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_it_is_restored_after_an_error_and_left_off_if_it_was_off() -> None:
    with pytest.raises(RuntimeError), paused():
        raise RuntimeError("boom")
    assert gc.isenabled()
    gc.disable()
    try:
        with paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
