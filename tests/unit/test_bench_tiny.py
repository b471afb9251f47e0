"""Every benchmark has a tiny size, the one CI runs (``python -m bench all --tiny`` in
.ci/run) so that none of them rots unseen. The run itself is CI's step, not a test:
timing has no place in tests."""

from __future__ import annotations

import importlib

import pytest

from bench.__main__ import BENCHMARKS, has_tiny_mode


@pytest.mark.parametrize("name", BENCHMARKS)
def test_each_benchmark_has_a_tiny_mode(name: str) -> None:
    assert has_tiny_mode(importlib.import_module(f"bench.{name}").run)
