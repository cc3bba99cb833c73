"""The retry schedule of pending actions: exponential, capped, jittered, and finite."""

from __future__ import annotations

import pytest

from resolvers.holds.policy import HoldPolicy


@pytest.mark.parametrize(("attempts", "low", "high"), [(1, 0.5, 1.0), (2, 1.0, 2.0), (3, 2.0, 4.0), (7, 5.0, 10.0)])
def test_the_delay_doubles_up_to_the_cap_with_jitter(attempts: int, low: float, high: float) -> None:
    policy = HoldPolicy(retry_base_seconds=1.0, retry_max_seconds=10.0, max_attempts=10)
    assert policy.retry_in(attempts, lambda: 0.0) == pytest.approx(low)
    assert policy.retry_in(attempts, lambda: 1.0) == pytest.approx(high)
    assert low < (policy.retry_in(attempts, lambda: 0.5) or 0) < high


def test_no_retry_after_the_last_attempt() -> None:
    policy = HoldPolicy(max_attempts=3)
    assert policy.retry_in(2) is not None
    assert policy.retry_in(3) is None
    assert HoldPolicy(max_attempts=1).retry_in(1) is None
