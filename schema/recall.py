"""Recall impact: the forward closure of a lot with its dispositions, stock, shipments, customers and orders.

Everything is loaded by the root resolver (``resolvers/recall.py``) in one batched read per kind; the types here
only shape it, with plain attributes for what every affected lot carries. Parts whose source failed raise that
source's error (one error per field, not per lot) and are null; ``sourceErrors`` lists them too.
"""

from __future__ import annotations

import strawberry

from resolvers.genealogy import recall
from resolvers.traceability.trace_records import AuditReads
from schema.enums import LotDisposition, StockStatus
from schema.genealogy import GenealogyCycle, Truncation
from schema.info import Info
from schema.lot import Lot, StockRecord
from schema.mass_balance import MassBalance, mass_balance_of
from schema.master import Customer
from schema.order import SalesOrder
from schema.shipment import Shipment
from schema.sites import SiteCount, by_site


@strawberry.type(description="A lot the recalled lot went into (or the recalled lot itself, at depth 0).")
class AffectedLot:
    lot: Lot
    depth: int = strawberry.field(description="Levels from the recalled lot.")
    disposition: LotDisposition | None = strawberry.field(
        description="Usage decision in the QMS; null when the QMS has no record of the lot or could not answer."
    )
    stock: list[StockRecord] | None = strawberry.field(
        description="Stock on hand by location and stock status (WMS); null when the WMS could not answer."
    )

    @classmethod
    def of(cls, lot: recall.AffectedLot) -> AffectedLot:
        return cls(
            lot=Lot.of(lot.ref),
            depth=lot.depth,
            disposition=lot.quality.disposition if lot.quality else None,
            stock=None if lot.stock is None else [StockRecord.of(s) for s in lot.stock],
        )


@strawberry.type(description="A shipment that carries affected lots.")
class RecallShipment:
    shipment: Shipment
    affected_lot_ids: list[strawberry.ID] = strawberry.field(description="The affected lots on it.")

    @classmethod
    def of(cls, hit: recall.AffectedShipment) -> RecallShipment:
        return cls(shipment=Shipment.of(hit.shipment), affected_lot_ids=[strawberry.ID(i) for i in hit.lot_ids])


@strawberry.type(description="A customer that received, or is due to receive, affected lots.")
class RecallCustomer:
    customer_id: strawberry.ID
    customer: Customer | None = strawberry.field(description="Null when the ERP has no record of the customer.")
    shipped_shipment_ids: list[strawberry.ID] = strawberry.field(description="Shipments that went to it.")
    pending_shipment_ids: list[strawberry.ID] = strawberry.field(description="Shipments not yet shipped to it.")
    affected_lot_ids: list[strawberry.ID]

    @classmethod
    def of(cls, hit: recall.AffectedCustomer) -> RecallCustomer:
        return cls(
            customer_id=strawberry.ID(hit.customer_id),
            customer=Customer.of(hit.customer) if hit.customer else None,
            shipped_shipment_ids=[strawberry.ID(i) for i in hit.shipped],
            pending_shipment_ids=[strawberry.ID(i) for i in hit.pending],
            affected_lot_ids=[strawberry.ID(i) for i in hit.lot_ids],
        )


@strawberry.type
class DispositionCount:
    disposition: LotDisposition
    lots: int


@strawberry.type(description="Stock of affected lots with one status and unit.")
class StockTotal:
    status: StockStatus
    uom: str
    quantity: float
    lots: int


@strawberry.type
class QuantityTotal:
    uom: str
    quantity: float


@strawberry.type(description="A source that could not answer its part of the recall impact.")
class RecallSourceError:
    source: str
    code: str
    message: str
    site: str | None = strawberry.field(default=None, description="With several sites: the site whose system failed.")


@strawberry.type(
    description="Totals of a recall impact. A total whose source could not answer is null, with its error."
)
class RecallTotals:
    lots: int = strawberry.field(description="Affected lots, the recalled lot included.")
    depth: int = strawberry.field(description="Deepest level reached.")
    impact: strawberry.Private[recall.RecallImpact]

    @strawberry.field(description="Affected lots by disposition (QMS); lots the QMS does not know are not counted.")
    def by_disposition(self) -> list[DispositionCount] | None:
        recall.answered(self.impact.quality_error)
        return [DispositionCount(disposition=d, lots=n) for d, n in self.impact.by_disposition().items()]

    @strawberry.field(description="Affected lots with any stock on hand (WMS).")
    def lots_with_stock(self) -> int | None:
        recall.answered(self.impact.stock_error)
        return sum(1 for lot in self.impact.lots if lot.stock)

    @strawberry.field(description="Stock on hand of affected lots by status and unit (WMS).")
    def stock(self) -> list[StockTotal] | None:
        recall.answered(self.impact.stock_error)
        return [
            StockTotal(status=t.status, uom=t.uom, quantity=t.quantity, lots=t.lots) for t in self.impact.stock_totals()
        ]

    @strawberry.field(description="Shipped shipments carrying affected lots (ERP).")
    def shipped_shipments(self) -> int | None:
        recall.answered(self.impact.erp_error)
        return len(self.impact.shipped)

    @strawberry.field(description="Shipments not yet shipped (PLANNED, IN_PROGRESS) carrying affected lots (ERP).")
    def pending_shipments(self) -> int | None:
        recall.answered(self.impact.erp_error)
        return len(self.impact.pending)

    @strawberry.field(description="Quantity of affected lots shipped, by unit (ERP lot assignments).")
    def shipped_quantity(self) -> list[QuantityTotal] | None:
        recall.answered(self.impact.erp_error)
        return [QuantityTotal(uom=t.uom, quantity=t.quantity) for t in self.impact.shipped_quantities()]

    @strawberry.field(description="Customers that received or are due to receive affected lots (ERP).")
    def customers(self) -> int | None:
        recall.answered(self.impact.erp_error)
        return len(self.impact.customers)

    @strawberry.field(description="Customers that received affected lots (ERP).")
    def customers_shipped_to(self) -> int | None:
        recall.answered(self.impact.erp_error)
        return sum(1 for c in self.impact.customers if c.shipped)

    @strawberry.field(description="Open orders (CREATED, RELEASED) with shipments carrying affected lots (ERP).")
    def open_orders(self) -> int | None:
        recall.answered(self.impact.erp_error)
        return len(self.impact.open_orders)


@strawberry.type(
    description="What a recall of one lot touches, going forward: lots, stock, shipments, customers, open orders. "
    "`complete` is true only when the walk was not cut short and every source answered."
)
class RecallImpact:
    root: Lot
    max_depth: int = strawberry.field(description="The depth limit that applied, after the server's cap.")
    complete: bool
    truncated: bool
    truncation: Truncation | None
    cycles: list[GenealogyCycle]
    affected_lots: list[AffectedLot] = strawberry.field(description="The recalled lot first, then level by level.")
    source_errors: list[RecallSourceError]
    totals: RecallTotals
    impact: strawberry.Private[recall.RecallImpact]
    audit: strawberry.Private[AuditReads | None] = None

    @strawberry.field(description="Shipped shipments carrying affected lots (ERP), by id.")
    def shipped_shipments(self) -> list[RecallShipment] | None:
        recall.answered(self.impact.erp_error)
        return [RecallShipment.of(hit) for hit in self.impact.shipped]

    @strawberry.field(
        description="Shipments not yet shipped (PLANNED, IN_PROGRESS) carrying affected lots (ERP), by id. "
        "Cancelled shipments are left out."
    )
    def pending_shipments(self) -> list[RecallShipment] | None:
        recall.answered(self.impact.erp_error)
        return [RecallShipment.of(hit) for hit in self.impact.pending]

    @strawberry.field(description="Customers that received or are due to receive affected lots (ERP).")
    def customers(self) -> list[RecallCustomer] | None:
        recall.answered(self.impact.erp_error)
        return [RecallCustomer.of(hit) for hit in self.impact.customers]

    @strawberry.field(description="Open orders (CREATED, RELEASED) with shipments carrying affected lots (ERP).")
    def open_orders(self) -> list[SalesOrder] | None:
        recall.answered(self.impact.erp_error)
        return [SalesOrder.of(order) for order in self.impact.open_orders]

    @strawberry.field(
        description="Affected lots, the edges between them and the shipments carrying them (shipped or pending), "
        "by site (docs/sites.md); shipments are null when the ERP could not answer."
    )
    def by_site(self, info: Info) -> list[SiteCount]:
        impact = self.impact
        shipments = None if impact.erp_error else [hit.shipment.id for hit in (*impact.shipped, *impact.pending)]
        return by_site(info.context, (lot.ref.id for lot in impact.lots), impact.trace.edges, shipments)

    @strawberry.field(
        description="Mass balance of the affected lots (as for lotGenealogy.massBalance): where all of the recalled "
        "lot went, with what is unaccounted flagged."
    )
    async def mass_balance(self, info: Info) -> MassBalance | None:
        refs = [lot.ref for lot in self.impact.lots]
        return await mass_balance_of(info.context, self.impact.trace, refs, self.audit)

    @classmethod
    def of(cls, impact: recall.RecallImpact) -> RecallImpact:
        trace = impact.trace
        lots = [AffectedLot.of(lot) for lot in impact.lots]
        return cls(
            root=lots[0].lot,
            max_depth=trace.max_depth,
            complete=trace.truncation is None and not impact.errors,
            truncated=trace.truncation is not None,
            truncation=Truncation.of(trace.truncation),
            cycles=[GenealogyCycle(lot_ids=[strawberry.ID(i) for i in cycle]) for cycle in trace.cycles],
            affected_lots=lots,
            source_errors=[
                RecallSourceError(source=e.source, code=e.code, message=e.message, site=e.site) for e in impact.errors
            ],
            totals=RecallTotals(lots=len(lots), depth=trace.depth, impact=impact),
            impact=impact,
        )
