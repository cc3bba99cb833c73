"""MES adapter: produced and received lots, and the genealogy edges between them.

Custody and containment are read from the MES's EPCIS 2.0 query interface (``GET <MES>/epcis/events``, part of
the MES contract, which takes the contract's lot ids as EPC classes): the same reader as the EPCIS source kind, on
the same client.
"""

from __future__ import annotations

from collections.abc import Iterable

from sources.cache import RecordCache
from sources.contract import bulk, parse
from sources.custody import Custody
from sources.epcis.adapter import EpcisMesSource
from sources.http import SourceClient, compact, group_by, index_by
from sources.records import GenealogyEdge, Lot, LotKind, Page
from sources.resilience import Health

EPCIS_CHUNK = 500
"""Lot ids per EPCIS query: the contract's ids are short, and the MES's interface takes them as they are."""


class MesSource:
    name = "mes"

    def __init__(self, client: SourceClient, *, cache_ttl: float = 0.0) -> None:
        self.client = client
        self._lots: RecordCache[Lot] = RecordCache(cache_ttl, maxsize=200_000)
        self._epcis = EpcisMesSource(client, path="/epcis/events", chunk=EPCIS_CHUNK, plain_ids=True)

    def health(self) -> Health:
        return self.client.health()

    async def aclose(self) -> None:
        await self.client.aclose()

    async def lots(self, ids: Iterable[str]) -> dict[str, Lot]:
        """Lot master records. They do not change once a lot is made, so they may be cached (``cache_ttl``)."""
        return await self._lots.get_many(ids, self._fetch_lots)

    def invalidate(self, lot_ids: Iterable[str] | None = None) -> None:
        """Forget cached lot records (all when None): an event said they may have changed."""
        self._lots.invalidate(lot_ids)

    async def _fetch_lots(self, ids: list[str]) -> dict[str, Lot]:
        items = await self.client.get_batch("/lots", "ids", ids)
        return index_by(bulk.parse_all(self.name, items, parse.lot), lambda lot: lot.id)

    async def search_lots(
        self,
        *,
        product_id: str | None,
        plant: str | None,
        kind: LotKind | None,
        limit: int,
        after: str | None,
    ) -> Page[Lot]:
        body = compact(
            {
                "product_id": product_id,
                "plant": plant,
                "kind": kind.value if kind else None,
                "limit": limit,
                "after": after,
            }
        )
        return bulk.page(self.name, await self.client.search("/lots/search", body), parse.lot)

    async def edges_into(self, lot_ids: Iterable[str]) -> dict[str, list[GenealogyEdge]]:
        """Edges whose output is one of ``lot_ids`` (one level backward), by output lot."""
        items = await self.client.get_batch("/genealogy", "output_lot_ids", lot_ids)
        return group_by(bulk.parse_all(self.name, items, parse.genealogy_edge), lambda e: e.output_lot_id)

    async def edges_out_of(self, lot_ids: Iterable[str]) -> dict[str, list[GenealogyEdge]]:
        """Edges whose input is one of ``lot_ids`` (one level forward), by input lot."""
        items = await self.client.get_batch("/genealogy", "input_lot_ids", lot_ids)
        return group_by(bulk.parse_all(self.name, items, parse.genealogy_edge), lambda e: e.input_lot_id)

    async def custody(self, lot_ids: Iterable[str]) -> dict[str, Custody]:
        return await self._epcis.custody(lot_ids)
