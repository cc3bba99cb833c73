"""WMS port over Tryton: stock per lot and location, allocation and stage of customer shipments, blocking stock.

Stock is Tryton's own figure: ``stock.lot.quantity`` read with a ``locations`` context, once per place lotgraph
reports (each warehouse's storage zone, the quarantine location), so a read costs the same whatever the number of
lots. Stock in the quarantine location is BLOCKED, the rest UNRESTRICTED. A shipment's allocations are its inventory
moves that hold stock (``assigned``, or ``done`` once picked); an allocation of a lot with stock in quarantine is
BLOCKED. Blocking moves the lot's unreserved storage stock to quarantine by an internal shipment
(sources/tryton/moves.py); unblocking moves it back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import datetime

from sources.records import (
    Allocation,
    Page,
    ShipmentProgress,
    Stock,
    StockChange,
    StockStatus,
    WarehouseStage,
)
from sources.resilience import Health
from sources.tryton.client import Domain, TrytonRpc
from sources.tryton.mapping import RESERVED_MOVE_STATES, SHIPMENT_STAGE, STAGE_STATES
from sources.tryton.moves import Places, StockMover
from sources.tryton.paging import keyset_page
from sources.tryton.rows import SHIPMENT_MOVE_FIELDS, Rows, move_lines, rows

SHIPMENT_FIELDS = ["number", "state", "write_date", "create_date", *SHIPMENT_MOVE_FIELDS]
OPEN_STATES = ["draft", "waiting", "assigned", "picked", "packed"]


class TrytonWms:
    """``WmsPort`` over a Tryton database with ``stock_lot``."""

    def __init__(self, rpc: TrytonRpc, *, quarantine_code: str) -> None:
        self.rpc = rpc
        self.name = rpc.name
        self.places = Places(rpc, quarantine_code)
        self.mover = StockMover(rpc, self.places)

    def health(self) -> Health:
        return self.rpc.health()

    async def aclose(self) -> None:
        await self.rpc.aclose()

    async def stock_by_lot(self, lot_ids: Iterable[str]) -> dict[str, list[Stock]]:
        numbers = list(dict.fromkeys(lot_ids))
        if not numbers:
            return {}
        await self.places.load()
        spots = [(w.storage_id, w.storage_code, StockStatus.UNRESTRICTED) for w in self.places.warehouses]
        spots += [(q, code, StockStatus.BLOCKED) for q, code in self.places.quarantines.items()]
        reads = await asyncio.gather(*(self.places.quantities(numbers, [spot]) for spot, _, _ in spots))
        stock: dict[str, list[Stock]] = {}
        for (_, code, status), quantities in zip(spots, reads, strict=True):
            for number, (quantity, uom) in quantities.items():
                if quantity > 0:
                    stock.setdefault(number, []).append(Stock(number, code, quantity, uom, status, None))
        return stock

    async def shipments(self, ids: Iterable[str]) -> dict[str, ShipmentProgress]:
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        found = await self.rpc.search_read("stock.shipment.out", [("number", "in", wanted)], SHIPMENT_FIELDS)
        return {p.shipment_id: p for p in await self._progress(rows(self.name, found))}

    async def search_shipments(
        self, *, stage: WarehouseStage | None, limit: int, after: str | None
    ) -> Page[ShipmentProgress]:
        states = STAGE_STATES.get(stage, []) if stage is not None else list(SHIPMENT_STAGE)
        domain: Domain = [("state", "in", states)]
        page = await keyset_page(self.rpc, "stock.shipment.out", domain, SHIPMENT_FIELDS, limit=limit, after=after)
        return Page(await self._progress(rows(self.name, page.items)), page.total, page.has_more)

    async def _progress(self, found: list[Rows]) -> list[ShipmentProgress]:
        """Warehouse progress of shipments; one more call tells which of their lots have stock in quarantine."""
        lots = {m.text("lot.number") for s in found for m in s.children("inventory_moves") if m.opt_text("lot.number")}
        quarantined = await self.places.quarantined(sorted(lots))
        answer = []
        for shipment in found:
            allocations = tuple(
                Allocation(
                    line_no=line.line_no,
                    lot_id=move.text("lot.number"),
                    location=move.opt_text("from_location.code"),
                    quantity=move.number("quantity"),
                    stock_status=StockStatus.BLOCKED
                    if move.text("lot.number") in quarantined
                    else StockStatus.UNRESTRICTED,
                )
                for line in move_lines(shipment)
                for move in line.inventory
                if move.get("state") in RESERVED_MOVE_STATES and move.opt_text("lot.number")
            )
            stage = SHIPMENT_STAGE.get(str(shipment.get("state")))
            if stage is None and allocations and shipment.get("state") in ("draft", "waiting"):
                stage = WarehouseStage.ALLOCATED  # partly reserved: the warehouse has started on it
            if stage is not None:
                since: datetime | None = shipment.changed_at
                answer.append(ShipmentProgress(shipment.text("number"), stage, since, allocations))
        return answer

    async def block_stock(
        self, lot_id: str, *, reason: str, reference: str | None, idempotency_key: str
    ) -> StockChange:
        """Move the lot's unreserved storage stock into quarantine (once per key), and answer its stock after it."""
        await self.mover.block(lot_id, idempotency_key)
        return await self._change(lot_id, StockStatus.BLOCKED)

    async def unblock_stock(self, lot_id: str, *, reference: str | None, idempotency_key: str) -> StockChange:
        """Move the lot's quarantined stock back to its warehouse's storage zone (once per key)."""
        await self.mover.unblock(lot_id, idempotency_key)
        return await self._change(lot_id, StockStatus.UNRESTRICTED)

    async def _change(self, lot_id: str, status: StockStatus) -> StockChange:
        stock, open_moves = await asyncio.gather(
            self.stock_by_lot([lot_id]),
            self.rpc.search_read(
                "stock.move",
                [("lot.number", "=", lot_id), ("shipment.state", "in", OPEN_STATES, "stock.shipment.out")],
                ["shipment"],
            ),
        )
        shipment_ids = sorted({str(m["shipment"]) for m in open_moves if m.get("shipment")})
        numbers = await self._shipment_numbers(shipment_ids)
        return StockChange(lot_id, status, tuple(stock.get(lot_id, [])), tuple(numbers))

    async def _shipment_numbers(self, references: list[str]) -> list[str]:
        ids = [int(r.split(",", 1)[1]) for r in references if r.startswith("stock.shipment.out,")]
        if not ids:
            return []
        found = await self.rpc.read("stock.shipment.out", ids, ["number"])
        return sorted(str(r["number"]) for r in found if r.get("number"))
