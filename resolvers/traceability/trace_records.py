"""Everything an audit of a trace needs beyond the walk: for every lot of it, the edges into and out of it (MES),
its stock (WMS) and the deliveries carrying it (ERP), and the products (ERP) — one batched read per kind, side by
side. Mass balance and the exports are plain functions over this.

Unlike a trace's ``Lot`` fields, an audit does not answer in part: a source that fails fails it, named.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime

from resolvers.context import Context
from resolvers.genealogy.model import Trace
from resolvers.lots import LotRef
from resolvers.traceability import mass_balance
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
    read_at: datetime | None = None
    sources: list[str] = field(default_factory=list)
    """The systems the records came from, by name and kind (``mes (epcis)``)."""

    def transformations(self) -> list[mass_balance.TransformationBalance]:
        return mass_balance.transformations(self.trace.lot_ids, self.masters, self.edges_into)

    def lot_balances(self) -> list[mass_balance.LotBalance]:
        return mass_balance.lots(self.trace.lot_ids, self.masters, self.edges_out_of, self.shipments, self.stock)


async def read(ctx: Context, trace: Trace, refs: list[LotRef], *, products: bool = False) -> TraceRecords:
    sources = ctx.sources
    ids = trace.lot_ids
    for ref in refs:
        if ref.error is not None:
            raise ref.error
    masters = {ref.id: ref.record for ref in refs if ref.record is not None}
    edges_into, edges_out_of, shipments, stock = await asyncio.gather(
        sources.mes.edges_into(ids),
        sources.mes.edges_out_of(ids),
        sources.erp.shipments_by_lot(ids),
        sources.wms.stock_by_lot(ids),
    )
    records = TraceRecords(
        trace=trace,
        masters=masters,
        edges_into=edges_into,
        edges_out_of=edges_out_of,
        shipments=sorted(shipments, key=lambda s: s.id),
        stock=stock,
        sources=[_named(sources.mes), _named(sources.erp), _named(sources.wms)],
    )
    if products:
        records.products = await sources.erp.products({lot.product_id for lot in masters.values()})
    return records


def _named(source: object) -> str:
    name = str(getattr(source, "name", "?"))
    kind = str(getattr(source, "kind", "") or "")
    return f"{name} ({kind})" if kind else name
