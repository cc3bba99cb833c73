"""State lives in the SQLite files: holds, dispositions and idempotency keys survive a restart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from plant.app import create_plant_app, create_system_app


async def test_a_hold_survives_reopening_the_databases(data_dir: Path, plant_manifest: dict[str, Any]) -> None:
    lot = plant_manifest["demo"]["hold_lot"]
    body = {"lot_id": lot, "reason_code": "SPEC_DEVIATION", "comment": "", "placed_by": "qa"}
    headers = {"Idempotency-Key": "persist-1"}
    first = create_plant_app(data_dir)
    async with first.router.lifespan_context(first), _client(first) as client:
        hold = (await client.post("/qms/holds", json=body, headers=headers)).json()
        await client.put("/qms/admin/faults", json={"latency_ms": 10})

    second = create_plant_app(data_dir)
    async with second.router.lifespan_context(second), _client(second) as client:
        assert (await client.get(f"/qms/holds/{hold['id']}")).json() == hold
        assert (await client.get(f"/qms/lots/{lot}")).json()["disposition"] == "ON_HOLD"
        replay = await client.post("/qms/holds", json=body, headers=headers)
        assert replay.status_code == 200
        assert replay.json() == hold
        assert (await client.get("/qms/admin/faults")).json()["latency_ms"] == 0  # faults are in memory only


async def test_a_system_app_works_on_its_own(data_dir: Path) -> None:
    app = create_system_app("mes", data_dir)
    async with app.router.lifespan_context(app), _client(app) as client:
        assert (await client.get("/lots/LOT-000001")).status_code == 200
        assert (await client.get("/erp/customers/C0001")).status_code == 404


def _client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://plant")
