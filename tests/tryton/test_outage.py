"""Tryton stopped mid-request: readiness is UNKNOWN naming the source, never READY, and the breaker opens."""

from __future__ import annotations

import asyncio
from typing import Any

from resolvers.readiness.model import BlockerCode, ReadinessStatus
from resolvers.readiness.service import decide
from sources.records import WarehouseStage
from sources.resilience import BreakerState, ResiliencePolicy
from tests.tryton_server import Tryton, tryton_sources


async def test_tryton_stopped_mid_request_is_unknown_and_opens_the_breaker(
    tryton: Tryton, manifest: dict[str, Any]
) -> None:
    ready = manifest["shipments"]["packed"][0]
    sources = tryton_sources(tryton, timeout=5.0, policy=ResiliencePolicy(failures=2, read_retries=1, open_seconds=60))
    try:
        (before,) = await decide(sources, WarehouseStage.STAGED, [ready])
        assert before.status is ReadinessStatus.READY
        with tryton.proxy.holding() as waiting:
            pending = asyncio.create_task(decide(sources, WarehouseStage.STAGED, [ready]))
            await asyncio.to_thread(waiting.acquire)  # a request of the decision has reached the proxy
            tryton.stop()
        (during,) = await pending
        assert during.status is ReadinessStatus.UNKNOWN
        unavailable = {b.source for b in during.blockers if b.code is BlockerCode.SOURCE_UNAVAILABLE}
        assert unavailable
        assert unavailable <= {"erp", "wms"}
        (again,) = await decide(sources, WarehouseStage.STAGED, [ready])
        assert again.status is ReadinessStatus.UNKNOWN
        assert {s.health().state for s in (sources.erp, sources.wms)} == {BreakerState.OPEN}
    finally:
        tryton.start()
        await sources.aclose()
    fresh = tryton_sources(tryton)
    try:
        (after,) = await decide(fresh, WarehouseStage.STAGED, [ready])
        assert after.status is ReadinessStatus.READY
    finally:
        await fresh.aclose()
