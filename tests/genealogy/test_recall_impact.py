"""``recallImpact`` against the reference plant, checked against its raw ERP, QMS, MES and WMS tables; the whole
answer also over a live Tryton, checked against what Tryton and the contract QMS beside it hold."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Gateway, Plant
from tests.genealogy.conftest import Upstream

RECALL = """query($lot: ID!, $depth: Int) { recallImpact(lotId: $lot, maxDepth: $depth) {
    root { id } maxDepth complete truncated truncation { reason } cycles { lotIds }
    affectedLots { depth disposition lot { id } stock { location status quantity } }
    shippedShipments { shipment { id status customerId orderId } affectedLotIds }
    pendingShipments { shipment { id status customerId orderId } affectedLotIds }
    customers { customerId customer { id name } shippedShipmentIds pendingShipmentIds affectedLotIds }
    openOrders { id status }
    sourceErrors { source code message }
    totals { lots depth lotsWithStock byDisposition { disposition lots } stock { status uom quantity lots }
             shippedShipments pendingShipments shippedQuantity { uom quantity } customers customersShippedTo
             openOrders }
} }"""


async def recall(gateway: Gateway, lot: str, depth: int | None = 20) -> dict[str, Any]:
    body = await gateway.query(RECALL, {"lot": lot, "depth": depth})
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["recallImpact"]
    return result


RECALLS = [
    ("contract", which, depth) for depth in (1, 20) for which in ("raw_wide", "multi_customer", "split", "merge")
]
RECALLS += [("tryton", "raw_wide", 20), ("tryton", "split", 1)]


@pytest.mark.parametrize(("upstream", "which", "depth"), RECALLS, indirect=["upstream"])
async def test_recall_impact_matches_the_raw_tables(upstream: Upstream, which: str, depth: int) -> None:
    lot = upstream.lots[which]
    result = await recall(upstream.gateway, lot, depth)
    closure = upstream.genealogy.closure(lot, forward=True, max_depth=depth)
    affected = {a["lot"]["id"]: a for a in result["affectedLots"]}
    assert {i: a["depth"] for i, a in affected.items()} == closure.depth
    assert result["affectedLots"][0]["lot"]["id"] == lot
    assert result["truncated"] is closure.truncated
    assert result["complete"] is not closure.truncated
    assert result["sourceErrors"] == []

    records = await upstream.records()
    dispositions, stock = records.dispositions, records.stock
    assert {i: a["disposition"] for i, a in affected.items()} == {i: dispositions.get(i) for i in closure.depth}
    for lot_id, a in affected.items():
        assert {(s["location"], s["status"], s["quantity"]) for s in a["stock"]} == stock.get(lot_id, set())

    shipments = records.shipments_of(set(closure.depth))
    shipped = {s for s, (status, _, _) in shipments.items() if status == "SHIPPED"}
    pending = {s for s, (status, _, _) in shipments.items() if status in ("PLANNED", "IN_PROGRESS")}
    assert [h["shipment"]["id"] for h in result["shippedShipments"]] == sorted(shipped)
    assert [h["shipment"]["id"] for h in result["pendingShipments"]] == sorted(pending)
    for hit in result["shippedShipments"] + result["pendingShipments"]:
        assert hit["affectedLotIds"]
        assert set(hit["affectedLotIds"]) <= set(closure.depth)
    customers = {shipments[s][1] for s in shipped | pending}
    assert [c["customerId"] for c in result["customers"]] == sorted(customers)
    for c in result["customers"]:
        assert c["customer"]["id"] == c["customerId"]
        assert set(c["shippedShipmentIds"]) == {s for s in shipped if shipments[s][1] == c["customerId"]}
        assert set(c["pendingShipmentIds"]) == {s for s in pending if shipments[s][1] == c["customerId"]}
    orders = records.orders
    open_orders = {shipments[s][2] for s in shipped | pending if orders[shipments[s][2]] in ("CREATED", "RELEASED")}
    assert {o["id"] for o in result["openOrders"]} == open_orders

    totals = result["totals"]
    assert totals["lots"] == len(closure.depth)
    assert totals["depth"] == max(closure.depth.values())
    assert totals["lotsWithStock"] == sum(1 for i in closure.depth if stock.get(i))
    counted = {c["disposition"]: c["lots"] for c in totals["byDisposition"]}
    assert sum(counted.values()) == sum(1 for i in closure.depth if i in dispositions)
    assert counted == {d: sum(1 for i in closure.depth if dispositions.get(i) == d) for d in counted}
    on_hand = sum(q for i in closure.depth for _, _, q in stock.get(i, ()))
    assert sum(t["quantity"] for t in totals["stock"]) == pytest.approx(on_hand)
    assert (totals["shippedShipments"], totals["pendingShipments"]) == (len(shipped), len(pending))
    assert totals["customers"] == len(customers)
    assert totals["customersShippedTo"] == len({shipments[s][1] for s in shipped})
    assert totals["openOrders"] == len(open_orders)


async def test_a_lot_shipped_to_several_customers_names_them(gateway: Gateway, manifest: dict[str, Any]) -> None:
    result = await recall(gateway, manifest["lots"]["multi_customer"])
    received = [c for c in result["customers"] if c["shippedShipmentIds"]]
    assert len(received) >= 2
    assert result["totals"]["shippedQuantity"]


async def test_recall_reads_each_kind_once_per_level(
    gateway: Gateway, plant_admin: Plant, manifest: dict[str, Any]
) -> None:
    await plant_admin.reset_stats()
    result = await recall(gateway, manifest["lots"]["raw_wide"])
    depth = result["totals"]["depth"]
    stats = await plant_admin.stats()
    filled = depth + 1  # the root, then every level that found lots
    assert stats["mes"] == {"GET /genealogy": depth + 1, "GET /lots": 1}  # no field reads a master but the root's
    assert stats["qms"] == {"GET /lots": filled}
    assert stats["wms"] == {"GET /stock": filled}
    assert stats["erp"] == {"GET /shipments": filled, "GET /customers": 1, "GET /orders": 1}
    await plant_admin.reset_stats()
    with_kind = await gateway.query(
        "query($lot: ID!) { recallImpact(lotId: $lot) { affectedLots { lot { id kind } } } }",
        {"lot": manifest["lots"]["raw_wide"]},
    )
    assert all(a["lot"]["kind"] for a in with_kind["data"]["recallImpact"]["affectedLots"]), with_kind
    assert (await plant_admin.stats())["mes"]["GET /lots"] == filled - 1  # the root's is in the MES cache


async def test_the_qms_down_costs_dispositions_only_and_says_so(
    gateway: Gateway, plant_admin: Plant, manifest: dict[str, Any]
) -> None:
    await plant_admin.faults("qms", outage=True)
    body = await gateway.query(RECALL, {"lot": manifest["lots"]["multi_customer"], "depth": 20})
    result = body["data"]["recallImpact"]
    assert result["complete"] is False
    assert result["sourceErrors"] == [
        {"source": "qms", "code": "SOURCE_UNAVAILABLE", "message": result["sourceErrors"][0]["message"]}
    ]
    assert all(a["disposition"] is None and a["stock"] is not None for a in result["affectedLots"])
    assert result["shippedShipments"]
    assert result["totals"]["byDisposition"] is None
    assert result["totals"]["lots"] == len(result["affectedLots"])
    assert [(e["path"], e["extensions"]) for e in body["errors"]] == [
        (["recallImpact", "totals", "byDisposition"], {"code": "SOURCE_UNAVAILABLE", "source": "qms"})
    ]


async def test_the_erp_down_costs_shipments_customers_and_orders_only(
    gateway: Gateway, plant_admin: Plant, manifest: dict[str, Any]
) -> None:
    await plant_admin.faults("erp", outage=True)
    body = await gateway.query(RECALL, {"lot": manifest["lots"]["multi_customer"], "depth": 20})
    result = body["data"]["recallImpact"]
    assert result["complete"] is False
    assert [e["source"] for e in result["sourceErrors"]] == ["erp"]
    assert all(a["disposition"] for a in result["affectedLots"])
    for field in ("shippedShipments", "pendingShipments", "customers", "openOrders"):
        assert result[field] is None
    assert {e["extensions"]["source"] for e in body["errors"]} == {"erp"}
    assert all("plant.test" not in e["message"] for e in body["errors"])


async def test_a_truncated_recall_is_not_complete(gateway: Gateway, manifest: dict[str, Any]) -> None:
    result = await recall(gateway, manifest["lots"]["raw_wide"], 2)
    assert result["truncated"] is True
    assert result["truncation"] == {"reason": "MAX_DEPTH"}
    assert result["complete"] is False


async def test_lot_fields_of_affected_lots_cost_no_extra_batch(
    gateway: Gateway, plant_admin: Plant, manifest: dict[str, Any]
) -> None:
    await plant_admin.reset_stats()
    body = await gateway.query(
        """query($lot: ID!) { recallImpact(lotId: $lot) { totals { depth }
             affectedLots { disposition lot { id disposition holds { id } stock { quantity } } } } }""",
        {"lot": manifest["lots"]["split"]},
    )
    assert "errors" not in body, body
    lots = body["data"]["recallImpact"]["affectedLots"]
    assert all(a["disposition"] == a["lot"]["disposition"] for a in lots)
    filled = body["data"]["recallImpact"]["totals"]["depth"] + 1
    stats = await plant_admin.stats()
    assert stats["qms"] == {"GET /lots": filled, "GET /holds": filled}
    assert stats["wms"] == {"GET /stock": filled}
