"""Resilience against the reference plant: timeouts, outages, flapping and garbage → typed errors; the breaker opens
and recovers; reads are retried, commands never."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from sources.contract.wms import WmsSource
from sources.errors import SourceProtocolError, SourceUnavailable
from sources.http import SourceClient
from sources.resilience import BreakerState, ResiliencePolicy
from tests.conftest import PLANT, Plant


@pytest.fixture
async def wms(plant: Starlette) -> AsyncIterator[WmsSource]:
    policy = ResiliencePolicy(failures=3, open_seconds=0.2, read_retries=2, backoff_seconds=0.01)
    client = SourceClient("wms", f"{PLANT}/wms", timeout=0.3, transport=httpx.ASGITransport(app=plant), policy=policy)
    yield WmsSource(client)
    await client.aclose()


async def _until(condition: object, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


async def _wms_requests(admin: Plant) -> int:
    return sum((await admin.stats())["wms"].values())


async def test_a_slow_source_costs_one_timeout_then_answers_from_the_breaker(
    wms: WmsSource, plant_admin: Plant, manifest: dict[str, object]
) -> None:
    await plant_admin.faults("wms", latency_ms=2000)
    await plant_admin.reset_stats()
    with pytest.raises(SourceUnavailable, match="did not answer in time"):
        await wms.shipments(["DL-800001"])
    assert wms.client.breaker.state is BreakerState.OPEN
    with pytest.raises(SourceUnavailable, match="circuit open"):
        await wms.shipments(["DL-800001"])
    assert await _wms_requests(plant_admin) == 1  # one deadline waited out, not two: the breaker answered

    await plant_admin.faults("wms", latency_ms=0)
    await _until(lambda: wms.client.breaker.state is BreakerState.HALF_OPEN)
    assert await wms.shipments(["DL-800001"]) is not None
    assert wms.client.breaker.state is BreakerState.CLOSED
    health = wms.client.health()
    assert health.last_success_at is not None
    assert health.state is BreakerState.CLOSED


async def test_an_outage_opens_the_breaker_after_consecutive_failures(wms: WmsSource, plant_admin: Plant) -> None:
    await plant_admin.faults("wms", outage=True)
    await plant_admin.reset_stats()
    for _ in range(3):
        with pytest.raises(SourceUnavailable, match="failing"):
            await wms.stock_by_lot(["LOT-000001"])
    assert wms.client.breaker.state is BreakerState.OPEN
    assert await _wms_requests(plant_admin) == 3 * 3  # each read tried three times (two retries)
    with pytest.raises(SourceUnavailable, match="circuit open"):
        await wms.stock_by_lot(["LOT-000001"])
    assert await _wms_requests(plant_admin) == 9


async def test_a_flapping_source_is_smoothed_by_read_retries(wms: WmsSource, plant_admin: Plant) -> None:
    await plant_admin.faults("wms", error_rate=0.3)
    answered = 0
    for _ in range(20):
        try:
            await wms.stock_by_lot(["LOT-000001"])
            answered += 1
        except SourceUnavailable:
            pass
    assert answered >= 17  # a read fails only when three tries in a row do (0.3³ ≈ 3 %)


async def test_garbage_is_a_protocol_error_and_counts_against_the_breaker(wms: WmsSource, plant_admin: Plant) -> None:
    await plant_admin.faults("wms", garbage=True)
    for _ in range(3):
        with pytest.raises(SourceProtocolError):
            await wms.shipments(["DL-800001"])
    assert wms.client.breaker.state is BreakerState.OPEN


async def test_commands_are_never_retried(plant: Starlette, plant_admin: Plant) -> None:
    client = SourceClient(
        "wms",
        f"{PLANT}/wms",
        timeout=1,
        transport=httpx.ASGITransport(app=plant),
        policy=ResiliencePolicy(read_retries=2),
    )
    await plant_admin.faults("wms", error_rate=1.0)
    await plant_admin.reset_stats()
    with pytest.raises(SourceUnavailable):
        await client.command(
            "/stock/block",
            {"lot_id": "LOT-000001", "reason": "t", "reference": "r"},
            idempotency_key="k-1",
            route="/stock/block",
        )
    assert (await plant_admin.stats())["wms"] == {"POST /stock/block": 1}
    await client.aclose()
