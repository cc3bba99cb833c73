"""The MES of every site behind one port, with the links between sites (docs/sites.md#cross-site-genealogy).

A lot that site A ships and site B receives is one lot in A's MES and a RAW lot in B's: B records it under the
lot number A gave it, with A (by the supplier code A is known by, ``LOTGRAPH_SITE_<A>_SUPPLIER``) as its
supplier. That receipt is the link: an edge from A's lot to B's lot, recorded by B (``site`` B), with the received
quantity and the receipt time.

- Backward from B's lots: their masters say which were received from another site (one read at B, cached).
- Forward from A's lots: every other site is asked, in one batched lot read each, whether it received lots of
  those numbers from A.

A site that cannot answer a link read fails the level, named by site: a trace never leaves out what it cannot see.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, Mapping

from sources.errors import SourceError
from sources.ports import MesPort
from sources.records import GenealogyEdge, Lot, LotKind, Page
from sources.sites.fanout import tagged
from sources.sites.ids import SiteIds
from sources.sites.ports import _Sited
from sources.sites.qualify import Qualifier


class SiteMes(_Sited[MesPort]):
    def __init__(
        self,
        ids: SiteIds,
        ports: Mapping[str, MesPort],
        suppliers: Mapping[str, str],
        sites: tuple[str, ...] | None = None,
    ) -> None:
        super().__init__(ids, ports, sites)
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
        """The links out of these lots: the lots of the same numbers other sites received from their sites (one
        batched lot read per other site)."""
        asked = set(lot_ids)
        by_site = self.ids.by_site(lot_ids)
        wanted = {t: sorted({n for s, local in by_site.items() if s != t for n in local}) for t in self.fan.ports}
        targets = [(target, numbers) for target, numbers in wanted.items() if numbers]
        answers = await asyncio.gather(*(self.fan.ports[t].lots(n) for t, n in targets), return_exceptions=True)
        edges: list[GenealogyEdge] = []
        for (target, _), answer in zip(targets, answers, strict=True):
            if isinstance(answer, SourceError):
                raise tagged(answer, target)
            if isinstance(answer, BaseException):
                raise answer
            q = self.fan.q[target]
            edges.extend(e for e in self.receipts({n: q.lot(x) for n, x in answer.items()}) if e.input_lot_id in asked)
        return edges
