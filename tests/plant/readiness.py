"""An independent reading of the readiness rules, over the plant's HTTP API, to check the generated scenarios."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

NOT_RELEASED = {"PENDING", "REJECTED", "RECALLED"}


async def _get(client: httpx.AsyncClient, path: str) -> Any:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    return response.json()


async def blockers(client: httpx.AsyncClient, shipment_id: str, today: date) -> set[str]:
    """The readiness codes that apply to ``shipment_id`` (empty: READY)."""
    shipment = await _get(client, f"/erp/shipments/{shipment_id}")
    order = await _get(client, f"/erp/orders/{shipment['order_id']}")
    customer = await _get(client, f"/erp/customers/{shipment['customer_id']}")
    codes: set[str] = set()
    if order["status"] != "RELEASED":
        codes.add("ORDER_NOT_RELEASED")
    if order["credit_block"]:
        codes.add("CREDIT_BLOCK")
    if order["delivery_block"]:
        codes.add("DELIVERY_BLOCK")
    lot_ids = sorted({lot["lot_id"] for line in shipment["lines"] for lot in line["lots"]})
    for line in shipment["lines"]:
        if sum(lot["quantity"] for lot in line["lots"]) < line["quantity"] - 1e-6:
            codes.add("ALLOCATION_INCOMPLETE")
    ids = ",".join(lot_ids)
    products = {p["id"]: p for p in (await _get(client, f"/erp/products?ids={_products(shipment)}"))["items"]}
    quality = (await _get(client, f"/qms/lots?ids={ids}"))["items"]
    for lot in quality:
        if lot["disposition"] in NOT_RELEASED:
            codes.add("LOT_NOT_RELEASED")
        if lot["disposition"] == "EXPIRED" or date.fromisoformat(lot["expiry_date"]) < today:
            codes.add("LOT_EXPIRED")
        needs_coa = customer["coa_required"] or products[lot["product_id"]]["coa_required"]
        if needs_coa and lot["coa"] is None:
            codes.add("COA_MISSING")
    if (await _get(client, f"/qms/holds?lot_ids={ids}&status=ACTIVE"))["items"]:
        codes.add("LOT_ON_HOLD")
    if (await _get(client, f"/qms/deviations?lot_ids={ids}&status=OPEN"))["items"]:
        codes.add("OPEN_DEVIATION")
    progress = await _get(client, f"/wms/shipments?ids={shipment_id}")
    if progress["missing"]:
        codes.add("ALLOCATION_INCOMPLETE")
        return codes
    (warehouse,) = progress["items"]
    for line in shipment["lines"]:
        allocated = sum(a["quantity"] for a in warehouse["allocations"] if a["line_no"] == line["line_no"])
        if allocated < line["quantity"] - 1e-6:
            codes.add("ALLOCATION_INCOMPLETE")
    if any(a["stock_status"] != "UNRESTRICTED" for a in warehouse["allocations"]):
        codes.add("STOCK_BLOCKED")
    if warehouse["stage"] in ("ALLOCATED", "PICKING"):
        codes.add("PICKING_INCOMPLETE")
    elif warehouse["stage"] == "PICKED":
        codes.add("NOT_STAGED")
    return codes


def _products(shipment: dict[str, Any]) -> str:
    return ",".join(sorted({line["product_id"] for line in shipment["lines"]}))
