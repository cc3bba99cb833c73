"""The state of each upstream as this gateway sees it: breaker, recent failures, latency, calls in flight."""

from __future__ import annotations

from resolvers.context import Context
from sources.resilience import BreakerState as BreakerState  # schema shows it
from sources.resilience import Health


def source_health(ctx: Context) -> list[tuple[str, Health]]:
    """Each upstream's health with its site (docs/sites.md): every site's systems, the own site's first."""
    return ctx.sources.health_by_site()
