"""The OpenAPI document of the WMS."""

from __future__ import annotations

from typing import Any

from plant.openapi import DATETIME, INTEGER, NUMBER, STRING, Spec, array, enum, filters, obj, ref

STOCK_STATUS = enum("UNRESTRICTED", "QUALITY_INSPECTION", "BLOCKED")
STAGE = enum("ALLOCATED", "PICKING", "PICKED", "STAGED", "LOADED", "SHIPPED")

SCHEMAS = {
    "Stock": obj(
        {
            "lot_id": STRING,
            "location": STRING,
            "quantity": NUMBER,
            "uom": STRING,
            "status": STOCK_STATUS,
            "status_since": DATETIME,
        }
    ),
    "Allocation": obj(
        {"line_no": INTEGER, "lot_id": STRING, "location": STRING, "quantity": NUMBER, "stock_status": STOCK_STATUS}
    ),
    "ShipmentProgress": obj(
        {"shipment_id": STRING, "stage": STAGE, "stage_at": DATETIME, "allocations": array(ref("Allocation"))}
    ),
    "StockChange": obj(
        {
            "lot_id": STRING,
            "status": STOCK_STATUS,
            "stock": array(ref("Stock")),
            "shipment_ids": {**array(STRING), "description": "open shipments whose allocations changed status"},
        }
    ),
}


def build() -> dict[str, Any]:
    spec = Spec("lotgraph reference plant: WMS", "Stock, allocations and warehouse progress.", SCHEMAS)
    spec.batch_read(
        "/stock",
        "Stock",
        [("lot_ids", "stock of these lots; lots without any stock are listed in missing")],
        "stock records (one per lot and location)",
    )
    spec.batch_read(
        "/shipments",
        "ShipmentProgress",
        [("ids", "shipment ids; shipments the warehouse has not started are missing")],
        "warehouse progress of shipments",
    )
    spec.single_read("/shipments/{id}", "ShipmentProgress", "progress of one shipment")
    spec.search("/shipments/search", "ShipmentProgress", filters({"stage": STAGE}), "shipments in a stage")
    spec.command(
        "/stock/block",
        "blockStock",
        obj({"lot_id": STRING, "reason": STRING, "reference": STRING}, optional=["reference"]),
        ref("StockChange"),
        "block all stock of a lot (a lot without stock answers an empty stock list)",
        key_required=True,
    )
    spec.command(
        "/stock/unblock",
        "unblockStock",
        obj({"lot_id": STRING, "reference": STRING}, optional=["reference"]),
        ref("StockChange"),
        "all stock of a lot back to UNRESTRICTED",
        key_required=True,
    )
    spec.command(
        "/allocations",
        "allocate",
        obj({"shipment_id": STRING, "line_no": INTEGER, "lot_id": STRING, "quantity": NUMBER}),
        ref("ShipmentProgress"),
        "allocate unrestricted stock to a shipment line (409 STOCK_NOT_AVAILABLE, 409 SHIPMENT_SHIPPED)",
        key_required=False,
        created=True,
    )
    spec.command(
        "/shipments/{id}/stage",
        "setStage",
        obj({"stage": STAGE}),
        ref("ShipmentProgress"),
        "plant operation: move a shipment to a warehouse stage (SHIPPED takes its stock out)",
        key_required=False,
    )
    return spec.build()
