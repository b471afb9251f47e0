"""The store's clock."""

from __future__ import annotations

import time


def now_ns() -> int:
    """Wall-clock time in nanoseconds since the Unix epoch (UTC)."""
    return time.time_ns()
