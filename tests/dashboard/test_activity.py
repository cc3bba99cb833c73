"""The plant activity simulator: it changes the plant through the plant's own APIs, from a seed, at a bounded rate,
and leaves the demo's ids alone."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from bench import launch
from bench.launch import LOTGRAPH
from plant.activity import MAX_RATE, PlantActivity, Protected, Step, WithActivity
from plant.app import create_plant_app
from tests.conftest import PlantTemplate
from tests.dashboard.conftest import until

STEPS = 80


@contextlib.asynccontextmanager
async def plant_client(
    template: PlantTemplate, data_dir: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, Any]]]:
    manifest = template.copy_to(data_dir)
    app = create_plant_app(data_dir)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://plant.test") as client,
    ):
        yield client, manifest


async def run_steps(
    template: PlantTemplate, data_dir: Path, seed: int
) -> tuple[list[Step | None], dict[str, Any], dict[str, Any]]:
    async with plant_client(template, data_dir) as (client, manifest):
        protected = Protected.of_manifest(manifest)
        before = await _protected_state(client, manifest)
        activity = PlantActivity(client, seed=seed, protected=protected, run_id="test")
        await activity.prepare()
        steps = [await activity.step() for _ in range(STEPS)]
        after = await _protected_state(client, manifest)
        return steps, before, after


async def _protected_state(client: httpx.AsyncClient, manifest: dict[str, Any]) -> dict[str, Any]:
    demo = manifest["demo"]
    shipments = [demo["shipment_ready"], demo["shipment_blocked"], demo["hold_shipment"]]
    erp = (await client.get("/erp/shipments", params={"ids": ",".join(shipments)})).json()["items"]
    lots = sorted({lot["lot_id"] for s in erp for line in s["lines"] for lot in line["lots"]} | {demo["hold_lot"]})
    return {
        "erp": erp,
        "wms": (await client.get("/wms/shipments", params={"ids": ",".join(shipments)})).json(),
        "qms": (await client.get("/qms/lots", params={"ids": ",".join(lots)})).json(),
        "holds": (await client.get("/qms/holds", params={"lot_ids": ",".join(lots)})).json(),
        "stock": (await client.get("/wms/stock", params={"lot_ids": ",".join(lots)})).json(),
    }


def outbox_types(data_dir: Path) -> collections.Counter[str]:
    counts: collections.Counter[str] = collections.Counter()
    for system in ("erp", "qms", "wms"):
        with contextlib.closing(sqlite3.connect(data_dir / f"{system}.db")) as db:
            counts.update(
                row[0] for row in db.execute("SELECT type FROM outbox WHERE correlation_id LIKE 'activity-%'")
            )
    return counts


async def test_the_activity_moves_the_plant_through_its_apis_and_spares_the_demo_ids(
    plant_template: PlantTemplate, tmp_path: Path
) -> None:
    steps, before, after = await run_steps(plant_template, tmp_path / "plant", seed=11)
    done = [s for s in steps if s is not None]
    assert len(done) >= STEPS * 0.9
    actions = collections.Counter(s.action for s in done)
    assert {"inspect", "advance", "allocate", "hold", "release"} <= set(actions), actions
    # Every change is in the systems' outboxes (what their webhooks deliver), with the activity's correlation ids.
    types = outbox_types(tmp_path / "plant")
    expected = {"LotDispositionChanged", "HoldPlaced", "HoldReleased", "StockStatusChanged", "AllocationChanged"}
    assert expected <= set(types), types
    assert types["HoldPlaced"] == actions["hold"]
    # The ids the demo banner suggests keep answering as it says.
    assert after == before


async def test_the_same_seed_makes_the_same_steps(plant_template: PlantTemplate, tmp_path: Path) -> None:
    first, _, _ = await run_steps(plant_template, tmp_path / "a", seed=5)
    second, _, _ = await run_steps(plant_template, tmp_path / "b", seed=5)
    other, _, _ = await run_steps(plant_template, tmp_path / "c", seed=6)
    assert first == second
    assert first != other


async def test_the_rate_is_bounded() -> None:
    async with httpx.AsyncClient(base_url="http://plant.test") as client:
        activity = PlantActivity(client)
        for rate in (0.0, -1.0, MAX_RATE + 1):
            with pytest.raises(ValueError, match="at most 20 steps per second"):
                await activity.run(rate)
    with pytest.raises(ValueError, match="activity rate"):
        WithActivity(_no_app, base_url="http://plant.test", rate=100, seed=1, protected=Protected())


async def _no_app(scope: Scope, receive: Receive, send: Send) -> None:
    raise AssertionError("not to be called")


async def test_demo_with_activity_moves_the_plant_and_stops_cleanly(tmp_path: Path) -> None:
    async with launch.running(launch.demo, tmp_path / "demo", "--activity", "--activity-rate", "20") as demo:
        async with httpx.AsyncClient(timeout=10) as client:
            assert (await client.get(demo.dashboard)).status_code == 200

            async def commands(system: str) -> int:
                stats = (await client.get(f"{demo.plant}/{system}/admin/stats")).json()["requests"]
                return sum(n for route, n in stats.items() if route.startswith("POST") and "search" not in route)

            async def moving() -> bool:
                return all([await commands("qms") >= 3, await commands("wms") >= 3])

            await until(moving, deadline=30, what="the activity to send commands to the QMS and the WMS")
        assert await demo.astop() == 0
    assert json.loads((tmp_path / "demo" / "plant" / "manifest.json").read_text())["seed"] == 7
    assert sum(outbox_types(tmp_path / "demo" / "plant").values()) >= 3


async def test_demo_refuses_an_activity_rate_out_of_bounds(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        LOTGRAPH,
        "demo",
        "--port",
        "0",
        "--plant-port",
        "0",
        "--data-dir",
        str(tmp_path / "demo"),
        "--activity",
        "--activity-rate",
        "500",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    assert err.decode().strip() == "lotgraph: --activity-rate must be above 0 and at most 20"
    assert out == b""
