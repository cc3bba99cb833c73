"""The ERP: customers, products, sales orders and outbound deliveries (shipments)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from plant import erp_spec
from plant.clock import now_iso
from plant.db import Database, Row, placeholders
from plant.http import (
    PlantError,
    Record,
    batch,
    json_object,
    ok,
    one_id_list,
    opt_bool,
    opt_date,
    opt_enum,
    opt_enum_list,
    opt_str,
    opt_str_list,
    req_enum,
)
from plant.idempotency import run_command
from plant.outbox import append_event
from plant.reads import Resource, each, rows_by_ids
from plant.search import PAGE_FIELDS, Where, page_of, search
from plant.service import system_app
from plant.tables import ERP

ORDER_STATUSES = ("CREATED", "RELEASED", "COMPLETED", "CANCELLED")
SHIPMENT_STATUSES = ("PLANNED", "IN_PROGRESS", "SHIPPED", "CANCELLED")


def customer(row: Row) -> Record:
    return {
        "id": row["id"],
        "name": row["name"],
        "country": row["country"],
        "coa_required": bool(row["coa_required"]),
    }


def product(row: Row) -> Record:
    return {
        "id": row["id"],
        "name": row["name"],
        "uom": row["uom"],
        "coa_required": bool(row["coa_required"]),
        "shelf_life_days": row["shelf_life_days"],
    }


def shipment(row: Row) -> Record:
    return {
        "id": row["id"],
        "order_id": row["order_id"],
        "customer_id": row["customer_id"],
        "status": row["status"],
        "warehouse": row["warehouse"],
        "ship_date": row["ship_date"],
        "shipped_at": row["shipped_at"],
        "lines": json.loads(row["lines"]),
    }


class Erp:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.customers = Resource(db, "customers", "id", each(customer), "CUSTOMER_NOT_FOUND", "customer")
        self.products = Resource(db, "products", "id", each(product), "PRODUCT_NOT_FOUND", "product")
        self.orders = Resource(db, "orders", "id", self.order_records, "ORDER_NOT_FOUND", "order")
        self.shipments = Resource(db, "shipments", "id", each(shipment), "SHIPMENT_NOT_FOUND", "shipment")

    def order_records(self, rows: list[Row]) -> list[Record]:
        ids = [row["id"] for row in rows]
        shipment_ids: dict[str, list[str]] = {order_id: [] for order_id in ids}
        if ids:
            for ref in self.db.query(
                f"SELECT order_id, id FROM shipments WHERE order_id IN ({placeholders(ids)}) ORDER BY id", ids
            ):
                shipment_ids[ref["order_id"]].append(ref["id"])
        return [
            {
                "id": row["id"],
                "customer_id": row["customer_id"],
                "status": row["status"],
                "order_date": row["order_date"],
                "requested_date": row["requested_date"],
                "credit_block": bool(row["credit_block"]),
                "credit_block_since": row["credit_block_since"],
                "delivery_block": bool(row["delivery_block"]),
                "delivery_block_reason": row["delivery_block_reason"],
                "delivery_block_since": row["delivery_block_since"],
                "lines": json.loads(row["lines"]),
                "shipment_ids": shipment_ids[row["id"]],
            }
            for row in rows
        ]

    # --- reads -----------------------------------------------------------------------------------

    async def list_customers(self, request: Request) -> Response:
        _, ids = one_id_list(request, ["ids"])
        return ok(batch(self.customers.by_ids(ids), ids))

    async def get_customer(self, request: Request) -> Response:
        return ok(self.customers.one(request.path_params["id"]))

    async def list_products(self, request: Request) -> Response:
        _, ids = one_id_list(request, ["ids"])
        return ok(batch(self.products.by_ids(ids), ids))

    async def get_product(self, request: Request) -> Response:
        return ok(self.products.one(request.path_params["id"]))

    async def list_orders(self, request: Request) -> Response:
        _, ids = one_id_list(request, ["ids"])
        return ok(batch(self.orders.by_ids(ids), ids))

    async def get_order(self, request: Request) -> Response:
        return ok(self.orders.one(request.path_params["id"]))

    async def search_orders(self, request: Request) -> Response:
        body = await json_object(request, ("status", "customer_id", *PAGE_FIELDS))
        where = Where()
        if (status := opt_enum(body, "status", ORDER_STATUSES)) is not None:
            where.add("status = ?", status)
        if (customer_id := opt_str(body, "customer_id")) is not None:
            where.add("customer_id = ?", customer_id)
        found = search(self.db, "orders", "id", where, page_of(body))
        return ok({"items": self.order_records(found.rows), "total": found.total, "next_after": found.next_after})

    async def list_shipments(self, request: Request) -> Response:
        name, ids = one_id_list(request, ["ids", "order_ids", "lot_ids"])
        if name == "ids":
            return ok(batch(self.shipments.by_ids(ids), ids))
        if name == "order_ids":
            rows = rows_by_ids(self.db, "shipments", "order_id", ids)
        elif ids:
            rows = self.db.query(
                "SELECT * FROM shipments WHERE id IN (SELECT DISTINCT shipment_id FROM shipment_lots"
                f" WHERE lot_id IN ({placeholders(ids)}))",
                ids,
            )
        else:
            rows = []
        return ok({"items": [shipment(row) for row in rows], "missing": []})

    async def list_expanded_shipments(self, request: Request) -> Response:
        """Shipments by id, each with its order, customer and the products of its lines: one call for what a
        readiness decision needs from the ERP."""
        _, ids = one_id_list(request, ["ids"])
        shipments = self.shipments.by_ids(ids)
        orders = {o["id"]: o for o in self.orders.by_ids(list({s["order_id"] for s in shipments}))}
        customers = {c["id"]: c for c in self.customers.by_ids(list({s["customer_id"] for s in shipments}))}
        wanted = list({line["product_id"] for s in shipments for line in s["lines"]})
        products = {p["id"]: p for p in self.products.by_ids(wanted)}
        items = [
            {
                "shipment": s,
                "order": orders.get(s["order_id"]),
                "customer": customers.get(s["customer_id"]),
                "products": [products[p] for p in dict.fromkeys(x["product_id"] for x in s["lines"]) if p in products],
            }
            for s in shipments
        ]
        return ok({"items": items, "missing": batch(shipments, ids)["missing"]})

    async def get_shipment(self, request: Request) -> Response:
        return ok(self.shipments.one(request.path_params["id"]))

    async def search_shipments(self, request: Request) -> Response:
        fields = ("ids", "status", "customer_id", "ship_date_from", "ship_date_to", *PAGE_FIELDS)
        body = await json_object(request, fields)
        where = Where()
        if (ids := opt_str_list(body, "ids")) is not None:
            where.add("id IN (SELECT value FROM json_each(?))", json.dumps(ids))
        if (statuses := opt_enum_list(body, "status", SHIPMENT_STATUSES)) is not None:
            where.add(f"status IN ({placeholders(statuses)})", *statuses)
        if (customer_id := opt_str(body, "customer_id")) is not None:
            where.add("customer_id = ?", customer_id)
        if (date_from := opt_date(body, "ship_date_from")) is not None:
            where.add("ship_date >= ?", date_from)
        if (date_to := opt_date(body, "ship_date_to")) is not None:
            where.add("ship_date <= ?", date_to)
        found = search(self.db, "shipments", "id", where, page_of(body))
        items = [shipment(row) for row in found.rows]
        return ok({"items": items, "total": found.total, "next_after": found.next_after})

    # --- plant operations ------------------------------------------------------------------------

    async def set_order_status(self, request: Request) -> Response:
        order_id = request.path_params["id"]

        def command(conn: sqlite3.Connection, body: Record, correlation_id: str | None) -> tuple[int, Record]:
            status = req_enum(body, "status", ORDER_STATUSES)
            self.orders.one(order_id)
            conn.execute("UPDATE orders SET status = ? WHERE id = ?", (status, order_id))
            return 200, self._order_changed(conn, order_id, correlation_id)

        return await run_command(request, self.db, command, fields=("status",), key_required=False)

    async def set_order_blocks(self, request: Request) -> Response:
        order_id = request.path_params["id"]

        def command(conn: sqlite3.Connection, body: Record, correlation_id: str | None) -> tuple[int, Record]:
            self.orders.one(order_id)
            now = now_iso()
            credit = opt_bool(body, "credit_block")
            delivery = opt_bool(body, "delivery_block")
            reason = opt_str(body, "delivery_block_reason")
            if credit is not None:
                conn.execute(
                    "UPDATE orders SET credit_block = ?, credit_block_since = ? WHERE id = ?",
                    (int(credit), now if credit else None, order_id),
                )
            if delivery is not None:
                conn.execute(
                    "UPDATE orders SET delivery_block = ?, delivery_block_reason = ?,"
                    " delivery_block_since = ? WHERE id = ?",
                    (int(delivery), reason if delivery else None, now if delivery else None, order_id),
                )
            return 200, self._order_changed(conn, order_id, correlation_id)

        fields = ("credit_block", "delivery_block", "delivery_block_reason")
        return await run_command(request, self.db, command, fields=fields, key_required=False)

    def _order_changed(self, conn: sqlite3.Connection, order_id: str, correlation_id: str | None) -> Record:
        order = self.orders.one(order_id)
        payload = {k: order[k] for k in ("status", "credit_block", "delivery_block", "delivery_block_reason")}
        keys = {"order_id": order_id, "customer_id": order["customer_id"]}
        append_event(conn, "erp", "OrderStatusChanged", keys, payload, correlation_id)
        return order

    async def set_shipment_status(self, request: Request) -> Response:
        shipment_id = request.path_params["id"]

        def command(conn: sqlite3.Connection, body: Record, correlation_id: str | None) -> tuple[int, Record]:
            status = req_enum(body, "status", SHIPMENT_STATUSES)
            before = self.shipments.one(shipment_id)
            if before["status"] == "SHIPPED" and status != "SHIPPED":
                raise PlantError(409, "SHIPMENT_SHIPPED", f"shipment {shipment_id} has already shipped")
            shipped_at = before["shipped_at"] or (now_iso() if status == "SHIPPED" else None)
            conn.execute(
                "UPDATE shipments SET status = ?, shipped_at = ? WHERE id = ?", (status, shipped_at, shipment_id)
            )
            after = self.shipments.one(shipment_id)
            keys = {"shipment_id": shipment_id, "order_id": after["order_id"]}
            payload = {"status": status, "previous_status": before["status"], "shipped_at": shipped_at}
            append_event(conn, "erp", "ShipmentStatusChanged", keys, payload, correlation_id)
            return 200, after

        return await run_command(request, self.db, command, fields=("status",), key_required=False)

    def routes(self) -> list[Route]:
        return [
            Route("/customers", self.list_customers, methods=["GET"]),
            Route("/customers/{id}", self.get_customer, methods=["GET"]),
            Route("/products", self.list_products, methods=["GET"]),
            Route("/products/{id}", self.get_product, methods=["GET"]),
            Route("/orders", self.list_orders, methods=["GET"]),
            Route("/orders/search", self.search_orders, methods=["POST"]),
            Route("/orders/{id}", self.get_order, methods=["GET"]),
            Route("/orders/{id}/status", self.set_order_status, methods=["POST"]),
            Route("/orders/{id}/blocks", self.set_order_blocks, methods=["POST"]),
            Route("/shipments", self.list_shipments, methods=["GET"]),
            Route("/shipments/search", self.search_shipments, methods=["POST"]),
            Route("/shipments/expanded", self.list_expanded_shipments, methods=["GET"]),
            Route("/shipments/{id}", self.get_shipment, methods=["GET"]),
            Route("/shipments/{id}/status", self.set_shipment_status, methods=["POST"]),
        ]


def create_app(db_path: Path) -> Starlette:
    db = Database(db_path, ERP)
    return system_app("erp", db, Erp(db).routes(), erp_spec.build())
