"""Sales orders from the ERP."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from resolvers.sites import site_of
from schema.enums import OrderStatus
from schema.info import Info
from schema.master import Customer, Product
from schema.planning import Maybe, planned
from schema.readiness import ShipmentReadiness, load_readiness
from schema.shipment import Shipment
from schema.sites import SITE_HELP
from sources import records


@strawberry.type(description="A line of a sales order.")
class OrderLine:
    line_no: int
    quantity: float
    uom: str
    product_id: strawberry.ID
    record: strawberry.Private[records.OrderLine]

    @strawberry.field(description="The product ordered (ERP).", graphql_type=Product | None)
    def product(self, info: Info) -> Maybe[Product | None]:
        return planned(info, self.record, Product.first)


@strawberry.federation.type(keys=["id"], description="A sales order in the ERP, with its blocks and its shipments.")
class SalesOrder:
    id: strawberry.ID
    status: OrderStatus
    customer_id: strawberry.ID
    order_date: date | None
    requested_date: date | None = strawberry.field(description="Delivery date the customer asked for.")
    credit_block: bool = strawberry.field(description="Credit management blocks the order.")
    credit_block_since: datetime | None
    delivery_block: bool = strawberry.field(description="A delivery block is set on the order.")
    delivery_block_reason: str | None
    delivery_block_since: datetime | None
    lines: list[OrderLine]
    record: strawberry.Private[records.SalesOrder]

    @strawberry.field(description=SITE_HELP)
    def site(self, info: Info) -> str:
        return site_of(info.context, self.id)

    @classmethod
    async def resolve_reference(cls, id: strawberry.ID, info: Info) -> SalesOrder | None:
        """A federation entity; batched with the other representations through the per-operation loader."""
        record = await info.context.loaders.orders.load(id)
        return cls.of(record) if record else None

    @classmethod
    def of(cls, o: records.SalesOrder) -> SalesOrder:
        return cls(
            id=strawberry.ID(o.id),
            status=o.status,
            customer_id=strawberry.ID(o.customer_id),
            order_date=o.order_date,
            requested_date=o.requested_date,
            credit_block=o.credit_block,
            credit_block_since=o.credit_block_since,
            delivery_block=o.delivery_block,
            delivery_block_reason=o.delivery_block_reason,
            delivery_block_since=o.delivery_block_since,
            lines=[
                OrderLine(
                    line_no=line.line_no,
                    quantity=line.quantity,
                    uom=line.uom,
                    product_id=strawberry.ID(line.product_id),
                    record=line,
                )
                for line in o.lines
            ],
            record=o,
        )

    @strawberry.field(description="The customer (ERP).", graphql_type=Customer | None)
    def customer(self, info: Info) -> Maybe[Customer | None]:
        return planned(info, self.record, Customer.first)

    @strawberry.field(description="Readiness of each shipment of this order.")
    async def readiness(self, info: Info) -> list[ShipmentReadiness] | None:
        shipments = await info.context.loaders.shipments_by_order.load(self.id)
        return await load_readiness(info, [s.id for s in shipments])

    @strawberry.field(
        description="Shipments (outbound deliveries) of this order (ERP).", graphql_type=list[Shipment] | None
    )
    def shipments(self, info: Info) -> Maybe[list[Shipment] | None]:
        return planned(info, self.record, lambda found: [Shipment.of(s) for s in found[0]])
