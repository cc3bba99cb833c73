"""The QMS: lot dispositions (usage decisions), quality holds, deviations and certificates."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from plant import qms_spec
from plant.clock import now_iso
from plant.db import Database, Row, placeholders
from plant.http import (
    PlantError,
    Record,
    batch,
    json_object,
    ok,
    one_id_list,
    opt_enum,
    opt_str,
    req_enum,
    req_str,
)
from plant.idempotency import run_command
from plant.outbox import append_event
from plant.reads import Resource, each
from plant.search import PAGE_FIELDS, Where, page_of, search
from plant.service import system_app
from plant.tables import QMS

DISPOSITIONS = ("PENDING", "RELEASED", "ON_HOLD", "REJECTED", "RECALLED", "EXPIRED")
HOLD_STATUSES = ("ACTIVE", "RELEASED", "CANCELLED")
DEVIATION_STATUSES = ("OPEN", "CLOSED")
SEVERITIES = ("MINOR", "MAJOR", "CRITICAL")


def quality_lot(row: Row) -> Record:
    coa = {"id": row["coa_id"], "issued_at": row["coa_issued_at"]} if row["coa_id"] else None
    return {
        "lot_id": row["lot_id"],
        "product_id": row["product_id"],
        "disposition": row["disposition"],
        "disposition_at": row["disposition_at"],
        "expiry_date": row["expiry_date"],
        "coa": coa,
    }


HOLD_FIELDS = [
    "id", "lot_id", "status", "reason_code", "comment", "placed_by", "placed_at", "released_by", "released_at",
    "release_comment", "correlation_id",
]  # fmt: skip
DEVIATION_FIELDS = ["id", "lot_id", "status", "severity", "title", "opened_at", "closed_at"]
Convert = Callable[[Row], Record]


def hold(row: Row) -> Record:
    return {name: row[name] for name in HOLD_FIELDS}


def deviation(row: Row) -> Record:
    return {name: row[name] for name in DEVIATION_FIELDS}


def next_id(conn: sqlite3.Connection, table: str, prefix: str) -> tuple[int, str]:
    num = int(conn.execute(f"SELECT COALESCE(MAX(num), 0) + 1 FROM {table}").fetchone()[0])
    return num, f"{prefix}-{num:06d}"


class Qms:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.lots = Resource(db, "quality_lots", "lot_id", each(quality_lot), "LOT_NOT_FOUND", "lot")
        self.holds = Resource(db, "holds", "id", each(hold), "HOLD_NOT_FOUND", "hold")
        self.deviations = Resource(db, "deviations", "id", each(deviation), "DEVIATION_NOT_FOUND", "deviation")

    # --- reads -----------------------------------------------------------------------------------

    async def list_lots(self, request: Request) -> Response:
        _, ids = one_id_list(request, ["ids"])
        return ok(batch(self.lots.by_ids(ids), ids, "lot_id"))

    async def get_lot(self, request: Request) -> Response:
        return ok(self.lots.one(request.path_params["id"]))

    async def search_lots(self, request: Request) -> Response:
        body = await json_object(request, ("product_id", "disposition", *PAGE_FIELDS))
        where = Where()
        if (product_id := opt_str(body, "product_id")) is not None:
            where.add("product_id = ?", product_id)
        if (disposition := opt_enum(body, "disposition", DISPOSITIONS)) is not None:
            where.add("disposition = ?", disposition)
        found = search(self.db, "quality_lots", "lot_id", where, page_of(body))
        items = [quality_lot(row) for row in found.rows]
        return ok({"items": items, "total": found.total, "next_after": found.next_after})

    def _by_id_or_lot(self, request: Request, table: str, statuses: tuple[str, ...], convert: Convert) -> Record:
        """Holds or deviations by their ids or by lot, optionally of one ``status``."""
        name, ids = one_id_list(request, ["ids", "lot_ids"])
        status = opt_enum(dict(request.query_params), "status", statuses)
        column = "id" if name == "ids" else "lot_id"
        rows = self.db.query(f"SELECT * FROM {table} WHERE {column} IN ({placeholders(ids)}) ORDER BY id", ids)
        items = [convert(row) for row in rows]
        missing = batch(items, ids)["missing"] if name == "ids" else []
        if status is not None:
            items = [item for item in items if item["status"] == status]
        return {"items": items, "missing": missing}

    async def list_holds(self, request: Request) -> Response:
        return ok(self._by_id_or_lot(request, "holds", HOLD_STATUSES, hold))

    async def get_hold(self, request: Request) -> Response:
        return ok(self.holds.one(request.path_params["id"]))

    async def search_holds(self, request: Request) -> Response:
        body = await json_object(request, ("status", "lot_id", "reason_code", *PAGE_FIELDS))
        where = Where()
        if (status := opt_enum(body, "status", HOLD_STATUSES)) is not None:
            where.add("status = ?", status)
        if (lot_id := opt_str(body, "lot_id")) is not None:
            where.add("lot_id = ?", lot_id)
        if (reason_code := opt_str(body, "reason_code")) is not None:
            where.add("reason_code = ?", reason_code)
        found = search(self.db, "holds", "id", where, page_of(body))
        return ok({"items": [hold(r) for r in found.rows], "total": found.total, "next_after": found.next_after})

    async def list_deviations(self, request: Request) -> Response:
        return ok(self._by_id_or_lot(request, "deviations", DEVIATION_STATUSES, deviation))

    async def quality_status(self, request: Request) -> Response:
        """Per lot: its quality record, active holds and open deviations (one call for what a readiness decision
        needs from the QMS). A lot the QMS does not know is in ``missing``."""
        _, ids = one_id_list(request, ["lot_ids"])
        lots = self.lots.by_ids(ids)
        holds: dict[str, list[Record]] = {lot["lot_id"]: [] for lot in lots}
        deviations: dict[str, list[Record]] = {lot["lot_id"]: [] for lot in lots}
        if lots:
            found, marks = list(holds), placeholders(list(holds))
            for row in self.db.query(f"SELECT * FROM holds WHERE lot_id IN ({marks}) AND status = 'ACTIVE'", found):
                holds[row["lot_id"]].append(hold(row))
            for row in self.db.query(f"SELECT * FROM deviations WHERE lot_id IN ({marks}) AND status = 'OPEN'", found):
                deviations[row["lot_id"]].append(deviation(row))
        items = [
            {
                "lot_id": lot["lot_id"],
                "quality": lot,
                "active_holds": sorted(holds[lot["lot_id"]], key=lambda h: h["id"]),
                "open_deviations": sorted(deviations[lot["lot_id"]], key=lambda d: d["id"]),
            }
            for lot in lots
        ]
        return ok(batch(items, ids, "lot_id"))

    async def get_deviation(self, request: Request) -> Response:
        return ok(self.deviations.one(request.path_params["id"]))

    # --- commands --------------------------------------------------------------------------------

    def _set_disposition(
        self, conn: sqlite3.Connection, lot: Record, disposition: str, by: str, correlation_id: str | None
    ) -> None:
        if lot["disposition"] == disposition:
            return
        conn.execute(
            "UPDATE quality_lots SET disposition = ?, disposition_at = ? WHERE lot_id = ?",
            (disposition, now_iso(), lot["lot_id"]),
        )
        keys = {"lot_id": lot["lot_id"], "product_id": lot["product_id"]}
        payload = {"disposition": disposition, "previous_disposition": lot["disposition"], "decided_by": by}
        append_event(conn, "qms", "LotDispositionChanged", keys, payload, correlation_id)

    def _active_holds(self, conn: sqlite3.Connection, lot_id: str) -> int:
        sql = "SELECT COUNT(*) FROM holds WHERE lot_id = ? AND status = 'ACTIVE'"
        return int(conn.execute(sql, (lot_id,)).fetchone()[0])

    def place_hold(self, conn: sqlite3.Connection, body: Record, correlation_id: str | None) -> tuple[int, Record]:
        lot_id, reason = req_str(body, "lot_id"), req_str(body, "reason_code")
        comment, placed_by = opt_str(body, "comment") or "", req_str(body, "placed_by")
        lot = self.lots.one(lot_id)
        num, hold_id = next_id(conn, "holds", "H")
        conn.execute(
            "INSERT INTO holds (num, id, lot_id, status, reason_code, comment, placed_by, placed_at,"
            " correlation_id) VALUES (?, ?, ?, 'ACTIVE', ?, ?, ?, ?, ?)",
            (num, hold_id, lot_id, reason, comment, placed_by, now_iso(), correlation_id),
        )
        if self._active_holds(conn, lot_id) == 1:
            conn.execute(
                "UPDATE quality_lots SET pre_hold_disposition = ? WHERE lot_id = ?", (lot["disposition"], lot_id)
            )
            self._set_disposition(conn, lot, "ON_HOLD", placed_by, correlation_id)
        placed = self.holds.one(hold_id)
        keys = {"lot_id": lot_id, "hold_id": hold_id, "product_id": lot["product_id"]}
        append_event(conn, "qms", "HoldPlaced", keys, placed, correlation_id)
        return 201, placed

    def release_hold(
        self, hold_id: str, conn: sqlite3.Connection, body: Record, correlation_id: str | None
    ) -> tuple[int, Record]:
        released_by, comment = req_str(body, "released_by"), opt_str(body, "comment") or ""
        before = self.holds.one(hold_id)
        if before["status"] != "ACTIVE":
            raise PlantError(409, "HOLD_NOT_ACTIVE", f"hold {hold_id} is {before['status']}, not ACTIVE")
        conn.execute(
            "UPDATE holds SET status = 'RELEASED', released_by = ?, released_at = ?, release_comment = ?,"
            " release_correlation_id = ? WHERE id = ?",
            (released_by, now_iso(), comment, correlation_id, hold_id),
        )
        lot_id = before["lot_id"]
        row = conn.execute("SELECT * FROM quality_lots WHERE lot_id = ?", (lot_id,)).fetchone()
        if self._active_holds(conn, lot_id) == 0:
            restore = row["pre_hold_disposition"] or row["disposition"]
            conn.execute("UPDATE quality_lots SET pre_hold_disposition = NULL WHERE lot_id = ?", (lot_id,))
            self._set_disposition(conn, quality_lot(row), restore, released_by, correlation_id)
        released = self.holds.one(hold_id)
        keys = {"lot_id": lot_id, "hold_id": hold_id, "product_id": row["product_id"]}
        append_event(conn, "qms", "HoldReleased", keys, released, correlation_id)
        return 200, released

    def decide(
        self, lot_id: str, conn: sqlite3.Connection, body: Record, correlation_id: str | None
    ) -> tuple[int, Record]:
        disposition = req_enum(body, "disposition", DISPOSITIONS)
        decided_by = req_str(body, "decided_by")
        lot = self.lots.one(lot_id)
        if disposition != "ON_HOLD" and self._active_holds(conn, lot_id) > 0:
            raise PlantError(409, "HOLD_ACTIVE", f"lot {lot_id} has an active hold: release it first")
        self._set_disposition(conn, lot, disposition, decided_by, correlation_id)
        return 200, self.lots.one(lot_id)

    def open_deviation(self, conn: sqlite3.Connection, body: Record, correlation_id: str | None) -> tuple[int, Record]:
        lot_id, title = req_str(body, "lot_id"), req_str(body, "title")
        severity = req_enum(body, "severity", SEVERITIES)
        lot = self.lots.one(lot_id)
        num, deviation_id = next_id(conn, "deviations", "DEV")
        conn.execute(
            "INSERT INTO deviations (num, id, lot_id, status, severity, title, opened_at, correlation_id)"
            " VALUES (?, ?, ?, 'OPEN', ?, ?, ?, ?)",
            (num, deviation_id, lot_id, severity, title, now_iso(), correlation_id),
        )
        opened = self.deviations.one(deviation_id)
        keys = {"lot_id": lot_id, "deviation_id": deviation_id, "product_id": lot["product_id"]}
        append_event(conn, "qms", "DeviationOpened", keys, opened, correlation_id)
        return 201, opened

    def close_deviation(
        self, deviation_id: str, conn: sqlite3.Connection, body: Record, correlation_id: str | None
    ) -> tuple[int, Record]:
        before = self.deviations.one(deviation_id)
        if before["status"] != "OPEN":
            raise PlantError(409, "DEVIATION_NOT_OPEN", f"deviation {deviation_id} is not OPEN")
        conn.execute("UPDATE deviations SET status = 'CLOSED', closed_at = ? WHERE id = ?", (now_iso(), deviation_id))
        closed = self.deviations.one(deviation_id)
        keys = {"lot_id": before["lot_id"], "deviation_id": deviation_id}
        append_event(conn, "qms", "DeviationClosed", keys, closed, correlation_id)
        return 200, closed

    async def post_hold(self, request: Request) -> Response:
        fields = ("lot_id", "reason_code", "comment", "placed_by")
        return await run_command(request, self.db, self.place_hold, fields=fields, key_required=True)

    async def post_release(self, request: Request) -> Response:
        hold_id = request.path_params["id"]

        def command(conn: sqlite3.Connection, body: Record, cid: str | None) -> tuple[int, Record]:
            return self.release_hold(hold_id, conn, body, cid)

        fields = ("released_by", "comment")
        return await run_command(request, self.db, command, fields=fields, key_required=True)

    async def post_disposition(self, request: Request) -> Response:
        lot_id = request.path_params["id"]

        def command(conn: sqlite3.Connection, body: Record, cid: str | None) -> tuple[int, Record]:
            return self.decide(lot_id, conn, body, cid)

        fields = ("disposition", "decided_by")
        return await run_command(request, self.db, command, fields=fields, key_required=False)

    async def post_deviation(self, request: Request) -> Response:
        fields = ("lot_id", "severity", "title")
        return await run_command(request, self.db, self.open_deviation, fields=fields, key_required=False)

    async def post_deviation_close(self, request: Request) -> Response:
        deviation_id = request.path_params["id"]

        def command(conn: sqlite3.Connection, body: Record, cid: str | None) -> tuple[int, Record]:
            return self.close_deviation(deviation_id, conn, body, cid)

        return await run_command(request, self.db, command, fields=("closed_by",), key_required=False)

    def routes(self) -> list[Route]:
        return [
            Route("/lots", self.list_lots, methods=["GET"]),
            Route("/lots/search", self.search_lots, methods=["POST"]),
            Route("/lots/{id}", self.get_lot, methods=["GET"]),
            Route("/lots/{id}/disposition", self.post_disposition, methods=["POST"]),
            Route("/holds", self.list_holds, methods=["GET"]),
            Route("/holds", self.post_hold, methods=["POST"]),
            Route("/holds/search", self.search_holds, methods=["POST"]),
            Route("/holds/{id}", self.get_hold, methods=["GET"]),
            Route("/holds/{id}/release", self.post_release, methods=["POST"]),
            Route("/deviations", self.list_deviations, methods=["GET"]),
            Route("/deviations", self.post_deviation, methods=["POST"]),
            Route("/deviations/{id}", self.get_deviation, methods=["GET"]),
            Route("/deviations/{id}/close", self.post_deviation_close, methods=["POST"]),
            Route("/quality-status", self.quality_status, methods=["GET"]),
        ]


def create_app(db_path: Path) -> Starlette:
    db = Database(db_path, QMS)
    return system_app("qms", db, Qms(db).routes(), qms_spec.build())
