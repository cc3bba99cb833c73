"""The federated queries against the reference plant, in-process."""

from typing import Any

from tests.conftest import Gateway

ORDER_WALK = """
query($id: ID!) {
  order(id: $id) {
    id status creditBlock customer { id name }
    lines { lineNo quantity product { id name } }
    shipments { id status warehouseStage lines { quantity lots { id disposition stock { status quantity } } } }
  }
}
"""


async def test_an_order_walks_to_its_lots_dispositions_and_stock(gateway: Gateway, manifest: dict[str, Any]) -> None:
    order_id = manifest["orders"]["ready"][0]
    body = await gateway.query(ORDER_WALK, {"id": order_id})
    assert "errors" not in body
    order = body["data"]["order"]
    assert order["id"] == order_id
    assert order["status"] == "RELEASED"
    assert order["customer"]["name"]
    assert order["shipments"]
    for shipment in order["shipments"]:
        lots = [lot for line in shipment["lines"] for lot in line["lots"]]
        assert lots
        for lot in lots:
            assert lot["disposition"] == "RELEASED"
            assert lot["stock"], lot


async def test_unknown_ids_are_null_not_errors(gateway: Gateway) -> None:
    body = await gateway.query('{ order(id: "SO-0") { id } shipment(id: "nope") { id } lot(id: "LOT-X") { id } }')
    assert body == {"data": {"order": None, "shipment": None, "lot": None}}


async def test_a_lot_has_master_quality_and_stock_data(gateway: Gateway, manifest: dict[str, Any]) -> None:
    lot_id = manifest["lots"]["on_hold"]
    body = await gateway.query(
        """query($id: ID!) { lot(id: $id) { id kind quantity uom producedAt plant product { id }
             disposition expiryDate holds(status: ACTIVE) { id status reasonCode lot { id } }
             deviations { id } certificateOfAnalysis { id } stock { location status } } }""",
        {"id": lot_id},
    )
    assert "errors" not in body, body
    lot = body["data"]["lot"]
    assert lot["disposition"] == "ON_HOLD"
    assert lot["holds"]
    assert all(h["status"] == "ACTIVE" and h["lot"]["id"] == lot_id for h in lot["holds"])
    assert lot["kind"] in ("RAW", "INTERMEDIATE", "FINISHED")
    assert lot["product"]["id"]


async def test_lots_of_a_disposition_page_through_the_qms(gateway: Gateway) -> None:
    query = """query($after: String) { lots(filter: {disposition: ON_HOLD}, first: 2, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id disposition } } } }"""
    first = (await gateway.query(query))["data"]["lots"]
    assert first["totalCount"] >= 1
    seen = [e["node"]["id"] for e in first["edges"]]
    after = first["pageInfo"]["endCursor"]
    while first["pageInfo"]["hasNextPage"]:
        first = (await gateway.query(query, {"after": after}))["data"]["lots"]
        seen += [e["node"]["id"] for e in first["edges"]]
        after = first["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == first["totalCount"]
    assert all(e["node"]["disposition"] == "ON_HOLD" for e in first["edges"])


async def test_shipments_filter_by_status_and_warehouse_stage(gateway: Gateway) -> None:
    body = await gateway.query(
        """{ staged: shipments(filter: {warehouseStage: STAGED, status: [PLANNED, IN_PROGRESS]}, first: 500) {
               totalCount edges { node { id status warehouseStage } } }
             shipped: shipments(filter: {status: [SHIPPED]}, first: 5) { totalCount edges { node { status } } } }"""
    )
    assert "errors" not in body, body
    staged = body["data"]["staged"]
    assert staged["totalCount"] == len(staged["edges"]) > 0
    assert {e["node"]["warehouseStage"] for e in staged["edges"]} == {"STAGED"}
    assert {e["node"]["status"] for e in body["data"]["shipped"]["edges"]} == {"SHIPPED"}


async def test_lists_by_ids_keep_the_order_asked(gateway: Gateway, manifest: dict[str, Any]) -> None:
    ids = list(reversed(manifest["shipments"]["ready"][:3]))
    body = await gateway.query(
        "query($ids: [ID!]) { shipments(ids: $ids) { totalCount edges { node { id } } } }", {"ids": [*ids, "DL-0"]}
    )
    assert [e["node"]["id"] for e in body["data"]["shipments"]["edges"]] == ids
    assert body["data"]["shipments"]["totalCount"] == 3
