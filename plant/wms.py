"""The WMS: stock per lot and location, and the allocation and progress of shipments."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from plant import wms_spec
from plant.clock import now_iso
from plant.db import Database, Row, placeholders
from plant.http import (
    PlantError,
    Record,
    bad_request,
    batch,
    json_object,
    ok,
    one_id_list,
    opt_enum,
    opt_str,
    req_enum,
    req_int,
    req_number,
    req_str,
)
from plant.idempotency import run_command
from plant.outbox import append_event
from plant.reads import Resource
from plant.search import PAGE_FIELDS, Where, page_of, search
from plant.service import system_app
from plant.tables import WMS

STOCK_STATUSES = ("UNRESTRICTED", "QUALITY_INSPECTION", "BLOCKED")
STAGES = ("ALLOCATED", "PICKING", "PICKED", "STAGED", "LOADED", "SHIPPED")
STOCK_FIELDS = ["lot_id", "location", "quantity", "uom", "status", "status_since"]
ALLOCATION_FIELDS = ["line_no", "lot_id", "location", "quantity", "stock_status"]


def stock(row: Row) -> Record:
    return {name: row[name] for name in STOCK_FIELDS}


class Wms:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.shipments = Resource(db, "shipments", "id", self.progress, "SHIPMENT_NOT_FOUND", "shipment")

    def progress(self, rows: list[Row]) -> list[Record]:
        """Shipment rows with their allocations (one extra query for the whole batch)."""
        ids = [row["id"] for row in rows]
        allocations: dict[str, list[Record]] = {shipment_id: [] for shipment_id in ids}
        if ids:
            for alloc in self.db.query(
                f"SELECT * FROM allocations WHERE shipment_id IN ({placeholders(ids)})"
                " ORDER BY shipment_id, line_no, lot_id, location",
                ids,
            ):
                allocations[alloc["shipment_id"]].append({name: alloc[name] for name in ALLOCATION_FIELDS})
        return [
            {
                "shipment_id": row["id"],
                "stage": row["stage"],
                "stage_at": row["stage_at"],
                "allocations": allocations[row["id"]],
            }
            for row in rows
        ]

    # --- reads -----------------------------------------------------------------------------------

    async def list_stock(self, request: Request) -> Response:
        _, ids = one_id_list(request, ["lot_ids"])
        rows = self.db.query(f"SELECT * FROM stock WHERE lot_id IN ({placeholders(ids)})", ids) if ids else []
        return ok(batch([stock(row) for row in rows], ids, "lot_id"))

    async def list_shipments(self, request: Request) -> Response:
        _, ids = one_id_list(request, ["ids"])
        return ok(batch(self.shipments.by_ids(ids), ids, "shipment_id"))

    async def get_shipment(self, request: Request) -> Response:
        return ok(self.shipments.one(request.path_params["id"]))

    async def search_shipments(self, request: Request) -> Response:
        body = await json_object(request, ("stage", *PAGE_FIELDS))
        where = Where()
        if (stage := opt_enum(body, "stage", STAGES)) is not None:
            where.add("stage = ?", stage)
        found = search(self.db, "shipments", "id", where, page_of(body))
        return ok({"items": self.progress(found.rows), "total": found.total, "next_after": found.next_after})

    # --- commands --------------------------------------------------------------------------------

    def set_stock_status(
        self, conn: sqlite3.Connection, body: Record, correlation_id: str | None, status: str
    ) -> tuple[int, Record]:
        lot_id = req_str(body, "lot_id")
        reason, reference = opt_str(body, "reason"), opt_str(body, "reference")
        if status == "BLOCKED" and not reason:
            raise bad_request("'reason' is required (a non-empty string)")
        before = conn.execute("SELECT * FROM stock WHERE lot_id = ? ORDER BY location", (lot_id,)).fetchall()
        changed = [row["location"] for row in before if row["status"] != status]
        now = now_iso()
        if changed:
            conn.execute(
                "UPDATE stock SET status = ?, status_since = ? WHERE lot_id = ? AND status != ?",
                (status, now, lot_id, status),
            )
            payload = {"status": status, "locations": changed, "reason": reason, "reference": reference}
            append_event(conn, "wms", "StockStatusChanged", {"lot_id": lot_id}, payload, correlation_id)
        affected = [
            row[0]
            for row in conn.execute(
                "SELECT DISTINCT a.shipment_id FROM allocations a JOIN shipments s ON s.id = a.shipment_id"
                " WHERE a.lot_id = ? AND a.stock_status != ? AND s.stage != 'SHIPPED' ORDER BY a.shipment_id",
                (lot_id, status),
            )
        ]
        for shipment_id in affected:
            conn.execute(
                "UPDATE allocations SET stock_status = ? WHERE shipment_id = ? AND lot_id = ?",
                (status, shipment_id, lot_id),
            )
            keys = {"shipment_id": shipment_id, "lot_id": lot_id}
            append_event(conn, "wms", "AllocationChanged", keys, {"stock_status": status}, correlation_id)
        after = conn.execute("SELECT * FROM stock WHERE lot_id = ? ORDER BY location", (lot_id,)).fetchall()
        answer = {"lot_id": lot_id, "status": status, "stock": [stock(r) for r in after], "shipment_ids": affected}
        return 200, answer

    def allocate(self, conn: sqlite3.Connection, body: Record, correlation_id: str | None) -> tuple[int, Record]:
        shipment_id, lot_id = req_str(body, "shipment_id"), req_str(body, "lot_id")
        line_no, quantity = req_int(body, "line_no"), req_number(body, "quantity")
        rows = conn.execute(
            "SELECT s.location, s.quantity - COALESCE((SELECT SUM(a.quantity) FROM allocations a"
            " JOIN shipments p ON p.id = a.shipment_id WHERE a.lot_id = s.lot_id AND a.location = s.location"
            " AND p.stage != 'SHIPPED'), 0) AS free FROM stock s WHERE s.lot_id = ? AND s.status = 'UNRESTRICTED'"
            " ORDER BY s.location",
            (lot_id,),
        ).fetchall()
        available = sum(max(row["free"], 0.0) for row in rows)
        if quantity > available + 1e-9:
            raise PlantError(
                409,
                "STOCK_NOT_AVAILABLE",
                f"lot {lot_id} has {available:g} unrestricted stock available, {quantity:g} requested",
            )
        shipment = conn.execute("SELECT stage FROM shipments WHERE id = ?", (shipment_id,)).fetchone()
        now = now_iso()
        if shipment is None:
            conn.execute("INSERT INTO shipments (id, stage, stage_at) VALUES (?, 'ALLOCATED', ?)", (shipment_id, now))
        elif shipment["stage"] == "SHIPPED":
            raise PlantError(409, "SHIPMENT_SHIPPED", f"shipment {shipment_id} has already shipped")
        elif shipment["stage"] in ("PICKED", "STAGED", "LOADED"):
            conn.execute("UPDATE shipments SET stage = 'PICKING', stage_at = ? WHERE id = ?", (now, shipment_id))
        remaining = quantity
        for row in rows:
            take = min(remaining, max(row["free"], 0.0))
            if take <= 0:
                continue
            conn.execute(
                "INSERT INTO allocations (shipment_id, line_no, lot_id, location, quantity, stock_status)"
                " VALUES (?, ?, ?, ?, ?, 'UNRESTRICTED') ON CONFLICT (shipment_id, line_no, lot_id, location)"
                " DO UPDATE SET quantity = quantity + excluded.quantity",
                (shipment_id, line_no, lot_id, row["location"], take),
            )
            remaining -= take
        progress = self.shipments.one(shipment_id)
        payload = {"line_no": line_no, "quantity": quantity, "stage": progress["stage"]}
        keys = {"shipment_id": shipment_id, "lot_id": lot_id}
        append_event(conn, "wms", "AllocationChanged", keys, payload, correlation_id)
        return 201, progress

    def set_stage(
        self, shipment_id: str, conn: sqlite3.Connection, body: Record, correlation_id: str | None
    ) -> tuple[int, Record]:
        stage = req_enum(body, "stage", STAGES)
        before = self.shipments.one(shipment_id)
        if before["stage"] == "SHIPPED" and stage != "SHIPPED":
            raise PlantError(409, "SHIPMENT_SHIPPED", f"shipment {shipment_id} has already shipped")
        if before["stage"] == stage:
            return 200, before
        conn.execute("UPDATE shipments SET stage = ?, stage_at = ? WHERE id = ?", (stage, now_iso(), shipment_id))
        if stage == "SHIPPED":
            for alloc in before["allocations"]:
                conn.execute(
                    "UPDATE stock SET quantity = MAX(quantity - ?, 0) WHERE lot_id = ? AND location = ?",
                    (alloc["quantity"], alloc["lot_id"], alloc["location"]),
                )
            conn.execute("DELETE FROM stock WHERE quantity <= 0")
        payload = {"stage": stage, "previous_stage": before["stage"]}
        append_event(conn, "wms", "AllocationChanged", {"shipment_id": shipment_id}, payload, correlation_id)
        return 200, self.shipments.one(shipment_id)

    async def post_block(self, request: Request) -> Response:
        def command(conn: sqlite3.Connection, body: Record, cid: str | None) -> tuple[int, Record]:
            return self.set_stock_status(conn, body, cid, "BLOCKED")

        fields = ("lot_id", "reason", "reference")
        return await run_command(request, self.db, command, fields=fields, key_required=True)

    async def post_unblock(self, request: Request) -> Response:
        def command(conn: sqlite3.Connection, body: Record, cid: str | None) -> tuple[int, Record]:
            return self.set_stock_status(conn, body, cid, "UNRESTRICTED")

        return await run_command(request, self.db, command, fields=("lot_id", "reference"), key_required=True)

    async def post_allocation(self, request: Request) -> Response:
        fields = ("shipment_id", "line_no", "lot_id", "quantity")
        return await run_command(request, self.db, self.allocate, fields=fields, key_required=False)

    async def post_stage(self, request: Request) -> Response:
        shipment_id = request.path_params["id"]

        def command(conn: sqlite3.Connection, body: Record, cid: str | None) -> tuple[int, Record]:
            return self.set_stage(shipment_id, conn, body, cid)

        return await run_command(request, self.db, command, fields=("stage",), key_required=False)

    def routes(self) -> list[Route]:
        return [
            Route("/stock", self.list_stock, methods=["GET"]),
            Route("/stock/block", self.post_block, methods=["POST"]),
            Route("/stock/unblock", self.post_unblock, methods=["POST"]),
            Route("/shipments", self.list_shipments, methods=["GET"]),
            Route("/shipments/search", self.search_shipments, methods=["POST"]),
            Route("/shipments/{id}", self.get_shipment, methods=["GET"]),
            Route("/shipments/{id}/stage", self.post_stage, methods=["POST"]),
            Route("/allocations", self.post_allocation, methods=["POST"]),
        ]


def create_app(db_path: Path) -> Starlette:
    db = Database(db_path, WMS)
    return system_app("wms", db, Wms(db).routes(), wms_spec.build())
