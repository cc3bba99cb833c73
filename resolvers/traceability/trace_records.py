"""Everything an audit of a trace needs beyond the walk: for every lot of it, the edges into and out of it (MES),
its stock (WMS) and the deliveries carrying it (ERP), and the products (ERP). Mass balance and the exports are plain
functions over this.

``AuditReads`` reads them level by level while the walk goes on (one batched request per kind and level, beside the
walk's own), as a trace reads what its ``Lot`` fields need: a 30,000-lot trace then never asks a system for all of
its lots at once. Unlike a trace's ``Lot`` fields, an audit does not answer in part: a source that failed fails it,
named.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from resolvers.context import Context
from resolvers.genealogy.model import Trace
from resolvers.genealogy.trace import Collect
from resolvers.lots import LotRef
from resolvers.traceability import mass_balance
from sources.custody import Custody
from sources.records import GenealogyEdge, Lot, Product, Shipment, Stock


@dataclass(slots=True)
class TraceRecords:
    trace: Trace
    masters: dict[str, Lot]
    edges_into: dict[str, list[GenealogyEdge]]
    edges_out_of: dict[str, list[GenealogyEdge]]
    shipments: list[Shipment]
    stock: dict[str, list[Stock]]
    products: dict[str, Product] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    """The systems the records came from, by name and kind (``mes (epcis)``)."""
    custody: dict[str, Custody] = field(default_factory=dict)
    """Custody and containment by lot (MES): read for exports only."""

    def transformations(self) -> list[mass_balance.TransformationBalance]:
        return mass_balance.transformations(self.trace.lot_ids, self.masters, self.edges_into)

    def lot_balances(self) -> list[mass_balance.LotBalance]:
        return mass_balance.lots(self.trace.lot_ids, self.masters, self.edges_out_of, self.shipments, self.stock)


class AuditReads:
    """The four reads of an audit, to pass to a walk as ``collect``; then ``records`` once it has ended (with
    ``custody``, which reads the lots' custody then: read during the walk, its large answers would hold up the walk's
    own requests to the MES)."""

    def __init__(self, ctx: Context, *, custody: bool = False) -> None:
        sources = ctx.sources
        self.ctx = ctx
        self.custody = custody

        async def shipments_by_id(lot_ids: list[str]) -> dict[str, Shipment]:
            return {s.id: s for s in await sources.erp.shipments_by_lot(lot_ids)}

        self.into: Collect[list[GenealogyEdge]] = Collect(sources.mes.edges_into)
        self.out: Collect[list[GenealogyEdge]] = Collect(sources.mes.edges_out_of)
        self.stock: Collect[list[Stock]] = Collect(sources.wms.stock_by_lot)
        self.shipments: Collect[Shipment] = Collect(shipments_by_id)

    @property
    def collect(self) -> list[Collect[Any]]:
        return [self.into, self.out, self.stock, self.shipments]

    async def records(self, trace: Trace, refs: Sequence[LotRef], *, products: bool = False) -> TraceRecords:
        for read in self.collect:
            if read.error is not None:
                raise read.error
        for ref in refs:
            if ref.error is not None:
                raise ref.error
        sources = self.ctx.sources
        masters = {ref.id: ref.record for ref in refs if ref.record is not None}
        records = TraceRecords(
            trace=trace,
            masters=masters,
            edges_into=self.into.found,
            edges_out_of=self.out.found,
            shipments=sorted(self.shipments.found.values(), key=lambda s: s.id),
            stock=self.stock.found,
            sources=[_named(sources.mes), _named(sources.erp), _named(sources.wms)],
            custody=await sources.mes.custody(trace.lot_ids) if self.custody else {},
        )
        if products:
            records.products = await sources.erp.products({lot.product_id for lot in masters.values()})
        return records


async def read(ctx: Context, trace: Trace, refs: Sequence[LotRef]) -> TraceRecords:
    """The records of a trace walked without ``AuditReads``: read afterwards, a level of lots at a time."""
    reads = AuditReads(ctx)
    depth_of: dict[int, list[str]] = {}
    for node in trace.nodes:
        depth_of.setdefault(node.depth, []).append(node.lot_id)
    for depth in sorted(depth_of):
        lot_ids = list(dict.fromkeys(depth_of[depth]))
        await asyncio.gather(*(kind.level(lot_ids) for kind in reads.collect))
    return await reads.records(trace, refs)


def _named(source: object) -> str:
    name = str(getattr(source, "name", "?"))
    kind = str(getattr(source, "kind", "") or "")
    return f"{name} ({kind})" if kind else name
