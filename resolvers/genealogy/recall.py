"""Recall impact: everything a lot reached going forward, and where it is now.

The forward closure comes from the genealogy walk (MES); then each kind of enrichment is one batched read over
all affected lots, and the kinds run side by side: lot masters (MES), dispositions (QMS), stock (WMS) and the
shipments that carry any affected lot (ERP, ``GET /shipments?lot_ids=``); then, over those shipments, their
customers and orders (ERP). Loads go through the operation's loaders, so ``Lot`` fields asked of the affected
lots cost nothing more.

A source that fails costs only what it owns: its part of the answer is marked unavailable with its error, never
filled in. A failed walk (MES) fails the whole answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from resolvers.context import Context
from resolvers.genealogy.model import Trace, TraceDirection
from resolvers.genealogy.trace import Collect, LotData, LotReads, walk_from
from resolvers.lots import LotRef
from sources.errors import SourceError
from sources.records import (
    Customer,
    Disposition,
    OrderStatus,
    QualityLot,
    SalesOrder,
    Shipment,
    ShipmentStatus,
    Stock,
    StockStatus,
)

T = TypeVar("T")

OPEN_ORDER = (OrderStatus.CREATED, OrderStatus.RELEASED)
NOT_YET_SHIPPED = (ShipmentStatus.PLANNED, ShipmentStatus.IN_PROGRESS)


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T]):
    """What one source answered, or the error that stopped it."""

    value: T | None
    error: SourceError | None = None


async def outcome(call: Awaitable[T]) -> Outcome[T]:
    try:
        return Outcome(await call)
    except SourceError as exc:
        return Outcome(None, exc)


@dataclass(frozen=True, slots=True)
class AffectedLot:
    ref: LotRef
    depth: int
    quality: QualityLot | None
    """The QMS record; None when the QMS has none (or could not answer: see ``RecallImpact.quality_error``)."""
    stock: list[Stock] | None
    """Stock by location and status; None when the WMS could not answer."""


@dataclass(frozen=True, slots=True)
class AffectedShipment:
    shipment: Shipment
    lot_ids: list[str]
    """The affected lots it carries."""


@dataclass(frozen=True, slots=True)
class AffectedCustomer:
    customer_id: str
    customer: Customer | None
    shipped: list[str]
    """Shipments that went to the customer carrying affected lots."""
    pending: list[str]
    """Shipments not yet shipped to the customer that carry affected lots."""
    lot_ids: list[str]


@dataclass(frozen=True, slots=True)
class StockTotal:
    status: StockStatus
    uom: str
    quantity: float
    lots: int


@dataclass(frozen=True, slots=True)
class QuantityTotal:
    uom: str
    quantity: float


@dataclass(slots=True)
class RecallImpact:
    trace: Trace
    lots: list[AffectedLot]
    quality_error: SourceError | None = None
    stock_error: SourceError | None = None
    erp_error: SourceError | None = None
    shipped: list[AffectedShipment] = field(default_factory=list)
    pending: list[AffectedShipment] = field(default_factory=list)
    customers: list[AffectedCustomer] = field(default_factory=list)
    open_orders: list[SalesOrder] = field(default_factory=list)

    @property
    def errors(self) -> list[SourceError]:
        return [e for e in (self.quality_error, self.stock_error, self.erp_error) if e is not None]

    def by_disposition(self) -> dict[Disposition, int]:
        counts: dict[Disposition, int] = {}
        for lot in self.lots:
            if lot.quality is not None:
                counts[lot.quality.disposition] = counts.get(lot.quality.disposition, 0) + 1
        return dict(sorted(counts.items(), key=lambda item: item[0].value))

    def stock_totals(self) -> list[StockTotal]:
        totals: dict[tuple[StockStatus, str], tuple[float, set[str]]] = {}
        for lot in self.lots:
            for s in lot.stock or ():
                quantity, lots = totals.get((s.status, s.uom), (0.0, set()))
                lots.add(s.lot_id)
                totals[(s.status, s.uom)] = (quantity + s.quantity, lots)
        return [
            StockTotal(status, uom, round(quantity, 6), len(lots))
            for (status, uom), (quantity, lots) in sorted(totals.items(), key=lambda i: (i[0][0].value, i[0][1]))
        ]

    def shipped_quantities(self) -> list[QuantityTotal]:
        """Quantities of affected lots on shipped shipments, by unit (as the ERP's lot assignments give them)."""
        affected = {lot.ref.id for lot in self.lots}
        totals: dict[str, float] = {}
        for hit in self.shipped:
            for line in hit.shipment.lines:
                for assignment in line.lots:
                    if assignment.lot_id in affected:
                        totals[line.uom] = totals.get(line.uom, 0.0) + assignment.quantity
        return [QuantityTotal(uom, round(quantity, 6)) for uom, quantity in sorted(totals.items())]


def answered(error: SourceError | None) -> None:
    """Raise the error a source gave for its part of an impact: the fields it owns are then null, with it."""
    if error is not None:
        raise error


async def recall_impact(
    ctx: Context,
    lot_id: str,
    max_depth: int | None,
    needs: Collection[LotData] = (),
    collect: Sequence[Collect[Any]] = (),
    masters: bool = True,
) -> RecallImpact:
    """The forward closure of a lot, with dispositions, stock and shipments read level by level during the walk,
    then the customers and orders of those shipments. ``needs``: what ``Lot`` fields of the affected lots ask for
    (primed into the loaders, so that costs nothing more); ``masters``: whether they read MES masters
    (``walk_from``)."""
    sources = ctx.sources

    async def shipments_by_id(lot_ids: list[str]) -> dict[str, Shipment]:
        return {s.id: s for s in await sources.erp.shipments_by_lot(lot_ids)}

    reads = LotReads(ctx, {LotData.QUALITY, LotData.STOCK, *needs})
    quality, stock = reads[LotData.QUALITY], reads[LotData.STOCK]
    shipments = Collect(shipments_by_id)
    collect = [*reads.collect, shipments, *collect]
    trace, refs = await walk_from(ctx, lot_id, TraceDirection.FORWARD, max_depth, collect=collect, masters=masters)
    reads.prime(trace.lot_ids, needs)
    depth_of = {node.lot_id: node.depth for node in trace.nodes}
    lots = [
        AffectedLot(
            ref=ref,
            depth=depth_of[ref.id],
            quality=quality.found.get(ref.id),
            stock=None if ref.id in stock.failed else stock.found.get(ref.id, []),
        )
        for ref in refs
    ]
    impact = RecallImpact(trace, lots, quality_error=quality.error, stock_error=stock.error, erp_error=shipments.error)
    if shipments.error is None:
        await _place_shipments(ctx, impact, shipments.found.values(), set(trace.lot_ids))
    return impact


async def _place_shipments(ctx: Context, impact: RecallImpact, shipments: Iterable[Shipment], ids: set[str]) -> None:
    """Sort the shipments into shipped and pending, then load their customers and orders (one read per kind)."""
    for shipment in sorted(shipments, key=lambda s: s.id):
        ctx.loaders.shipments.prime(shipment.id, shipment)
        hit = AffectedShipment(shipment, [lot_id for lot_id in shipment.lot_ids if lot_id in ids])
        if shipment.status is ShipmentStatus.SHIPPED:
            impact.shipped.append(hit)
        elif shipment.status in NOT_YET_SHIPPED:
            impact.pending.append(hit)
    hits = impact.shipped + impact.pending
    customer_ids = sorted({hit.shipment.customer_id for hit in hits})
    order_ids = sorted({hit.shipment.order_id for hit in hits})
    customers, orders = await asyncio.gather(
        outcome(ctx.loaders.customers.load_many(customer_ids)), outcome(ctx.loaders.orders.load_many(order_ids))
    )
    if customers.value is None or orders.value is None:
        impact.erp_error = customers.error or orders.error
        return
    impact.open_orders = [order for order in orders.value if order is not None and order.status in OPEN_ORDER]
    by_customer: dict[str, list[AffectedShipment]] = {}
    for hit in hits:
        by_customer.setdefault(hit.shipment.customer_id, []).append(hit)
    for customer_id, customer in zip(customer_ids, customers.value, strict=True):
        mine = by_customer[customer_id]
        impact.customers.append(
            AffectedCustomer(
                customer_id=customer_id,
                customer=customer,
                shipped=[hit.shipment.id for hit in mine if hit.shipment.status is ShipmentStatus.SHIPPED],
                pending=[hit.shipment.id for hit in mine if hit.shipment.status in NOT_YET_SHIPPED],
                lot_ids=sorted({lot_id for hit in mine for lot_id in hit.lot_ids}),
            )
        )
