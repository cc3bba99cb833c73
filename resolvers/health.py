"""The state of each upstream as this gateway sees it: breaker, recent failures, latency, calls in flight."""

from __future__ import annotations

from resolvers.context import Context
from sources.resilience import BreakerState as BreakerState  # schema shows it
from sources.resilience import Health


def source_health(ctx: Context) -> list[Health]:
    return [source.health() for source in ctx.sources.all]
