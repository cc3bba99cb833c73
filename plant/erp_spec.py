"""The OpenAPI document of the ERP."""

from __future__ import annotations

from typing import Any

from plant.openapi import BOOL, DATE, DATETIME, INTEGER, NUMBER, STRING, Spec, array, enum, filters, nullable, obj, ref

ORDER_STATUS = enum("CREATED", "RELEASED", "COMPLETED", "CANCELLED")
SHIPMENT_STATUS = enum("PLANNED", "IN_PROGRESS", "SHIPPED", "CANCELLED")

SCHEMAS = {
    "Customer": obj({"id": STRING, "name": STRING, "country": STRING, "coa_required": BOOL}),
    "Product": obj({"id": STRING, "name": STRING, "uom": STRING, "coa_required": BOOL, "shelf_life_days": INTEGER}),
    "OrderLine": obj({"line_no": INTEGER, "product_id": STRING, "quantity": NUMBER, "uom": STRING}),
    "SalesOrder": obj(
        {
            "id": STRING,
            "customer_id": STRING,
            "status": ORDER_STATUS,
            "order_date": DATE,
            "requested_date": DATE,
            "credit_block": BOOL,
            "credit_block_since": nullable(DATETIME),
            "delivery_block": BOOL,
            "delivery_block_reason": nullable(STRING),
            "delivery_block_since": nullable(DATETIME),
            "lines": array(ref("OrderLine")),
            "shipment_ids": array(STRING),
        }
    ),
    "AssignedLot": obj({"lot_id": STRING, "quantity": NUMBER}),
    "ShipmentLine": obj(
        {
            "line_no": INTEGER,
            "order_line_no": INTEGER,
            "product_id": STRING,
            "quantity": NUMBER,
            "uom": STRING,
            "lots": array(ref("AssignedLot")),
        }
    ),
    "Shipment": obj(
        {
            "id": STRING,
            "order_id": STRING,
            "customer_id": STRING,
            "status": SHIPMENT_STATUS,
            "warehouse": STRING,
            "ship_date": DATE,
            "shipped_at": nullable(DATETIME),
            "lines": array(ref("ShipmentLine")),
        }
    ),
    "ExpandedShipment": obj(
        {
            "shipment": ref("Shipment"),
            "order": nullable(ref("SalesOrder")),
            "customer": nullable(ref("Customer")),
            "products": array(ref("Product")),
        },
        description="a shipment with its order, its customer and the products of its lines (null: not in the ERP)",
    ),
}


def build() -> dict[str, Any]:
    spec = Spec("lotgraph reference plant: ERP", "Customers, products, sales orders and shipments.", SCHEMAS)
    ids = [("ids", "comma-separated ids")]
    spec.batch_read("/customers", "Customer", ids, "customers by id")
    spec.single_read("/customers/{id}", "Customer", "one customer")
    spec.batch_read("/products", "Product", ids, "products by id")
    spec.single_read("/products/{id}", "Product", "one product")
    spec.batch_read("/orders", "SalesOrder", ids, "sales orders by id")
    spec.single_read("/orders/{id}", "SalesOrder", "one sales order")
    spec.search(
        "/orders/search",
        "SalesOrder",
        filters({"status": ORDER_STATUS, "customer_id": STRING}),
        "sales orders by status and customer",
    )
    spec.batch_read(
        "/shipments",
        "Shipment",
        [
            ("ids", "shipment ids"),
            ("order_ids", "every shipment of these orders (missing is then empty)"),
            ("lot_ids", "every shipment with a line carrying one of these lots (missing is then empty)"),
        ],
        "shipments by id, by order or by lot",
    )
    spec.batch_read(
        "/shipments/expanded",
        "ExpandedShipment",
        [("ids", "shipment ids")],
        "shipments by id with their orders, customers and products, in one call",
    )
    spec.single_read("/shipments/{id}", "Shipment", "one shipment")
    spec.search(
        "/shipments/search",
        "Shipment",
        filters(
            {
                "ids": {**array(STRING), "description": "restricts the set (any number)"},
                "status": {"anyOf": [SHIPMENT_STATUS, array(SHIPMENT_STATUS)]},
                "customer_id": STRING,
                "ship_date_from": DATE,
                "ship_date_to": DATE,
            }
        ),
        "shipments, filtered",
    )
    spec.command(
        "/orders/{id}/status",
        "setOrderStatus",
        obj({"status": ORDER_STATUS}),
        ref("SalesOrder"),
        "plant operation: change an order's status",
        key_required=False,
    )
    spec.command(
        "/orders/{id}/blocks",
        "setOrderBlocks",
        obj(
            {"credit_block": BOOL, "delivery_block": BOOL, "delivery_block_reason": STRING},
            optional=["credit_block", "delivery_block", "delivery_block_reason"],
        ),
        ref("SalesOrder"),
        "plant operation: set or lift an order's credit and delivery blocks",
        key_required=False,
    )
    spec.command(
        "/shipments/{id}/status",
        "setShipmentStatus",
        obj({"status": SHIPMENT_STATUS}),
        ref("Shipment"),
        "plant operation: change a shipment's status (SHIPPED sets shipped_at)",
        key_required=False,
    )
    return spec.build()
