"""WMS adapter: stock per lot and location, allocation and warehouse progress per shipment; blocking stock."""

from __future__ import annotations

from collections.abc import Iterable

from sources.contract import parse
from sources.http import SourceClient, compact, group_by, index_by
from sources.records import Page, ShipmentProgress, Stock, StockChange, StockStatus, WarehouseStage
from sources.resilience import Health


def _stock_change(f: parse.Fields) -> StockChange:
    return StockChange(
        lot_id=f.text("lot_id"),
        status=f.enum("status", StockStatus),
        stock=tuple(parse.stock(parse.Fields(item)) for item in f.array("stock")),
        shipment_ids=tuple(parse.Fields({"id": item}).text("id") for item in f.array("shipment_ids")),
    )


class WmsSource:
    name = "wms"

    def __init__(self, client: SourceClient) -> None:
        self.client = client

    def health(self) -> Health:
        return self.client.health()

    async def aclose(self) -> None:
        await self.client.aclose()

    async def stock_by_lot(self, lot_ids: Iterable[str]) -> dict[str, list[Stock]]:
        items = await self.client.get_batch("/stock", "lot_ids", lot_ids)
        return group_by(parse.parse_all(self.name, items, parse.stock), lambda s: s.lot_id)

    async def shipments(self, ids: Iterable[str]) -> dict[str, ShipmentProgress]:
        items = await self.client.get_batch("/shipments", "ids", ids)
        return index_by(parse.parse_all(self.name, items, parse.shipment_progress), lambda p: p.shipment_id)

    async def search_shipments(
        self, *, stage: WarehouseStage | None, limit: int, after: str | None
    ) -> Page[ShipmentProgress]:
        body = compact({"stage": stage.value if stage else None, "limit": limit, "after": after})
        return parse.page(self.name, await self.client.search("/shipments/search", body), parse.shipment_progress)

    async def block_stock(
        self, lot_id: str, *, reason: str, reference: str | None, idempotency_key: str
    ) -> StockChange:
        """Block all stock of a lot (and its allocations on shipments not yet shipped)."""
        body = compact({"lot_id": lot_id, "reason": reason, "reference": reference})
        answer = await self.client.command("/stock/block", body, idempotency_key=idempotency_key, route="/stock/block")
        return parse.parse_one(self.name, answer, _stock_change)

    async def unblock_stock(self, lot_id: str, *, reference: str | None, idempotency_key: str) -> StockChange:
        """Stock of a lot back to UNRESTRICTED."""
        body = compact({"lot_id": lot_id, "reference": reference})
        route = "/stock/unblock"
        answer = await self.client.command(route, body, idempotency_key=idempotency_key, route=route)
        return parse.parse_one(self.name, answer, _stock_change)
