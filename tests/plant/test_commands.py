"""Commands: holds and their idempotency, dispositions, stock blocks and allocations, the outbox."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import httpx

from plant.outbox import read_events

HOLD = {"reason_code": "CONTAMINATION_SUSPECTED", "comment": "swab positive", "placed_by": "qa.test"}


async def place(client: httpx.AsyncClient, lot_id: str, key: str, **extra: Any) -> httpx.Response:
    return await client.post("/qms/holds", json={"lot_id": lot_id, **HOLD, **extra}, headers={"Idempotency-Key": key})


async def disposition(client: httpx.AsyncClient, lot_id: str) -> str:
    return str((await client.get(f"/qms/lots/{lot_id}")).json()["disposition"])


def outbox(data_dir: Path, system: str) -> list[dict[str, Any]]:
    conn = sqlite3.connect(data_dir / f"{system}.db")
    try:
        return read_events(conn)
    finally:
        conn.close()


async def test_hold_is_idempotent(client: httpx.AsyncClient, plant_manifest: dict[str, Any], data_dir: Path) -> None:
    lot = plant_manifest["demo"]["hold_lot"]
    first = await place(client, lot, "k-1")
    assert first.status_code == 201
    hold = first.json()
    assert hold["status"] == "ACTIVE"
    assert hold["lot_id"] == lot
    again = await place(client, lot, "k-1")
    assert again.status_code == 200
    assert again.headers["idempotency-replayed"] == "true"
    assert again.json() == hold
    holds = (await client.get(f"/qms/holds?lot_ids={lot}")).json()["items"]
    assert [h["id"] for h in holds] == [hold["id"]]
    other = await place(client, lot, "k-1", comment="another comment")
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert await disposition(client, lot) == "ON_HOLD"
    events = outbox(data_dir, "qms")
    assert [event["type"] for event in events] == ["LotDispositionChanged", "HoldPlaced"]
    assert events[1]["keys"] == {"lot_id": lot, "hold_id": hold["id"], "product_id": events[0]["keys"]["product_id"]}
    assert events[0]["payload"]["previous_disposition"] == "RELEASED"
    assert events[1]["source"] == "qms"
    assert events[0]["seq"] < events[1]["seq"]


async def test_hold_needs_a_key_and_a_known_lot(client: httpx.AsyncClient) -> None:
    missing_key = await client.post("/qms/holds", json={"lot_id": "LOT-000001", **HOLD})
    assert missing_key.status_code == 400
    assert missing_key.json()["error"]["code"] == "IDEMPOTENCY_KEY_REQUIRED"
    unknown = await place(client, "LOT-999999", "k-unknown")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "LOT_NOT_FOUND"
    bad = await client.post("/qms/holds", json={"lot_id": "LOT-000001"}, headers={"Idempotency-Key": "k-bad"})
    assert bad.status_code == 400
    retried = await place(client, "LOT-000001", "k-bad")  # a failed command stores nothing under its key
    assert retried.status_code == 201


async def test_release_of_last_hold_restores_disposition(
    client: httpx.AsyncClient, plant_manifest: dict[str, Any], data_dir: Path
) -> None:
    lot = plant_manifest["demo"]["hold_lot"]
    assert await disposition(client, lot) == "RELEASED"
    first = (await place(client, lot, "k-a")).json()
    second = (await place(client, lot, "k-b", reason_code="CUSTOMER_COMPLAINT")).json()
    assert first["id"] != second["id"]
    release = {"released_by": "qa.lead", "comment": "swab retest negative"}
    headers = {"Idempotency-Key": "r-a", "X-Correlation-ID": "corr-42"}
    response = await client.post(f"/qms/holds/{first['id']}/release", json=release, headers=headers)
    assert response.status_code == 200
    assert response.headers["x-correlation-id"] == "corr-42"
    assert response.json()["status"] == "RELEASED"
    assert response.json()["released_by"] == "qa.lead"
    assert await disposition(client, lot) == "ON_HOLD"  # the second hold is still active
    await client.post(f"/qms/holds/{second['id']}/release", json=release, headers={"Idempotency-Key": "r-b"})
    assert await disposition(client, lot) == "RELEASED"
    again = await client.post(f"/qms/holds/{first['id']}/release", json=release, headers={"Idempotency-Key": "r-c"})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "HOLD_NOT_ACTIVE"
    events = outbox(data_dir, "qms")
    released = [row for row in events if row["type"] == "HoldReleased"]
    assert released[0]["correlation_id"] == "corr-42"
    assert events[-1]["type"] == "HoldReleased"
    assert events[-2]["type"] == "LotDispositionChanged"


async def test_disposition_is_refused_while_on_hold(client: httpx.AsyncClient, plant_manifest: dict[str, Any]) -> None:
    lot = plant_manifest["lots"]["on_hold"]
    refused = await client.post(f"/qms/lots/{lot}/disposition", json={"disposition": "RELEASED", "decided_by": "qa"})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "HOLD_ACTIVE"
    free = plant_manifest["demo"]["hold_lot"]
    decided = await client.post(f"/qms/lots/{free}/disposition", json={"disposition": "REJECTED", "decided_by": "qa"})
    assert decided.status_code == 200
    assert decided.json()["disposition"] == "REJECTED"
    wrong = await client.post(f"/qms/lots/{free}/disposition", json={"disposition": "GOOD", "decided_by": "qa"})
    assert wrong.status_code == 400


async def test_block_refuses_allocation_until_unblocked(
    client: httpx.AsyncClient, plant_manifest: dict[str, Any], data_dir: Path
) -> None:
    shipment_id, lot = plant_manifest["demo"]["hold_shipment"], plant_manifest["demo"]["hold_lot"]
    before = (await client.get(f"/wms/shipments/{shipment_id}")).json()
    assert {a["stock_status"] for a in before["allocations"]} == {"UNRESTRICTED"}
    body = {"lot_id": lot, "reason": "quality hold", "reference": "H-1"}
    blocked = await client.post("/wms/stock/block", json=body, headers={"Idempotency-Key": "b-1"})
    assert blocked.status_code == 200
    assert {s["status"] for s in blocked.json()["stock"]} == {"BLOCKED"}
    assert blocked.json()["shipment_ids"] == [shipment_id]
    after = (await client.get(f"/wms/shipments/{shipment_id}")).json()
    assert {a["stock_status"] for a in after["allocations"] if a["lot_id"] == lot} == {"BLOCKED"}
    allocation = {"shipment_id": "DL-999999", "line_no": 1, "lot_id": lot, "quantity": 1.0}
    refused = await client.post("/wms/allocations", json=allocation)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "STOCK_NOT_AVAILABLE"
    no_key = await client.post("/wms/stock/unblock", json={"lot_id": lot})
    assert no_key.status_code == 400
    unblocked = await client.post("/wms/stock/unblock", json={"lot_id": lot}, headers={"Idempotency-Key": "u-1"})
    assert {s["status"] for s in unblocked.json()["stock"]} == {"UNRESTRICTED"}
    allocated = await client.post("/wms/allocations", json=allocation)
    assert allocated.status_code == 201
    assert allocated.json()["stage"] == "ALLOCATED"
    assert allocated.json()["allocations"][0]["lot_id"] == lot
    too_much = await client.post("/wms/allocations", json={**allocation, "quantity": 1e9})
    assert too_much.status_code == 409
    types = [row["type"] for row in outbox(data_dir, "wms")]
    assert types == ["StockStatusChanged", "AllocationChanged"] * 2 + ["AllocationChanged"]


async def test_plant_operations_move_shipments_and_orders(
    client: httpx.AsyncClient, plant_manifest: dict[str, Any], data_dir: Path
) -> None:
    blocked = {b["expected"][0]: b["id"] for b in plant_manifest["shipments"]["blocked"] if len(b["expected"]) == 1}
    shipment_id = blocked["NOT_STAGED"]
    staged = await client.post(f"/wms/shipments/{shipment_id}/stage", json={"stage": "STAGED"})
    assert staged.json()["stage"] == "STAGED"
    order_id = plant_manifest["orders"]["credit_block"]
    lifted = await client.post(f"/erp/orders/{order_id}/blocks", json={"credit_block": False})
    assert lifted.json()["credit_block"] is False
    released = await client.post(
        f"/erp/orders/{plant_manifest['orders']['not_released']}/status", json={"status": "RELEASED"}
    )
    assert released.json()["status"] == "RELEASED"
    shipped = await client.post(f"/erp/shipments/{shipment_id}/status", json={"status": "SHIPPED"})
    assert shipped.json()["shipped_at"] is not None
    deviation = await client.post("/qms/deviations", json={"lot_id": "LOT-000001", "severity": "MINOR", "title": "t"})
    assert deviation.status_code == 201
    closed = await client.post(f"/qms/deviations/{deviation.json()['id']}/close", json={})
    assert closed.json()["status"] == "CLOSED"
    assert [row["type"] for row in outbox(data_dir, "erp")] == ["OrderStatusChanged"] * 2 + ["ShipmentStatusChanged"]
    assert [row["type"] for row in outbox(data_dir, "qms")] == ["DeviationOpened", "DeviationClosed"]
