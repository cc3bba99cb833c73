"""How holds are carried out: limits of one command, and when a failed later step is tried again or given up."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class HoldPolicy:
    max_lots: int = 5000
    """Most lots one placeHold may hold, propagation included."""
    concurrency: int = 16
    """Upstream commands one placeHold (or one retry round) keeps in flight."""
    lease_seconds: float = 120.0
    """How long a running command owns its idempotency key (and a worker its actions) before another may take
    over: longer than any command runs."""
    max_attempts: int = 10
    """Attempts of a pending action, the first included, before it is escalated to FAILED."""
    retry_base_seconds: float = 1.0
    retry_max_seconds: float = 300.0
    poll_seconds: float = 1.0
    """Longest the retry worker waits before it looks for due actions (also those made by other replicas)."""

    def retry_in(self, attempts: int, rand: Callable[[], float] = random.random) -> float | None:
        """Seconds until the next attempt after ``attempts`` failed ones, or None when it is time to give up.

        Exponential backoff from ``retry_base_seconds``, capped at ``retry_max_seconds``, with jitter (50 to 100 % of
        the delay) so that actions failed together by one outage do not all come back at the same instant.
        """
        if attempts >= self.max_attempts:
            return None
        delay: float = min(self.retry_max_seconds, self.retry_base_seconds * 2.0 ** max(attempts - 1, 0))
        return delay * (0.5 + rand() / 2)
