"""RetryPolicy's arithmetic on a fake clock: which failures are retried, how long each
attempt may take, and that no retry starts past the overall deadline."""

from __future__ import annotations

import grpc

from tams_client import RetryPolicy
from tams_client._retry import Attempts

UNAVAILABLE = grpc.StatusCode.UNAVAILABLE


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_only_retryable_codes_are_retried() -> None:
    attempts = Attempts(RetryPolicy(), 5.0, clock=Clock())
    attempts.timeout()
    assert attempts.pause_after(grpc.StatusCode.NOT_FOUND) is None
    assert attempts.pause_after(UNAVAILABLE) is not None
    assert attempts.pause_after(grpc.StatusCode.DEADLINE_EXCEEDED) is not None


def test_attempts_are_counted_and_pauses_jittered_under_their_bound() -> None:
    policy = RetryPolicy(attempts=3, initial_backoff_s=1.0, max_backoff_s=1.5, deadline_s=None)
    attempts = Attempts(policy, None, clock=Clock())
    pauses = []
    for _ in range(3):
        attempts.timeout()
        pauses.append(attempts.pause_after(UNAVAILABLE))
    assert pauses[2] is None
    assert 0 <= pauses[0] <= 1.0  # type: ignore[operator]
    assert 0 <= pauses[1] <= 1.5  # type: ignore[operator]


def test_the_deadline_caps_each_attempt_and_stops_retries() -> None:
    clock = Clock()
    policy = RetryPolicy(attempts=100, initial_backoff_s=0.5, max_backoff_s=0.5, deadline_s=2.0)
    attempts = Attempts(policy, 30.0, clock=clock)
    assert attempts.timeout() == 2.0
    clock.now += 1.0
    assert attempts.timeout() == 1.0
    clock.now += 0.9  # 0.1 s left: any pause above it would end past the deadline
    paused = [attempts.pause_after(UNAVAILABLE) for _ in range(50)]
    assert all(p is None or p < 0.1 for p in paused)
    clock.now += 0.1
    assert attempts.pause_after(UNAVAILABLE) is None


def test_a_call_that_is_not_idempotent_gets_one_attempt() -> None:
    attempts = RetryPolicy().start(1.0, idempotent=False)
    attempts.timeout()
    assert attempts.pause_after(UNAVAILABLE) is None
