"""QMS adapter: lot disposition, holds, deviations, certificates of analysis."""

from __future__ import annotations

from collections.abc import Iterable

from sources import parse
from sources.http import SourceClient, compact, group_by, index_by
from sources.records import Deviation, DeviationStatus, Disposition, Hold, HoldStatus, Page, QualityLot


class QmsSource:
    name = "qms"

    def __init__(self, client: SourceClient) -> None:
        self.client = client

    async def lots(self, ids: Iterable[str]) -> dict[str, QualityLot]:
        items = await self.client.get_batch("/lots", "ids", ids)
        return index_by(parse.parse_all(self.name, items, parse.quality_lot), lambda q: q.lot_id)

    async def search_lots(
        self, *, product_id: str | None, disposition: Disposition | None, limit: int, after: str | None
    ) -> Page[QualityLot]:
        body = compact(
            {
                "product_id": product_id,
                "disposition": disposition.value if disposition else None,
                "limit": limit,
                "after": after,
            }
        )
        return parse.page(self.name, await self.client.search("/lots/search", body), parse.quality_lot)

    async def holds_by_lot(self, lot_ids: Iterable[str], status: HoldStatus | None = None) -> dict[str, list[Hold]]:
        extra = {"status": status.value} if status else None
        items = await self.client.get_batch("/holds", "lot_ids", lot_ids, extra)
        return group_by(parse.parse_all(self.name, items, parse.hold), lambda h: h.lot_id)

    async def holds(self, ids: Iterable[str]) -> dict[str, Hold]:
        items = await self.client.get_batch("/holds", "ids", ids)
        return index_by(parse.parse_all(self.name, items, parse.hold), lambda h: h.id)

    async def deviations_by_lot(
        self, lot_ids: Iterable[str], status: DeviationStatus | None = None
    ) -> dict[str, list[Deviation]]:
        extra = {"status": status.value} if status else None
        items = await self.client.get_batch("/deviations", "lot_ids", lot_ids, extra)
        return group_by(parse.parse_all(self.name, items, parse.deviation), lambda d: d.lot_id)
