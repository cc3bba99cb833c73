"""shipmentReadinessChanged: the watched shipment's readiness is sent first, then again only when its status or
blockers change, re-evaluated when an event touches the shipment, its order or its lots."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx

from tests.events.live import DEADLINE, GraphQLWS, Stack, stack

WATCH = """subscription($ids: [ID!]!) { shipmentReadinessChanged(shipmentIds: $ids) {
  shipmentId previousStatus readiness { status blockers { code lotId } } cause { type keys { lotIds } } } }"""

LOTS = """query($id: ID!) { shipment(id: $id) { lines { lots { id } } } }"""


async def lots_of(live: Stack, shipment_id: str) -> list[str]:
    async with httpx.AsyncClient(base_url=live.gateway.url, timeout=DEADLINE) as client:
        response = await client.post("/graphql", json={"query": LOTS, "variables": {"id": shipment_id}})
    body = response.json()
    assert "errors" not in body, body
    return [a["id"] for line in body["data"]["shipment"]["lines"] for a in line["lots"]]


async def release(live: Stack, hold_id: str) -> None:
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    async with httpx.AsyncClient(base_url=live.plant_url, timeout=DEADLINE) as client:
        response = await client.post(f"/qms/holds/{hold_id}/release", json={"released_by": "qa.test"}, headers=headers)
    assert response.status_code == 200, response.text


async def test_readiness_changes_are_sent_when_a_hold_touches_a_lot_of_the_shipment(
    plant_data: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    plant_dir, manifest = plant_data
    shipment = manifest["demo"]["shipment_ready"]
    async with stack(plant_dir, manifest, tmp_path) as live:
        lots = await lots_of(live, shipment)
        lot = lots[0]
        unrelated = next(f"LOT-{n:06d}" for n in range(1, 2000) if f"LOT-{n:06d}" not in lots)
        async with GraphQLWS(live.gateway.ws_url) as client:
            await client.subscribe("1", WATCH, {"ids": [shipment]})
            initial = (await client.next("1"))["shipmentReadinessChanged"]
            assert initial["shipmentId"] == shipment
            assert initial["previousStatus"] is None
            assert initial["readiness"]["status"] == "READY"
            assert initial["cause"] is None

            await live.place_hold(unrelated)  # touches nothing watched: no message
            hold = await live.place_hold(lot)
            blocked = (await client.next("1"))["shipmentReadinessChanged"]
            assert blocked["previousStatus"] == "READY"
            assert blocked["readiness"]["status"] == "NOT_READY"
            assert {"code": "LOT_ON_HOLD", "lotId": lot} in blocked["readiness"]["blockers"]
            assert lot in blocked["cause"]["keys"]["lotIds"]

            await release(live, hold["id"])
            ready = (await client.next("1"))["shipmentReadinessChanged"]
            assert ready["previousStatus"] == "NOT_READY"
            assert ready["readiness"]["status"] == "READY"
            assert ready["readiness"]["blockers"] == []


async def test_watching_too_many_or_no_shipments_is_refused(
    plant_data: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    plant_dir, manifest = plant_data
    async with stack(plant_dir, manifest, tmp_path, webhooks=False) as live, GraphQLWS(live.gateway.ws_url) as client:
        await client.subscribe("1", WATCH, {"ids": []})
        empty = await client.receive()
        await client.subscribe("2", WATCH, {"ids": [f"DL-{i}" for i in range(101)]})
        many = await client.receive()
    assert empty["type"] == "error"
    assert empty["payload"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert many["type"] == "error"
    assert "at most 100" in many["payload"][0]["message"]
