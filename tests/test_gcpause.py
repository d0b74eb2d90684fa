"""The cycle collector's pause: restored after the block, by the outermost of nested pauses, on
errors too, and left off when it was off."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from kubefence.gcpause import no_cycle_collection


@pytest.fixture(autouse=True)
def _restore_gc() -> Iterator[None]:
    was = gc.isenabled()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


def test_nested_pauses_end_with_the_outermost() -> None:
    gc.enable()
    with no_cycle_collection():
        assert not gc.isenabled()
        with no_cycle_collection():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_an_error_ends_the_pause() -> None:
    gc.enable()
    with pytest.raises(KeyError), no_cycle_collection():
        raise KeyError("x")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with no_cycle_collection():
        pass
    assert not gc.isenabled()
