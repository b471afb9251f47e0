"""The thread switching the serving process applies once it is up."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from tams_server.thread_switching import SWITCH_INTERVAL_S, shorten_thread_switches


@pytest.fixture
def restored_interval() -> Iterator[None]:
    """The interpreter's switch interval as it was, after the test."""
    interval = sys.getswitchinterval()
    yield
    sys.setswitchinterval(interval)


def test_a_waiting_thread_gets_the_gil_ten_times_sooner_than_by_default(
    restored_interval: None,
) -> None:
    sys.setswitchinterval(0.005)  # CPython's default
    shorten_thread_switches()
    assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL_S)
    assert sys.getswitchinterval() <= 0.005 / 10
