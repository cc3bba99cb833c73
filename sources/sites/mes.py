"""The MES of every site behind one port, with the links between sites (docs/sites.md#cross-site-genealogy).

A lot that site A ships and site B receives is one lot in A's MES and a RAW lot in B's: B records it under the
lot number A gave it, with A (by the supplier code A is known by, ``LOTGRAPH_SITE_<A>_SUPPLIER``) as its
supplier. That receipt is the link: an edge from A's lot to B's lot, recorded by B (``site`` B), with the received
quantity and the receipt time.

- Backward from B's lots: their masters say which were received from another site (one read at B, cached).
- Forward from A's lots: A's ERP says which of them are on A's shipments (one read); only if some are, every
  other site is asked, in one batched lot read each, whether it received lots of those numbers from A.

A site that cannot answer a link read fails the level, named by site: a trace never leaves out what it cannot see.
A site that is down costs nothing to traces that reach no shipped lot.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, Mapping
from typing import TypeVar

from sources.custody import Custody
from sources.errors import SourceError
from sources.ports import ErpPort, MesPort
from sources.records import GenealogyEdge, Lot, LotKind, Page
from sources.sites.fanout import tagged
from sources.sites.ids import SiteIds
from sources.sites.ports import _Sited
from sources.sites.qualify import Qualifier

T = TypeVar("T")


class SiteMes(_Sited[MesPort]):
    def __init__(
        self,
        ids: SiteIds,
        ports: Mapping[str, MesPort],
        erps: Mapping[str, ErpPort],
        suppliers: Mapping[str, str],
        sites: tuple[str, ...] | None = None,
    ) -> None:
        super().__init__(ids, ports, sites)
        self.erps = erps
        """Each site's ERP: only lots on its shipments can have been received elsewhere."""
        self.suppliers = dict(suppliers)
        """Supplier code → the site it names."""

    async def lots(self, ids: Iterable[str]) -> dict[str, Lot]:
        return await self.fan.by_id(list(ids), lambda p, i: p.lots(i), Qualifier.lot)

    def invalidate(self, lot_ids: Iterable[str] | None = None) -> None:
        for site, port in self.fan.ports.items():
            port.invalidate(None if lot_ids is None else [self.fan.q[site].local(i) for i in lot_ids
                                                          if self.ids.site_of(i) == site])  # fmt: skip

    async def search_lots(
        self, *, product_id: str | None, plant: str | None, kind: LotKind | None, limit: int, after: str | None
    ) -> Page[Lot]:
        def call(site: str, n: int, a: str | None) -> Awaitable[Page[Lot]]:
            local = self.ids.split(product_id)[1] if product_id else None
            return self.fan.ports[site].search_lots(product_id=local, plant=plant, kind=kind, limit=n, after=a)

        return await self.fan.search(self._over(product_id), after, limit, call, Qualifier.lot)

    async def custody(self, lot_ids: Iterable[str]) -> dict[str, Custody]:
        return await self.fan.by_id(list(lot_ids), lambda p, i: p.custody(i), Qualifier.custody)

    async def edges_into(self, lot_ids: Iterable[str]) -> dict[str, list[GenealogyEdge]]:
        asked = list(lot_ids)
        own = await self.fan.grouped(asked, lambda p, i: p.edges_into(i), Qualifier.edge)
        for edge in self.receipts(await self.lots(asked)):
            own.setdefault(edge.output_lot_id, []).append(edge)
        return own

    async def edges_out_of(self, lot_ids: Iterable[str]) -> dict[str, list[GenealogyEdge]]:
        asked = list(lot_ids)
        own = await self.fan.grouped(asked, lambda p, i: p.edges_out_of(i), Qualifier.edge)
        for edge in await self.received_elsewhere(asked):
            own.setdefault(edge.input_lot_id, []).append(edge)
        return own

    def receipts(self, lots: Mapping[str, Lot]) -> list[GenealogyEdge]:
        """The links into these lots: each RAW lot whose supplier is another site came from that site's lot."""
        edges = []
        for lot in lots.values():
            source = self.suppliers.get(lot.supplier or "")
            if lot.kind is not LotKind.RAW or source is None or source == lot.site:
                continue
            local = self.ids.split(lot.id)[1]
            edge = GenealogyEdge(self.ids.qualify(source, local), lot.id, lot.quantity, lot.uom, None,
                                 lot.produced_at, site=lot.site)  # fmt: skip
            edges.append(edge)
        return edges

    async def received_elsewhere(self, lot_ids: list[str]) -> list[GenealogyEdge]:
        """The links out of these lots: of those their site has shipped (one ERP read per site), the lots of the same
        numbers other sites received from it (one batched lot read per other site, and none when nothing shipped)."""
        asked = set(lot_ids)
        shipped = await self.shipped(self.ids.by_site(lot_ids))
        wanted = {t: sorted({n for s, numbers in shipped.items() if s != t for n in numbers}) for t in self.fan.ports}
        targets = [(target, numbers) for target, numbers in wanted.items() if numbers]
        answers = await asyncio.gather(*(self.fan.ports[t].lots(n) for t, n in targets), return_exceptions=True)
        edges: list[GenealogyEdge] = []
        for (target, _), answer in zip(targets, answers, strict=True):
            q = self.fan.q[target]
            edges.extend(e for e in self.receipts({n: q.lot(x) for n, x in _raised(answer, target).items()})
                         if e.input_lot_id in asked)  # fmt: skip
        return edges

    async def shipped(self, by_site: Mapping[str, Mapping[str, str]]) -> dict[str, set[str]]:
        """Of these lots (by site, local → qualified), the local numbers on a shipment of their site."""
        sites = list(by_site)
        answers = await asyncio.gather(
            *(self.erps[s].shipments_by_lot(list(by_site[s])) for s in sites), return_exceptions=True
        )
        shipped: dict[str, set[str]] = {}
        for site, answer in zip(sites, answers, strict=True):
            on_shipments = {lot for shipment in _raised(answer, site) for lot in shipment.lot_ids}
            shipped[site] = on_shipments & set(by_site[site])
        return shipped


def _raised(answer: T | BaseException, site: str) -> T:
    """The answer of one site's read, or its failure raised (named by site)."""
    if isinstance(answer, SourceError):
        raise tagged(answer, site)
    if isinstance(answer, BaseException):
        raise answer
    return answer
