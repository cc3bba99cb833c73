"""One site's records as the rest of the gateway sees them: every id qualified by the site, and the site set."""

from __future__ import annotations

from dataclasses import replace

from sources.combined import ExpandedShipment, LotQuality
from sources.custody import Custody
from sources.records import (
    Customer,
    Deviation,
    GenealogyEdge,
    Hold,
    Lot,
    LotAssignment,
    Product,
    QualityLot,
    SalesOrder,
    Shipment,
    ShipmentFilter,
    ShipmentLine,
    ShipmentProgress,
    Stock,
    StockChange,
)
from sources.sites.ids import SiteIds


class Qualifier:
    """Qualifies the records one site's systems answer (``q``), and makes a filter's ids local (``local``)."""

    def __init__(self, ids: SiteIds, site: str) -> None:
        self.ids, self.site = ids, site

    def q(self, local: str) -> str:
        return self.ids.qualify(self.site, local)

    def local(self, qualified: str) -> str:
        return self.ids.split(qualified)[1]

    def customer(self, c: Customer) -> Customer:
        return replace(c, id=self.q(c.id), site=self.site)

    def product(self, p: Product) -> Product:
        return replace(p, id=self.q(p.id), site=self.site)

    def order(self, o: SalesOrder) -> SalesOrder:
        q = self.q
        lines = tuple(replace(line, product_id=q(line.product_id)) for line in o.lines)
        shipment_ids = tuple(q(s) for s in o.shipment_ids)
        return replace(o, id=q(o.id), customer_id=q(o.customer_id), lines=lines, shipment_ids=shipment_ids,
                       site=self.site)  # fmt: skip

    def shipment(self, s: Shipment) -> Shipment:
        q = self.q

        def line(x: ShipmentLine) -> ShipmentLine:
            lots = tuple(LotAssignment(q(a.lot_id), a.quantity) for a in x.lots)
            return replace(x, product_id=q(x.product_id), lots=lots)

        return replace(s, id=q(s.id), order_id=q(s.order_id), customer_id=q(s.customer_id),
                       lines=tuple(line(x) for x in s.lines), site=self.site)  # fmt: skip

    def expanded(self, x: ExpandedShipment) -> ExpandedShipment:
        order = None if x.order is None else self.order(x.order)
        customer = None if x.customer is None else self.customer(x.customer)
        return ExpandedShipment(self.shipment(x.shipment), order, customer, tuple(self.product(p) for p in x.products))

    def quality(self, x: QualityLot) -> QualityLot:
        product_id = self.q(x.product_id) if x.product_id is not None else None
        return replace(x, lot_id=self.q(x.lot_id), product_id=product_id, site=self.site)

    def hold(self, h: Hold) -> Hold:
        return replace(h, id=self.q(h.id), lot_id=self.q(h.lot_id), site=self.site)

    def deviation(self, d: Deviation) -> Deviation:
        return replace(d, id=self.q(d.id), lot_id=self.q(d.lot_id), site=self.site)

    def lot_quality(self, x: LotQuality) -> LotQuality:
        quality = None if x.quality is None else self.quality(x.quality)
        holds = tuple(self.hold(h) for h in x.active_holds)
        return LotQuality(self.q(x.lot_id), quality, holds, tuple(self.deviation(d) for d in x.open_deviations))

    def lot(self, x: Lot) -> Lot:
        return replace(x, id=self.q(x.id), product_id=self.q(x.product_id), site=self.site)

    def edge(self, e: GenealogyEdge) -> GenealogyEdge:
        return replace(e, input_lot_id=self.q(e.input_lot_id), output_lot_id=self.q(e.output_lot_id), site=self.site)

    def stock(self, s: Stock) -> Stock:
        return replace(s, lot_id=self.q(s.lot_id), site=self.site)

    def progress(self, p: ShipmentProgress) -> ShipmentProgress:
        allocations = tuple(replace(a, lot_id=self.q(a.lot_id)) for a in p.allocations)
        return replace(p, shipment_id=self.q(p.shipment_id), allocations=allocations, site=self.site)

    def stock_change(self, c: StockChange) -> StockChange:
        return replace(c, lot_id=self.q(c.lot_id), stock=tuple(self.stock(s) for s in c.stock),
                       shipment_ids=tuple(self.q(s) for s in c.shipment_ids))  # fmt: skip

    def custody(self, c: Custody) -> Custody:
        """The lot ids of its moves qualified (containers and EPCs are the source's own names)."""
        return replace(c, moves=tuple(replace(m, lot_id=self.q(m.lot_id)) for m in c.moves))

    def local_filter(self, where: ShipmentFilter) -> ShipmentFilter:
        """The filter as this site's ERP takes it: its ids local, other sites' ids left out."""
        mine = None if where.ids is None else [i for i in where.ids if self.ids.site_of(i) == self.site]
        ids = None if mine is None else [self.local(i) for i in mine]
        customer_id = self.local(where.customer_id) if where.customer_id is not None else None
        return replace(where, ids=ids, customer_id=customer_id)
