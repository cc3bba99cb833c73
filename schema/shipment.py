"""Shipments (outbound deliveries): the ERP document with its lots, and the WMS's progress on it."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Optional

import strawberry

from resolvers import lots as lot_resolvers
from resolvers.sites import site_of
from schema.enums import ShipmentStatus, StockStatus, WarehouseStage
from schema.info import Info
from schema.lot import Lot
from schema.master import Customer, Product
from schema.planning import Maybe, planned
from schema.readiness import ShipmentReadiness, load_readiness
from schema.sites import SITE_HELP
from sources import records

if TYPE_CHECKING:
    from schema.order import SalesOrder


@strawberry.type(description="A lot assigned in the ERP to a shipment line, with the quantity taken from it.")
class LotAssignment:
    lot_id: strawberry.ID
    quantity: float
    record: strawberry.Private[records.LotAssignment]

    @strawberry.field(description="The assigned lot.", graphql_type=Lot)
    def lot(self, info: Info) -> Maybe[Lot]:
        return planned(info, self.record, lambda refs: Lot.of(refs[0]))


@strawberry.type(description="A line of a shipment: a product, a quantity and the lots that make it up.")
class ShipmentLine:
    line_no: int
    order_line_no: int | None
    quantity: float
    uom: str
    product_id: strawberry.ID
    lot_assignments: list[LotAssignment] = strawberry.field(description="Lots assigned in the ERP, with quantities.")
    record: strawberry.Private[records.ShipmentLine]

    @strawberry.field(description="The product shipped on this line (ERP).", graphql_type=Product | None)
    def product(self, info: Info) -> Maybe[Product | None]:
        return planned(info, self.record, Product.first)

    @strawberry.field(description="The lots assigned to this line in the ERP.", graphql_type=list[Lot])
    def lots(self, info: Info) -> Maybe[list[Lot]]:
        return planned(info, self.record, lambda refs: [Lot.of(ref) for ref in refs])

    @classmethod
    def of(cls, line: records.ShipmentLine) -> ShipmentLine:
        return cls(
            line_no=line.line_no,
            order_line_no=line.order_line_no,
            quantity=line.quantity,
            uom=line.uom,
            product_id=strawberry.ID(line.product_id),
            lot_assignments=[
                LotAssignment(lot_id=strawberry.ID(a.lot_id), quantity=a.quantity, record=a) for a in line.lots
            ],
            record=line,
        )


@strawberry.type(description="Stock of a lot allocated by the WMS to a shipment line.")
class Allocation:
    line_no: int
    lot_id: strawberry.ID
    location: str | None
    quantity: float
    stock_status: StockStatus

    @strawberry.field(description="The allocated lot.")
    async def lot(self, info: Info) -> Lot:
        (ref,) = await lot_resolvers.lot_refs(info.context, [self.lot_id])
        return Lot.of(ref)


@strawberry.federation.type(
    keys=["id"],
    description="A shipment (outbound delivery) of a sales order. Document data from the ERP; warehouse stage and "
    "allocations from the WMS.",
)
class Shipment:
    id: strawberry.ID
    status: ShipmentStatus
    order_id: strawberry.ID
    customer_id: strawberry.ID
    warehouse: str | None
    ship_date: date | None = strawberry.field(description="Planned goods-issue date.")
    shipped_at: datetime | None = strawberry.field(description="When it left, once SHIPPED.")
    lines: list[ShipmentLine]
    record: strawberry.Private[records.Shipment]

    @strawberry.field(description=SITE_HELP)
    def site(self, info: Info) -> str:
        return site_of(info.context, self.id)

    @classmethod
    async def resolve_reference(cls, id: strawberry.ID, info: Info) -> Shipment | None:
        """A federation entity; batched with the other representations through the per-operation loader."""
        record = await info.context.loaders.shipments.load(id)
        return cls.of(record) if record else None

    @classmethod
    def of(cls, s: records.Shipment) -> Shipment:
        return cls(
            id=strawberry.ID(s.id),
            status=s.status,
            order_id=strawberry.ID(s.order_id),
            customer_id=strawberry.ID(s.customer_id),
            warehouse=s.warehouse,
            ship_date=s.ship_date,
            shipped_at=s.shipped_at,
            lines=[ShipmentLine.of(line) for line in s.lines],
            record=s,
        )

    @strawberry.field(
        description="The sales order this shipment delivers.",
        graphql_type=Optional[Annotated["SalesOrder", strawberry.lazy("schema.order")]],  # noqa: UP045
    )
    def order(self, info: Info) -> Maybe[SalesOrder | None]:
        from schema.order import SalesOrder

        return planned(info, self.record, lambda found: SalesOrder.of(found[0]) if found[0] else None)

    @strawberry.field(description="Whether this shipment can go: the same decision as `shipmentReadiness`.")
    async def readiness(self, info: Info) -> ShipmentReadiness:
        (decided,) = await load_readiness(info, [self.id])
        return decided

    @strawberry.field(description="The customer it goes to (ERP).", graphql_type=Customer | None)
    def customer(self, info: Info) -> Maybe[Customer | None]:
        return planned(info, self.record, Customer.first)

    @strawberry.field(
        description="How far the warehouse has got (WMS). Null when the WMS has not started on the shipment.",
        graphql_type=WarehouseStage | None,
    )
    def warehouse_stage(self, info: Info) -> Maybe[WarehouseStage | None]:
        return planned(info, self.record, lambda found: found[0].stage if found[0] else None)

    @strawberry.field(
        description="When the shipment reached its current warehouse stage (WMS).", graphql_type=datetime | None
    )
    def warehouse_stage_at(self, info: Info) -> Maybe[datetime | None]:
        return planned(info, self.record, lambda found: found[0].stage_at if found[0] else None)

    @strawberry.field(description="Stock the WMS has allocated to the shipment's lines.")
    async def allocations(self, info: Info) -> list[Allocation] | None:
        progress = await info.context.loaders.progress.load(self.id)
        if progress is None:
            return []
        return [
            Allocation(
                line_no=a.line_no,
                lot_id=strawberry.ID(a.lot_id),
                location=a.location,
                quantity=a.quantity,
                stock_status=a.stock_status,
            )
            for a in progress.allocations
        ]
