"""Reads: batch and single reads, id-list limits, searches with keyset pagination, relations."""

from __future__ import annotations

from typing import Any

import httpx
import pytest


async def test_batch_read_lists_missing_ids(client: httpx.AsyncClient, plant_manifest: dict[str, Any]) -> None:
    lot = plant_manifest["lots"]["merge"]
    response = await client.get(f"/mes/lots?ids={lot},LOT-999999,{lot}")
    assert response.status_code == 200
    body = response.json()
    assert [item["id"] for item in body["items"]] == [lot]
    assert body["missing"] == ["LOT-999999"]
    assert set(body["items"][0]) == {
        "id", "product_id", "kind", "quantity", "uom", "produced_at", "plant", "work_order_id", "supplier", "gtin",
    }  # fmt: skip


async def test_batch_read_of_500_ids_is_fine_and_501_is_refused(client: httpx.AsyncClient) -> None:
    ids = [f"LOT-{n:06d}" for n in range(1, 502)]
    ok = await client.get("/qms/lots", params={"ids": ",".join(ids[:500])})
    assert ok.status_code == 200
    assert len(ok.json()["items"]) == 500
    refused = await client.get("/qms/lots", params={"ids": ",".join(ids)})
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["code"] == "TOO_MANY_IDS"
    assert "500" in error["message"]
    assert "501" in error["message"]


async def test_single_read_of_unknown_id_is_404(client: httpx.AsyncClient) -> None:
    for path, code in [
        ("/erp/orders/SO-000000", "ORDER_NOT_FOUND"),
        ("/erp/shipments/DL-000000", "SHIPMENT_NOT_FOUND"),
        ("/qms/lots/LOT-999999", "LOT_NOT_FOUND"),
        ("/qms/holds/H-999999", "HOLD_NOT_FOUND"),
        ("/mes/lots/LOT-999999", "LOT_NOT_FOUND"),
        ("/wms/shipments/DL-000000", "SHIPMENT_NOT_FOUND"),
    ]:
        response = await client.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == code


async def test_single_reads_answer_records(client: httpx.AsyncClient, plant_manifest: dict[str, Any]) -> None:
    order = (await client.get(f"/erp/orders/{plant_manifest['orders']['ready'][0]}")).json()
    assert order["status"] == "RELEASED"
    assert len(order["shipment_ids"]) == 3
    shipment = (await client.get(f"/erp/shipments/{order['shipment_ids'][0]}")).json()
    assert shipment["order_id"] == order["id"]
    assert shipment["lines"][0]["lots"][0]["lot_id"].startswith("LOT-")
    customer = (await client.get(f"/erp/customers/{order['customer_id']}")).json()
    assert isinstance(customer["coa_required"], bool)


async def test_search_pages_through_everything_with_total(client: httpx.AsyncClient) -> None:
    seen: list[str] = []
    after = None
    totals = set()
    while True:
        body: dict[str, Any] = {"kind": "FINISHED", "limit": 250}
        if after:
            body["after"] = after
        page = (await client.post("/mes/lots/search", json=body)).json()
        totals.add(page["total"])
        seen += [lot["id"] for lot in page["items"]]
        assert all(lot["kind"] == "FINISHED" for lot in page["items"])
        after = page["next_after"]
        if after is None:
            break
    assert totals == {len(seen)}
    assert seen == sorted(seen)
    assert len(set(seen)) == len(seen) > 500


async def test_search_filters_and_validates(client: httpx.AsyncClient, plant_manifest: dict[str, Any]) -> None:
    held = (await client.post("/qms/lots/search", json={"disposition": "ON_HOLD", "limit": 1})).json()
    assert held["total"] >= len(plant_manifest["lots"]["held"])
    assert len(held["items"]) == 1
    assert held["next_after"] == held["items"][0]["lot_id"]
    open_ = await client.post(
        "/erp/shipments/search", json={"status": ["PLANNED", "IN_PROGRESS"], "ship_date_from": "2026-11-01"}
    )
    assert open_.json()["total"] == plant_manifest["counts"]["shipments_open"]
    ids = [*plant_manifest["shipments"]["ready"][:3], "DL-000000"]
    restricted = (await client.post("/erp/shipments/search", json={"ids": ids})).json()
    assert restricted["total"] == 3
    for bad in ({"limit": 0}, {"limit": 501}, {"limit": "10"}, {"status": "LOST"}, {"colour": "red"}):
        response = await client.post("/erp/shipments/search", json=bad)
        assert response.status_code == 400, bad
        assert response.json()["error"]["code"] == "BAD_REQUEST"
    broken = await client.post("/erp/orders/search", content=b"{not json")
    assert broken.json()["error"]["code"] == "INVALID_JSON"


async def test_shipments_by_order_and_by_lot(client: httpx.AsyncClient, plant_manifest: dict[str, Any]) -> None:
    order_id = plant_manifest["orders"]["ready"][0]
    by_order = (await client.get(f"/erp/shipments?order_ids={order_id}")).json()
    assert len(by_order["items"]) == 3
    lot_id = plant_manifest["lots"]["multi_customer"]
    by_lot = (await client.get(f"/erp/shipments?lot_ids={lot_id}")).json()
    customers = {s["customer_id"] for s in by_lot["items"]}
    assert len(customers) >= 2
    assert all(any(lot["lot_id"] == lot_id for line in s["lines"] for lot in line["lots"]) for s in by_lot["items"])
    both = await client.get(f"/erp/shipments?order_ids={order_id}&lot_ids={lot_id}")
    assert both.status_code == 400


async def test_genealogy_one_level_each_way(client: httpx.AsyncClient, plant_manifest: dict[str, Any]) -> None:
    merge = plant_manifest["lots"]["merge"]
    inputs = (await client.get(f"/mes/genealogy?output_lot_ids={merge}")).json()["items"]
    assert len(inputs) >= 3
    assert all(edge["output_lot_id"] == merge and edge["quantity"] > 0 for edge in inputs)
    split = plant_manifest["lots"]["split"]
    outputs = (await client.get(f"/mes/genealogy?input_lot_ids={split}")).json()["items"]
    assert len(outputs) >= 3
    assert sum(edge["quantity"] for edge in outputs) <= (await client.get(f"/mes/lots/{split}")).json()["quantity"]


async def test_holds_deviations_and_stock_by_lot(client: httpx.AsyncClient, plant_manifest: dict[str, Any]) -> None:
    held = plant_manifest["lots"]["held"]
    holds = (await client.get(f"/qms/holds?lot_ids={','.join(held)}&status=ACTIVE")).json()
    assert {hold["lot_id"] for hold in holds["items"]} == set(held)
    assert (await client.get("/qms/holds?lot_ids=LOT-000001&status=LOST")).status_code == 400
    stock = (await client.get(f"/wms/stock?lot_ids={held[0]},LOT-999999")).json()
    assert stock["missing"] == ["LOT-999999"]
    assert stock["items"]
    deviations = (await client.get("/qms/deviations?lot_ids=" + ",".join(held) + "&status=OPEN")).json()
    assert deviations["missing"] == []


@pytest.mark.parametrize("system", ["erp", "qms", "mes", "wms"])
async def test_openapi_documents_every_route(client: httpx.AsyncClient, plant_app: Any, system: str) -> None:
    document = (await client.get(f"/{system}/openapi.json")).json()
    assert document["openapi"] == "3.1.0"
    documented = {(path, method.upper()) for path, ops in document["paths"].items() for method in ops}
    served = {
        (route.path, method) for route in plant_app.state.systems[system].routes for method in route.methods - {"HEAD"}
    }
    assert documented == served
    schemas = document["components"]["schemas"]
    refs = {ref.rsplit("/", 1)[1] for ref in _refs(document)}
    assert refs <= set(schemas)


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []
