"""``sourceHealth``: what operators and dashboards see of each upstream's breaker and latency."""

from __future__ import annotations

from datetime import datetime
from typing import TypeAlias

import strawberry

from resolvers import health
from schema.info import Info

strawberry.enum(
    health.BreakerState,
    description="CLOSED: calls go through; OPEN: calls fail at once with SOURCE_UNAVAILABLE; HALF_OPEN: one probe "
    "call decides.",
)
BreakerState: TypeAlias = health.BreakerState


@strawberry.type(description="One upstream system as this gateway replica sees it.")
class SourceHealth:
    source: str
    site: str = strawberry.field(description="The site whose system it is (docs/sites.md).")
    state: BreakerState
    consecutive_failures: int
    recent_calls: int = strawberry.field(description="Calls in the breaker's window.")
    recent_failures: int
    last_latency_ms: float | None
    last_success_at: datetime | None
    last_failure_at: datetime | None
    last_error: str | None
    in_flight: int = strawberry.field(description="Calls under way now (the bulkhead's use).")
    max_concurrency: int


@strawberry.type
class HealthQuery:
    @strawberry.field(description="Each upstream's breaker state, recent failures and latency, on this replica.")
    def source_health(self, info: Info) -> list[SourceHealth]:
        return [
            SourceHealth(
                source=h.source,
                site=site,
                state=h.state,
                consecutive_failures=h.consecutive_failures,
                recent_calls=h.recent_calls,
                recent_failures=h.recent_failures,
                last_latency_ms=h.last_latency_ms,
                last_success_at=h.last_success_at,
                last_failure_at=h.last_failure_at,
                last_error=h.last_error,
                in_flight=h.in_flight,
                max_concurrency=h.max_concurrency,
            )
            for site, h in health.source_health(info.context)
        ]
