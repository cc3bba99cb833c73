"""The MES: produced and received lots, and the genealogy edges between them (read only)."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from plant import mes_spec
from plant.db import Database, Row, placeholders
from plant.epcis import EpcisQuery
from plant.epcis_events import gtin_of_product
from plant.http import Record, batch, json_object, ok, one_id_list, opt_enum, opt_str
from plant.reads import Resource, each
from plant.search import PAGE_FIELDS, Where, page_of, search
from plant.service import system_app
from plant.tables import ERP, MES

KINDS = ("RAW", "INTERMEDIATE", "FINISHED")
LOT_FIELDS = ["id", "product_id", "kind", "quantity", "uom", "produced_at", "plant", "work_order_id", "supplier"]
"""A lot as the MES answers it, with ``gtin`` besides (``plant.epcis_events.gtin_of_product``)."""
EDGE_FIELDS = ["input_lot_id", "output_lot_id", "quantity", "uom", "work_order_id", "occurred_at"]


def lot(row: Row) -> Record:
    return {**{name: row[name] for name in LOT_FIELDS}, "gtin": gtin_of_product(row["product_id"])}


def edge(row: Row) -> Record:
    return {name: row[name] for name in EDGE_FIELDS}


class Mes:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.lots = Resource(db, "lots", "id", each(lot), "LOT_NOT_FOUND", "lot")

    async def list_lots(self, request: Request) -> Response:
        _, ids = one_id_list(request, ["ids"])
        return ok(batch(self.lots.by_ids(ids), ids))

    async def get_lot(self, request: Request) -> Response:
        return ok(self.lots.one(request.path_params["id"]))

    async def search_lots(self, request: Request) -> Response:
        body = await json_object(request, ("product_id", "plant", "kind", *PAGE_FIELDS))
        where = Where()
        if (product_id := opt_str(body, "product_id")) is not None:
            where.add("product_id = ?", product_id)
        if (plant := opt_str(body, "plant")) is not None:
            where.add("plant = ?", plant)
        if (kind := opt_enum(body, "kind", KINDS)) is not None:
            where.add("kind = ?", kind)
        found = search(self.db, "lots", "id", where, page_of(body))
        return ok({"items": [lot(r) for r in found.rows], "total": found.total, "next_after": found.next_after})

    async def genealogy(self, request: Request) -> Response:
        name, ids = one_id_list(request, ["output_lot_ids", "input_lot_ids"])
        column = "output_lot_id" if name == "output_lot_ids" else "input_lot_id"
        rows = self.db.query(f"SELECT * FROM genealogy WHERE {column} IN ({placeholders(ids)})", ids) if ids else []
        return ok({"items": [edge(row) for row in rows], "missing": []})

    def routes(self) -> list[Route]:
        return [
            Route("/lots", self.list_lots, methods=["GET"]),
            Route("/lots/search", self.search_lots, methods=["POST"]),
            Route("/lots/{id}", self.get_lot, methods=["GET"]),
            Route("/genealogy", self.genealogy, methods=["GET"]),
        ]


def create_app(db_path: Path) -> Starlette:
    db = Database(db_path, MES)
    erp = Database(db_path.parent / "erp.db", ERP)  # the EPCIS interface shows the shipped deliveries' custody
    return system_app("mes", db, [*Mes(db).routes(), *EpcisQuery(db, erp).routes()], mes_spec.build())
