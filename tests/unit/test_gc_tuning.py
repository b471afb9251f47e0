"""The collector tuning the serving process applies once it is up."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from tams_server.gc_tuning import YOUNG_THRESHOLD, tune_for_serving


@pytest.fixture
def restored_gc() -> Iterator[None]:
    """The collector's settings as they were, after the test."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_the_heap_built_so_far_is_frozen_and_young_collections_spaced_out(
    restored_gc: None,
) -> None:
    gc.unfreeze()
    built_at_start = [object() for _ in range(10)]
    assert any(thing is built_at_start for thing in gc.get_objects())
    middle, old = gc.get_threshold()[1:]
    tune_for_serving()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (YOUNG_THRESHOLD, middle, old)
    # Frozen: out of every generation the collector walks.
    assert not any(thing is built_at_start for thing in gc.get_objects())


def test_cycles_made_later_are_still_collected(restored_gc: None) -> None:
    tune_for_serving()

    class Node:
        partner: object = None

    first, second = Node(), Node()
    first.partner, second.partner = second, first
    del first, second
    assert gc.collect() >= 2
