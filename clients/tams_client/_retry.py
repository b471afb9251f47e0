"""Retrying idempotent calls, api-core style: exponential backoff with full jitter,
only on codes that mean "try again", within an overall deadline that also caps each
attempt's own timeout. Calls that are not idempotent get one attempt."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import grpc

from tams_client._errors import error_from_rpc

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
    deadline_s: float | None = 60.0
    """Time for the whole call, every attempt and pause included (None: no bound).
    Each attempt's timeout is cut to what is left; no retry starts past it."""

    def start(self, timeout: float | None, *, idempotent: bool = True) -> Attempts:
        """The attempts of one call whose attempts each get ``timeout``."""
        return Attempts(self if idempotent else replace(self, attempts=1), timeout)


class Attempts:
    """The state of one call's attempts: how long the next may take, and whether (and
    after what pause) a failure is tried again."""

    def __init__(
        self,
        policy: RetryPolicy,
        timeout: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._policy = policy
        self._timeout = timeout
        self._clock = clock
        self._deadline = None if policy.deadline_s is None else clock() + policy.deadline_s
        self._made = 0
        self._bound = policy.initial_backoff_s

    def timeout(self, *, capped: bool = True) -> float | None:
        """The next attempt's timeout: the call's, cut to what the deadline leaves
        (unless not ``capped``: a stream may run past the deadline of its start)."""
        self._made += 1
        if self._deadline is None or not capped:
            return self._timeout
        left = max(self._deadline - self._clock(), 0.0)
        return left if self._timeout is None else min(self._timeout, left)

    def pause_after(self, code: grpc.StatusCode) -> float | None:
        """The pause before trying again after a failure with ``code``, or None to
        give up: the code is final, the attempts are spent, or the pause would end
        past the deadline."""
        if code not in RETRYABLE or self._made >= self._policy.attempts:
            return None
        pause = random.uniform(0, self._bound)
        self._bound = min(self._bound * self._policy.multiplier, self._policy.max_backoff_s)
        if self._deadline is not None and self._clock() + pause >= self._deadline:
            return None
        return pause

    def pause_or_raise(self, error: grpc.RpcError) -> float:
        """The pause before trying again after ``error``, or its TamsClientError."""
        mapped = error_from_rpc(error)
        pause = self.pause_after(mapped.code)
        if pause is None:
            raise mapped from None
        return pause
