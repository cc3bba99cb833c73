"""Shipments (outbound deliveries): the ERP document with its lots, and the WMS's progress on it."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from resolvers import lots as lot_resolvers
from schema.enums import ShipmentStatus, StockStatus, WarehouseStage
from schema.info import Info
from schema.lot import Lot
from schema.master import Customer, Product
from schema.readiness import ShipmentReadiness, load_readiness
from sources import records

if TYPE_CHECKING:
    from schema.order import SalesOrder


@strawberry.type(description="A lot assigned in the ERP to a shipment line, with the quantity taken from it.")
class LotAssignment:
    lot_id: strawberry.ID
    quantity: float

    @strawberry.field(description="The assigned lot.")
    async def lot(self, info: Info) -> Lot:
        (ref,) = await lot_resolvers.lot_refs(info.context, [self.lot_id])
        return Lot.of(ref)


@strawberry.type(description="A line of a shipment: a product, a quantity and the lots that make it up.")
class ShipmentLine:
    line_no: int
    order_line_no: int | None
    quantity: float
    uom: str
    product_id: strawberry.ID
    lot_assignments: list[LotAssignment] = strawberry.field(description="Lots assigned in the ERP, with quantities.")

    @strawberry.field(description="The product shipped on this line (ERP).")
    async def product(self, info: Info) -> Product | None:
        product = await info.context.loaders.products.load(self.product_id)
        return Product.of(product) if product else None

    @strawberry.field(description="The lots assigned to this line in the ERP.")
    async def lots(self, info: Info) -> list[Lot]:
        refs = await lot_resolvers.lot_refs(info.context, [a.lot_id for a in self.lot_assignments])
        return [Lot.of(ref) for ref in refs]

    @classmethod
    def of(cls, line: records.ShipmentLine) -> ShipmentLine:
        return cls(
            line_no=line.line_no,
            order_line_no=line.order_line_no,
            quantity=line.quantity,
            uom=line.uom,
            product_id=strawberry.ID(line.product_id),
            lot_assignments=[LotAssignment(lot_id=strawberry.ID(a.lot_id), quantity=a.quantity) for a in line.lots],
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
        )

    @strawberry.field(description="The sales order this shipment delivers.")
    async def order(self, info: Info) -> Annotated[SalesOrder, strawberry.lazy("schema.order")] | None:
        from schema.order import SalesOrder

        order = await info.context.loaders.orders.load(self.order_id)
        return SalesOrder.of(order) if order else None

    @strawberry.field(description="Whether this shipment can go: the same decision as `shipmentReadiness`.")
    async def readiness(self, info: Info) -> ShipmentReadiness:
        (decided,) = await load_readiness(info, [self.id])
        return decided

    @strawberry.field(description="The customer it goes to (ERP).")
    async def customer(self, info: Info) -> Customer | None:
        customer = await info.context.loaders.customers.load(self.customer_id)
        return Customer.of(customer) if customer else None

    @strawberry.field(
        description="How far the warehouse has got (WMS). Null when the WMS has not started on the shipment."
    )
    async def warehouse_stage(self, info: Info) -> WarehouseStage | None:
        progress = await info.context.loaders.progress.load(self.id)
        return progress.stage if progress else None

    @strawberry.field(description="When the shipment reached its current warehouse stage (WMS).")
    async def warehouse_stage_at(self, info: Info) -> datetime | None:
        progress = await info.context.loaders.progress.load(self.id)
        return progress.stage_at if progress else None

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
