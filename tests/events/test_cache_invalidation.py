"""An event concerning a lot makes every replica forget the lot's cached master record (the MES cache)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from tests.events.live import DEADLINE, hold_body, post_webhook, stack

LOT = """query($id: ID!) { lot(id: $id) { id plant } }"""


async def test_an_event_about_a_lot_invalidates_its_cached_record(
    plant_data: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    plant_dir, manifest = plant_data
    lot = manifest["demo"]["lot_forward"]
    async with (
        stack(plant_dir, manifest, tmp_path, webhooks=False) as live,
        httpx.AsyncClient(base_url=live.gateway.url, timeout=DEADLINE) as gateway,
        httpx.AsyncClient(base_url=live.plant_url, timeout=DEADLINE) as plant,
    ):

        async def mes_requests() -> int:
            count: int = (await plant.get("/mes/admin/stats")).json()["total"]
            return count

        async def read_lot() -> None:
            response = await gateway.post("/graphql", json={"query": LOT, "variables": {"id": lot}})
            assert response.json()["data"]["lot"]["id"] == lot

        await read_lot()
        cached = await mes_requests()
        await read_lot()
        assert await mes_requests() == cached  # served from the cache

        assert (await post_webhook(live.gateway.url, "qms", hold_body(lot))).status_code == 200
        deadline = time.monotonic() + DEADLINE
        while await mes_requests() == cached:  # the cache follows the bus: the next read goes to the MES
            assert time.monotonic() < deadline, "the lot's cached record was not invalidated"
            await read_lot()
        assert await mes_requests() == cached + 1
