"""Retrying idempotent calls: exponential backoff with full jitter, bounded by an
overall deadline, only on codes that mean "try again" (api-core style). Creates are
never retried."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

import grpc

RETRYABLE = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry an idempotent call."""

    attempts: int = 4
    """Calls in all, the first included."""
    initial_backoff_s: float = 0.1
    """Upper bound of the first pause."""
    max_backoff_s: float = 2.0
    """Upper bound of any pause."""
    multiplier: float = 2.0
    """Growth of the bound after each failure."""

    def pauses(self) -> Iterator[float]:
        """The pause before each retry (full jitter)."""
        bound = self.initial_backoff_s
        for _ in range(self.attempts - 1):
            yield random.uniform(0, bound)
            bound = min(bound * self.multiplier, self.max_backoff_s)


NO_RETRY = RetryPolicy(attempts=1)
