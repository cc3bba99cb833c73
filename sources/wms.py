"""WMS adapter: stock per lot and location, allocation and warehouse progress per shipment."""

from __future__ import annotations

from collections.abc import Iterable

from sources import parse
from sources.http import SourceClient, compact, group_by, index_by
from sources.records import Page, ShipmentProgress, Stock, WarehouseStage


class WmsSource:
    name = "wms"

    def __init__(self, client: SourceClient) -> None:
        self.client = client

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
