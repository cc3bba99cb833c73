"""The generator: deterministic, the readiness scenarios it promises, and the genealogy's shape."""

from __future__ import annotations

import sqlite3
from collections import Counter
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest

from plant.app import ensure_data
from plant.generator import generate
from tests.plant.conftest import BASE_DATE
from tests.plant.readiness import blockers

CODES = {
    "CREDIT_BLOCK", "DELIVERY_BLOCK", "ORDER_NOT_RELEASED", "LOT_NOT_RELEASED", "LOT_ON_HOLD", "OPEN_DEVIATION",
    "COA_MISSING", "LOT_EXPIRED", "STOCK_BLOCKED", "ALLOCATION_INCOMPLETE", "PICKING_INCOMPLETE", "NOT_STAGED",
}  # fmt: skip


def dump(data_dir: Path) -> dict[str, list[tuple[Any, ...]]]:
    tables: dict[str, list[tuple[Any, ...]]] = {}
    for system in ("erp", "qms", "mes", "wms"):
        with closing(sqlite3.connect(data_dir / f"{system}.db")) as conn:
            names = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for name in names:
                tables[f"{system}.{name}"] = sorted(conn.execute(f"SELECT * FROM {name}").fetchall(), key=repr)
    return tables


def comparable(manifest: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in manifest.items() if key != "generation_seconds"}


def test_same_seed_same_plant(generated: Path, plant_manifest: dict[str, Any], tmp_path: Path) -> None:
    again = generate(tmp_path, seed=7, lots=2000, base_date=BASE_DATE)
    assert comparable(again) == comparable(plant_manifest)
    assert dump(tmp_path) == dump(generated)
    other = generate(tmp_path / "other", seed=8, lots=2000, base_date=BASE_DATE)
    assert comparable(other) != comparable(plant_manifest)


def test_sizes_and_provenance(plant_manifest: dict[str, Any]) -> None:
    assert plant_manifest["counts"]["lots"] == 2000
    assert 150 <= plant_manifest["counts"]["orders"] <= 250
    assert plant_manifest["base_date"] == BASE_DATE.isoformat()
    assert plant_manifest["generation_seconds"] >= 0  # recorded; how fast is not a test's business


def test_every_blocker_alone_at_least_twice(plant_manifest: dict[str, Any]) -> None:
    blocked = plant_manifest["shipments"]["blocked"]
    alone = Counter(entry["expected"][0] for entry in blocked if len(entry["expected"]) == 1)
    assert set(alone) == CODES
    assert min(alone.values()) >= 2
    assert sum(1 for entry in blocked if len(entry["expected"]) > 1) >= 3
    assert len(plant_manifest["shipments"]["ready"]) >= 5


async def test_scenarios_hold_over_the_http_api(client: httpx.AsyncClient, plant_manifest: dict[str, Any]) -> None:
    cases: list[tuple[str, set[str]]] = [(sid, set()) for sid in plant_manifest["shipments"]["ready"]]
    cases += [(entry["id"], set(entry["expected"])) for entry in plant_manifest["shipments"]["blocked"]]
    cases.append((plant_manifest["demo"]["hold_shipment"], set()))
    for shipment_id, expected in cases:
        assert await blockers(client, shipment_id, BASE_DATE) == expected, shipment_id
    for order_id in plant_manifest["orders"]["ready"]:
        order = (await client.get(f"/erp/orders/{order_id}")).json()
        assert set(order["shipment_ids"]) <= set(plant_manifest["shipments"]["ready"])
    assert len(order["shipment_ids"]) == 1
    first = (await client.get(f"/erp/orders/{plant_manifest['orders']['ready'][0]}")).json()
    assert len(first["shipment_ids"]) == 3


async def test_held_lots_are_consistent_across_systems(
    client: httpx.AsyncClient, plant_manifest: dict[str, Any]
) -> None:
    held = (await client.post("/qms/lots/search", json={"disposition": "ON_HOLD", "limit": 500})).json()["items"]
    ids = ",".join(lot["lot_id"] for lot in held)
    active = (await client.get(f"/qms/holds?lot_ids={ids}&status=ACTIVE")).json()["items"]
    assert {hold["lot_id"] for hold in active} == {lot["lot_id"] for lot in held}
    everyone = (await client.post("/qms/holds/search", json={"status": "ACTIVE", "limit": 500})).json()
    assert {hold["lot_id"] for hold in everyone["items"]} == {lot["lot_id"] for lot in held}


async def test_genealogy_corner_cases(client: httpx.AsyncClient, plant_manifest: dict[str, Any]) -> None:
    lots = plant_manifest["lots"]
    cycle = lots["cycle"]
    edges = (await client.get(f"/mes/genealogy?input_lot_ids={','.join(cycle)}")).json()["items"]
    links = {(edge["input_lot_id"], edge["output_lot_id"]) for edge in edges}
    assert {(cycle[0], cycle[1]), (cycle[1], cycle[2]), (cycle[2], cycle[0])} <= links
    raw = (await client.get(f"/mes/lots/{lots['raw_wide']}")).json()
    assert raw["kind"] == "RAW"
    assert raw["work_order_id"] is None
    assert raw["supplier"]
    reach, depth, finished = await trace_forward(client, lots["raw_wide"])
    assert (reach, depth) == (lots["raw_wide_reach"], lots["raw_wide_depth"])
    assert finished == lots["raw_wide_finished"] >= 200


async def trace_forward(client: httpx.AsyncClient, start: str) -> tuple[int, int, int]:
    """Breadth-first forward trace with one batched request per level of at most 500 ids."""
    seen, frontier, depth = {start}, [start], 0
    while frontier:
        following: list[str] = []
        for i in range(0, len(frontier), 500):
            chunk = ",".join(frontier[i : i + 500])
            for edge in (await client.get(f"/mes/genealogy?input_lot_ids={chunk}")).json()["items"]:
                if edge["output_lot_id"] not in seen:
                    seen.add(edge["output_lot_id"])
                    following.append(edge["output_lot_id"])
        depth += bool(following)
        frontier = following
    reached = sorted(seen - {start})
    finished = 0
    for i in range(0, len(reached), 500):
        items = (await client.get(f"/mes/lots?ids={','.join(reached[i : i + 500])}")).json()["items"]
        finished += sum(1 for lot in items if lot["kind"] == "FINISHED")
    return len(reached), depth, finished


@pytest.fixture(scope="module")
def larger(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return generate(tmp_path_factory.mktemp("plant-20k"), seed=3, lots=20_000, base_date=BASE_DATE)


def test_larger_plant_is_deep_with_the_same_scenarios(larger: dict[str, Any], plant_manifest: dict[str, Any]) -> None:
    assert larger["counts"]["lots"] == 20_000
    assert larger["lots"]["raw_wide_depth"] >= 12
    assert larger["genealogy"]["levels"] >= 13
    assert larger["lots"]["raw_wide_reach"] >= 1000
    assert larger["counts"]["genealogy_edges"] > larger["counts"]["lots"]
    assert larger["lots"]["merge"]
    assert larger["lots"]["split"]
    assert larger["lots"]["multi_customer"]
    assert len(larger["lots"]["cycle"]) == 3
    expected = sorted(tuple(entry["expected"]) for entry in larger["shipments"]["blocked"])
    assert expected == sorted(tuple(entry["expected"]) for entry in plant_manifest["shipments"]["blocked"])


def test_ensure_data_generates_once(tmp_path: Path) -> None:
    first = ensure_data(tmp_path, seed=5, lots=2000)
    marker = (tmp_path / "mes.db").stat().st_mtime_ns
    assert ensure_data(tmp_path, seed=5, lots=2000) == first
    assert (tmp_path / "mes.db").stat().st_mtime_ns == marker


def test_too_small_a_plant_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 2000 lots"):
        generate(tmp_path, lots=500)
