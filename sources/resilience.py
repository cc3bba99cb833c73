"""Resilience of one upstream: a circuit breaker, a bulkhead (cap on concurrent calls) and read retries.

The breaker (per source):

    CLOSED ──(a timeout, or ``failures`` consecutive failures, or an error rate ≥ ``error_rate`` over the last
              ``window`` calls)──> OPEN ──(after ``open_seconds``)──> HALF_OPEN: one probe call goes through
    HALF_OPEN ──probe succeeds──> CLOSED          HALF_OPEN ──probe fails──> OPEN again

While OPEN every call fails at once with SOURCE_UNAVAILABLE instead of waiting for a timeout. A timeout opens the
breaker at once: the calls waiting behind it would each cost a whole deadline otherwise, so an outage costs one
deadline before the source is answered from the breaker. Failures are unavailability and garbage (timeouts,
connection errors, 5xx, invalid answers); a 4xx answer is the system working and counts as a success.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum


class BreakerState(Enum):
    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"


@dataclass(frozen=True, slots=True)
class ResiliencePolicy:
    # The metadata makes these settings (LOTGRAPH_RESILIENCE_…; api/settings_tree.py reads it).
    failures: int = field(
        default=5,
        metadata={"help": "consecutive failures that open a breaker", "key": "breaker_failures", "range": (1, 1000)},
    )
    error_rate: float = 0.5
    window: int = 20
    open_seconds: float = field(
        default=10.0,
        metadata={"help": "seconds a breaker stays open before a probe", "key": "breaker_open_seconds"},
    )
    max_concurrency: int = field(
        default=64, metadata={"help": "calls in flight per source (bulkhead)", "range": (1, 10_000)}
    )
    read_retries: int = field(
        default=2, metadata={"help": "retries of a failed read (never of a command)", "range": (0, 10)}
    )
    backoff_seconds: float = 0.05


@dataclass(frozen=True, slots=True)
class Health:
    """A snapshot of one source, for ``sourceHealth`` and ``/readyz``."""

    source: str
    state: BreakerState
    consecutive_failures: int
    recent_calls: int
    recent_failures: int
    last_latency_ms: float | None
    last_success_at: datetime | None
    last_failure_at: datetime | None
    last_error: str | None
    in_flight: int
    max_concurrency: int


class CircuitBreaker:
    def __init__(self, policy: ResiliencePolicy, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self._clock = clock
        self._state = BreakerState.CLOSED
        self._opened_at = 0.0
        self._probe_in_flight = False
        self._consecutive = 0
        self._recent: deque[bool] = deque(maxlen=policy.window)

    @property
    def state(self) -> BreakerState:
        if self._state is BreakerState.OPEN and self._clock() - self._opened_at >= self.policy.open_seconds:
            return BreakerState.HALF_OPEN
        return self._state

    def allow(self) -> bool:
        """May a call go out now? In HALF_OPEN exactly one probe may."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self._probe_in_flight:
            self._state = BreakerState.HALF_OPEN
            self._probe_in_flight = True
            return True
        return False

    def record(self, ok: bool, *, timed_out: bool = False) -> None:
        self._recent.append(ok)
        was_probe = self._probe_in_flight
        self._probe_in_flight = False
        if ok:
            self._consecutive = 0
            if was_probe or self._state is not BreakerState.OPEN:
                self._state = BreakerState.CLOSED
            return
        self._consecutive += 1
        failures = self._recent.count(False)
        rate_tripped = (
            len(self._recent) >= self.policy.window // 2 and failures / len(self._recent) >= self.policy.error_rate
        )
        if was_probe or timed_out or self._consecutive >= self.policy.failures or rate_tripped:
            self._state = BreakerState.OPEN
            self._opened_at = self._clock()

    @property
    def consecutive_failures(self) -> int:
        return self._consecutive

    @property
    def recent(self) -> tuple[int, int]:
        return len(self._recent), self._recent.count(False)


def backoff(attempt: int, base: float) -> float:
    """Full jitter: a random wait up to base · 2^attempt."""
    return random.uniform(0, base * (2**attempt))


def now() -> datetime:
    return datetime.now(UTC)
