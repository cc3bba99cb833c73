"""QMS adapter: lot disposition, holds, deviations, certificates of analysis; the hold and release commands."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

from sources.combined import LotQuality
from sources.contract import bulk, parse
from sources.http import SourceClient, compact, group_by, index_by
from sources.records import Deviation, DeviationStatus, Disposition, Hold, HoldStatus, Page, QualityLot
from sources.resilience import Health


class QmsSource:
    name = "qms"

    def __init__(self, client: SourceClient) -> None:
        self.client = client

    def health(self) -> Health:
        return self.client.health()

    async def aclose(self) -> None:
        await self.client.aclose()

    async def lots(self, ids: Iterable[str]) -> dict[str, QualityLot]:
        items = await self.client.get_batch("/lots", "ids", ids)
        return index_by(bulk.parse_all(self.name, items, parse.quality_lot), lambda q: q.lot_id)

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
        return bulk.page(self.name, await self.client.search("/lots/search", body), parse.quality_lot)

    async def holds_by_lot(self, lot_ids: Iterable[str], status: HoldStatus | None = None) -> dict[str, list[Hold]]:
        extra = {"status": status.value} if status else None
        items = await self.client.get_batch("/holds", "lot_ids", lot_ids, extra)
        return group_by(parse.parse_all(self.name, items, parse.hold), lambda h: h.lot_id)

    async def holds(self, ids: Iterable[str]) -> dict[str, Hold]:
        items = await self.client.get_batch("/holds", "ids", ids)
        return index_by(parse.parse_all(self.name, items, parse.hold), lambda h: h.id)

    async def search_holds(
        self,
        *,
        status: HoldStatus | None,
        lot_id: str | None,
        reason_code: str | None,
        limit: int,
        after: str | None,
    ) -> Page[Hold]:
        body = compact(
            {
                "status": status.value if status else None,
                "lot_id": lot_id,
                "reason_code": reason_code,
                "limit": limit,
                "after": after,
            }
        )
        return parse.page(self.name, await self.client.search("/holds/search", body), parse.hold)

    async def place_hold(
        self, lot_id: str, *, reason_code: str, comment: str | None, placed_by: str, idempotency_key: str
    ) -> Hold:
        """Create a hold (the QMS sets the lot ON_HOLD). The QMS answers a repeated key with the first hold."""
        body = compact({"lot_id": lot_id, "reason_code": reason_code, "comment": comment, "placed_by": placed_by})
        answer = await self.client.command("/holds", body, idempotency_key=idempotency_key, route="/holds")
        return parse.parse_one(self.name, answer, parse.hold)

    async def release_hold(self, hold_id: str, *, released_by: str, comment: str | None, idempotency_key: str) -> Hold:
        """Release an active hold; with no other hold active on the lot, the QMS decides its disposition."""
        body = compact({"released_by": released_by, "comment": comment})
        path = f"/holds/{quote(hold_id, safe='')}/release"
        answer = await self.client.command(path, body, idempotency_key=idempotency_key, route="/holds/{id}/release")
        return parse.parse_one(self.name, answer, parse.hold)

    async def deviations_by_lot(
        self, lot_ids: Iterable[str], status: DeviationStatus | None = None
    ) -> dict[str, list[Deviation]]:
        extra = {"status": status.value} if status else None
        items = await self.client.get_batch("/deviations", "lot_ids", lot_ids, extra)
        return group_by(parse.parse_all(self.name, items, parse.deviation), lambda d: d.lot_id)

    async def quality_status(self, lot_ids: Iterable[str]) -> dict[str, LotQuality]:
        items = await self.client.get_batch("/quality-status", "lot_ids", lot_ids)
        return index_by(parse.parse_all(self.name, items, _lot_quality), lambda x: x.lot_id)


def _lot_quality(f: parse.Fields) -> LotQuality:
    return LotQuality(
        lot_id=f.text("lot_id"),
        quality=parse.quality_lot(f.one("quality")),
        active_holds=tuple(parse.hold(parse.Fields(h)) for h in f.array("active_holds")),
        open_deviations=tuple(parse.deviation(parse.Fields(d)) for d in f.array("open_deviations")),
    )
