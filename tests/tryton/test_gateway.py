"""The gateway over a live Tryton, every system of kind ``tryton``, through ``create_app`` and the adapter registry:
genealogy and recall equal to Tryton's own trace, and holds that move stock into quarantine and back, once, under
retried keys. (Readiness runs in the shared suite, tests/readiness, over both kinds.)"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from plant.tryton.server import ADMIN_PASSWORD
from sources.http import SourceClient
from sources.tryton.client import TrytonLogin, TrytonRpc
from tests.conftest import Gateway
from tests.tryton.test_genealogy import tryton_trace
from tests.tryton_server import Tryton, gateway_on, tryton_settings

READINESS = """query($ids: [ID!]!) { shipmentsReadiness(shipmentIds: $ids) {
    shipmentId status blockers { code source lotId } } }"""
TRACE = """query($lot: ID!) { lotGenealogy(lotId: $lot, direction: FORWARD, maxDepth: 20) {
    truncated nodes { depth lot { id kind } } edges { from to quantity uom workOrder } } }"""
PLACE = """mutation($input: PlaceHoldInput!) { placeHold(input: $input) {
    complete replayed holds { id lotId status } lots { id disposition stock { location status quantity } }
    errors { code message } warnings { code message } } }"""
RELEASE = """mutation($input: ReleaseHoldInput!) { releaseHold(input: $input) {
    complete replayed hold { id status } lot { id disposition stock { location status quantity } }
    errors { code message } } }"""


@pytest.fixture
async def gateway(tryton: Tryton, tmp_path: Path) -> AsyncIterator[Gateway]:
    async with gateway_on(tryton_settings(tryton, tmp_path / "gateway")) as gateway:
        yield gateway


async def data(gateway: Gateway, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    body = await gateway.query(query, variables)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]
    return result


async def test_genealogy_answers_equal_trytons_trace(
    gateway: Gateway, tryton: Tryton, manifest: dict[str, Any]
) -> None:
    lot = manifest["lots"]["raw"][0]
    trace = (await data(gateway, TRACE, {"lot": lot}))["lotGenealogy"]
    assert trace["truncated"] is False
    rpc = TrytonRpc(SourceClient("mes", tryton.proxy.url, timeout=30), TrytonLogin("lotgraph", "admin", ADMIN_PASSWORD))
    try:
        assert {n["lot"]["id"] for n in trace["nodes"]} == await tryton_trace(rpc, lot, "upward_traces")
    finally:
        await rpc.aclose()
    assert all(e["uom"] == "kg" and e["quantity"] > 0 and e["workOrder"] for e in trace["edges"])


def _stock(lot: dict[str, Any]) -> dict[tuple[str, str], float]:
    return {(s["location"], s["status"]): s["quantity"] for s in lot["stock"]}


async def test_a_hold_quarantines_stock_once_and_its_release_moves_it_back(
    gateway: Gateway, manifest: dict[str, Any]
) -> None:
    shipment = manifest["shipments"]["assigned"][4]
    lot = manifest["shipment_lots"][shipment]
    hold_input = {"lotIds": [lot], "reasonCode": "SUSPECTED_CONTAMINATION", "comment": "gateway test"}
    hold_input |= {"propagate": "NONE", "idempotencyKey": uuid.uuid4().hex}
    first = (await data(gateway, PLACE, {"input": hold_input}))["placeHold"]
    again = (await data(gateway, PLACE, {"input": hold_input}))["placeHold"]
    assert first["complete"] is True, first
    assert first["errors"] == []
    assert again["replayed"] is True
    assert again["holds"] == first["holds"]
    (held_lot,) = first["lots"]
    assert held_lot["disposition"] == "ON_HOLD"
    stock = _stock(held_lot)
    assert stock[("QUA", "BLOCKED")] > 0
    readiness = (await data(gateway, READINESS, {"ids": [shipment]}))["shipmentsReadiness"][0]
    assert {"LOT_ON_HOLD", "STOCK_BLOCKED"} <= {b["code"] for b in readiness["blockers"]}

    release_input = {"holdId": first["holds"][0]["id"], "comment": "cleared", "idempotencyKey": uuid.uuid4().hex}
    released = (await data(gateway, RELEASE, {"input": release_input}))["releaseHold"]
    replayed = (await data(gateway, RELEASE, {"input": release_input}))["releaseHold"]
    assert released["complete"] is True, released
    assert released["hold"]["status"] == "RELEASED"
    assert replayed["replayed"] is True
    assert ("QUA", "BLOCKED") not in _stock(released["lot"])
    assert sum(_stock(released["lot"]).values()) == sum(stock.values())


RECALL = """query($lot: ID!) { recallImpact(lotId: $lot, maxDepth: 20) {
    complete affectedLots { lot { id } disposition }
    shippedShipments { shipment { id } affectedLotIds } pendingShipments { shipment { id } affectedLotIds }
    customers { customerId } sourceErrors { source code }
    totals { lots shippedShipments pendingShipments customers } } }"""


async def test_recall_impact_over_tryton_follows_its_trace_to_shipments(
    gateway: Gateway, tryton: Tryton, manifest: dict[str, Any]
) -> None:
    shipped_lot = manifest["shipment_lots"][manifest["shipments"]["done"][0]]
    rpc = TrytonRpc(SourceClient("mes", tryton.proxy.url, timeout=30), TrytonLogin("lotgraph", "admin", ADMIN_PASSWORD))
    try:  # a raw lot that went into a shipped lot, and everything Tryton traces from it
        lot = min(n for n in await tryton_trace(rpc, shipped_lot, "downward_traces") if n.startswith("RM-"))
        reached = await tryton_trace(rpc, lot, "upward_traces")
    finally:
        await rpc.aclose()
    recall = (await data(gateway, RECALL, {"lot": lot}))["recallImpact"]
    assert recall["complete"] is True
    assert recall["sourceErrors"] == []
    assert {a["lot"]["id"] for a in recall["affectedLots"]} == reached
    shipped = {s["shipment"]["id"] for s in recall["shippedShipments"]}
    pending = {s["shipment"]["id"] for s in recall["pendingShipments"]}
    expected = {s for s, shipped_lot in manifest["shipment_lots"].items() if shipped_lot in reached}
    assert expected  # the raw lot reaches shipments of the data set
    assert shipped | pending == expected
    assert recall["totals"]["lots"] == len(reached)


CUSTODY = """query($lot: ID!) { lot(id: $lot) {
    custody { eventId bizStep fromLocation toParty toLocation quantity uom referenceType reference container }
    containment { packedIn { parentId } } } }"""


async def test_custody_over_tryton_is_its_customer_shipments_and_it_keeps_no_containers(
    gateway: Gateway, manifest: dict[str, Any]
) -> None:
    shipment = manifest["shipments"]["done"][0]
    lot = manifest["shipment_lots"][shipment]
    body = await gateway.query(CUSTODY, {"lot": lot})
    (moved,) = body["data"]["lot"]["custody"]
    assert moved["eventId"].startswith("tryton:stock.move,")
    assert (moved["bizStep"], moved["referenceType"], moved["reference"]) == ("shipping", "desadv", shipment)
    assert (moved["fromLocation"], moved["toLocation"], moved["container"]) == ("WH", "CUS", None)
    assert moved["toParty"].startswith("C-")
    assert (moved["quantity"], moved["uom"]) == (2.0, "kg")  # the data set sells 2 kg a line
    assert body["data"]["lot"]["containment"] is None
    (error,) = body["errors"]
    assert (error["path"], error["extensions"]["code"]) == (["lot", "containment"], "NOT_SUPPORTED_BY_SOURCE")
