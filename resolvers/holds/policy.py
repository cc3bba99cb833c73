"""How holds are carried out: limits of one command, and when a failed later step is tried again or given up."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class HoldPolicy:
    """The ``holds`` settings (LOTGRAPH_HOLDS_…): the metadata is read by api/settings_tree.py."""

    max_lots: int = field(
        default=5000,
        metadata={
            "help": "most lots one `placeHold` may hold, propagation included (1 to 100,000); a request that would "
            "hold more is refused (`TOO_MANY_LOTS` / `PROPAGATION_INCOMPLETE`) and changes nothing",
            "range": (1, 100_000),
        },
    )
    concurrency: int = field(
        default=16,
        metadata={
            "help": "QMS or WMS commands one `placeHold`, or one round of the retry worker, keeps in flight (1 to 256)",
            "range": (1, 256),
        },
    )
    lease_seconds: float = field(
        default=120.0,
        metadata={
            "help": "how long a running command owns its idempotency key (repeats meanwhile answer `IN_PROGRESS`), "
            "and a retry worker the actions it took; after that a repeat or another worker takes over, and a "
            "command whose process died is recovered from its saga record (over 0, at most 600)"
        },
    )
    max_attempts: int = field(
        default=10,
        metadata={
            "help": "attempts of a pending action (block or unblock stock), the first included, before it is "
            "escalated to `FAILED` (1 to 1000)",
            "key": "retry_max_attempts",
            "range": (1, 1000),
        },
    )
    retry_base_seconds: float = field(
        default=1.0,
        metadata={
            "help": "delay before the first retry; it doubles with every attempt, with 50 to 100 % jitter (over 0, at "
            "most 600)"
        },
    )
    retry_max_seconds: float = field(
        default=300.0, metadata={"help": "longest delay between two attempts (over 0, at most 600)"}
    )
    poll_seconds: float = field(
        default=1.0,
        metadata={
            "help": "longest the retry worker waits before it looks for due actions, also those other replicas "
            "recorded (over 0, at most 600)",
            "key": "retry_poll_seconds",
        },
    )

    def retry_in(self, attempts: int, rand: Callable[[], float] = random.random) -> float | None:
        """Seconds until the next attempt after ``attempts`` failed ones, or None when it is time to give up.

        Exponential backoff from ``retry_base_seconds``, capped at ``retry_max_seconds``, with jitter (50 to 100 % of
        the delay) so that actions failed together by one outage do not all come back at the same instant.
        """
        if attempts >= self.max_attempts:
            return None
        delay: float = min(self.retry_max_seconds, self.retry_base_seconds * 2.0 ** max(attempts - 1, 0))
        return delay * (0.5 + rand() / 2)
