"""Fault knobs and request counters of the admin API."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import httpx
import pytest


async def faults(client: httpx.AsyncClient, system: str, **knobs: Any) -> dict[str, Any]:
    response = await client.put(f"/{system}/admin/faults", json=knobs)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_outage_answers_503_but_admin_still_works(client: httpx.AsyncClient) -> None:
    await faults(client, "qms", outage=True)
    down = await client.get("/qms/lots/LOT-000001")
    assert down.status_code == 503
    assert down.json()["error"]["code"] == "UNAVAILABLE"
    assert (await client.post("/qms/holds", json={})).status_code == 503
    assert (await client.get("/erp/customers/C0001")).status_code == 200  # other systems are unaffected
    assert (await client.get("/qms/admin/faults")).json()["outage"] is True
    await faults(client, "qms", outage=False)
    assert (await client.get("/qms/lots/LOT-000001")).status_code == 200


async def test_partial_updates_keep_other_knobs(client: httpx.AsyncClient) -> None:
    await faults(client, "mes", latency_ms=5, error_rate=0.25)
    current = await faults(client, "mes", garbage=True)
    assert current == {"latency_ms": 5.0, "error_rate": 0.25, "outage": False, "garbage": True}


@pytest.mark.parametrize(
    "body",
    [{"latency_ms": -1}, {"latency_ms": "5"}, {"error_rate": 1.5}, {"outage": "yes"}, {"garbage": 1}, {"speed": 1}],
)
async def test_bad_knobs_are_refused_and_change_nothing(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    response = await client.put("/wms/admin/faults", json={"outage": True, **body})
    assert response.status_code == 400
    assert (await client.get("/wms/admin/faults")).json()["outage"] is False


async def test_latency_delays_answers_but_not_admin_calls(client: httpx.AsyncClient) -> None:
    await faults(client, "erp", latency_ms=3_600_000)  # an hour: the read cannot answer during the test
    await client.post("/erp/admin/stats/reset")
    read = asyncio.create_task(client.get("/erp/customers/C0001"))
    try:
        # the plant counts a request, then holds it for the latency; admin calls answer meanwhile
        for _ in range(100):  # a few turns of the event loop take the read to the plant's delay
            await asyncio.sleep(0)
            counted = (await client.get("/erp/admin/stats")).json()["requests"]
            if counted:
                break
        assert counted == {"GET /customers/{id}": 1}, counted
        assert (await faults(client, "erp", latency_ms=0))["latency_ms"] == 0
        assert not read.done()
        assert (await client.get("/erp/customers/C0001")).status_code == 200  # no latency now: answers
        assert not read.done()  # the held read still waits out its hour
    finally:
        read.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await read


async def test_garbage_answers_reads_with_invalid_json(client: httpx.AsyncClient) -> None:
    await faults(client, "mes", garbage=True)
    for response in (
        await client.get("/mes/lots?ids=LOT-000001"),
        await client.post("/mes/lots/search", json={"limit": 1}),
    ):
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        with pytest.raises(json.JSONDecodeError):
            json.loads(response.content)


async def test_error_rate_one_fails_every_request(client: httpx.AsyncClient) -> None:
    await faults(client, "wms", error_rate=1.0)
    for _ in range(5):
        response = await client.get("/wms/stock?lot_ids=LOT-000001")
        assert response.status_code == 500
        assert response.json()["error"]["code"] == "INTERNAL"


async def test_stats_count_by_route_template_and_reset(client: httpx.AsyncClient) -> None:
    await client.get("/qms/lots?ids=LOT-000001,LOT-000002")
    await client.get("/qms/lots/LOT-000001")
    await client.get("/qms/lots/LOT-000002")
    await client.post("/qms/holds", json={})  # counted even though it fails
    await client.get("/qms/admin/faults")
    stats = (await client.get("/qms/admin/stats")).json()
    assert stats == {"total": 4, "requests": {"GET /lots": 1, "GET /lots/{id}": 2, "POST /holds": 1}}
    assert (await client.get("/erp/admin/stats")).json() == {"total": 0, "requests": {}}
    assert (await client.post("/qms/admin/stats/reset")).json() == {"total": 0, "requests": {}}
    assert (await client.get("/qms/admin/stats")).json()["total"] == 0
