"""``/metrics`` and the checks of ``/readyz`` are for operators: the operations token or an admin JWT, unless
``ops.access`` is ``open``; everyone still gets ``/readyz``'s status code and status, never an upstream error."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette

from api.ops import OpsSettings
from api.settings import Settings
from tests.conftest import Gateway, Plant, gateway_over, token

OPS_TOKEN = "ops-token-for-tests-0123456789"


@pytest.fixture
async def guarded(settings: Settings, plant: Starlette) -> AsyncIterator[Gateway]:
    async with gateway_over(plant, dataclasses.replace(settings, ops=OpsSettings(token=OPS_TOKEN))) as gateway:
        yield gateway


@pytest.mark.parametrize(
    ("bearer", "allowed"),
    [(None, False), ("garbage", False), (token("viewer"), False), (token("admin"), True), (OPS_TOKEN, True)],
)
async def test_metrics_and_readiness_checks_need_an_operator(
    guarded: Gateway, plant_admin: Plant, bearer: str | None, allowed: bool
) -> None:
    await plant_admin.faults("wms", outage=True)
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    metrics = await guarded.client.get("/metrics", headers=headers)
    assert metrics.status_code == (200 if allowed else 401)
    if not allowed:
        assert metrics.headers["www-authenticate"] == "Bearer"
        assert metrics.json()["error"]["code"] == "UNAUTHENTICATED"
    ready = await guarded.client.get("/readyz", headers=headers)
    assert ready.status_code == 503
    if allowed:
        assert ready.json()["checks"]["wms"]["status"] == "down"
        assert ready.json()["checks"]["wms"]["error"]
    else:
        assert ready.json() == {"status": "not ready"}


async def test_open_access_is_for_a_private_network(settings: Settings, plant: Starlette) -> None:
    open_ops = dataclasses.replace(settings, ops=OpsSettings(access="open"))
    async with gateway_over(plant, open_ops) as gateway:
        assert (await gateway.client.get("/metrics")).status_code == 200
        assert "checks" in (await gateway.client.get("/readyz")).json()
