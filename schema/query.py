"""The root query: orders, shipments and lots, one by id or as connections by ids or by filter."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from resolvers import lots, orders, shipments
from resolvers.paging import DEFAULT_PAGE
from schema.connection import Connection
from schema.enums import LotDisposition, LotKind, OrderStatus, ShipmentStatus, WarehouseStage
from schema.info import Info
from schema.lot import Lot
from schema.order import SalesOrder
from schema.planning import prefetch
from schema.shipment import Shipment
from schema.sites import SITE_ARG_HELP

PAGE_HELP = "Page size, 1 to 500."
EDGE_NODES = ("edges", "node")
"""Where a connection's records are, below its root field."""


@strawberry.input(description="Orders by status and customer.")
class OrderFilter:
    status: OrderStatus | None = None
    customer_id: strawberry.ID | None = None
    site: str | None = strawberry.field(default=None, description=SITE_ARG_HELP)


@strawberry.input(description="Shipments by status, warehouse stage, ship date range and customer.")
class ShipmentFilter:
    status: list[ShipmentStatus] | None = strawberry.field(default=None, description="Any of these statuses.")
    warehouse_stage: WarehouseStage | None = strawberry.field(default=None, description="Current stage in the WMS.")
    ship_date_from: date | None = None
    ship_date_to: date | None = None
    customer_id: strawberry.ID | None = None
    site: str | None = strawberry.field(default=None, description=SITE_ARG_HELP)


@strawberry.input(description="Lots by product and disposition (QMS), or by product, plant and kind (MES).")
class LotFilter:
    product_id: strawberry.ID | None = None
    disposition: LotDisposition | None = None
    plant: str | None = None
    kind: LotKind | None = None
    site: str | None = strawberry.field(default=None, description=SITE_ARG_HELP)


@strawberry.type
class Query:
    @strawberry.field(description="A sales order by id; null when the ERP does not know it.")
    async def order(self, info: Info, id: strawberry.ID) -> SalesOrder | None:
        record = await orders.order(info.context, id)
        await prefetch(info, [record] if record else [])
        return SalesOrder.of(record) if record else None

    @strawberry.field(description="A shipment by id; null when the ERP does not know it.")
    async def shipment(self, info: Info, id: strawberry.ID) -> Shipment | None:
        record = await shipments.shipment(info.context, id)
        await prefetch(info, [record] if record else [])
        return Shipment.of(record) if record else None

    @strawberry.field(description="A lot by id; null when the MES does not know it.")
    async def lot(self, info: Info, id: strawberry.ID) -> Lot | None:
        ref = await lots.lot(info.context, id)
        await prefetch(info, [ref] if ref else [])
        return Lot.of(ref) if ref else None

    @strawberry.field(description="Sales orders: give `ids` (at most 500) or a `filter`.")
    async def orders(
        self,
        info: Info,
        ids: list[strawberry.ID] | None = None,
        filter: OrderFilter | None = None,
        first: Annotated[int, strawberry.argument(description=PAGE_HELP)] = DEFAULT_PAGE,
        after: str | None = None,
    ) -> Connection[SalesOrder]:
        where = None if filter is None else orders.OrderFilter(filter.status, filter.customer_id, filter.site)
        page = await orders.orders(info.context, ids=ids, where=where, first=first, after=after)
        await prefetch(info, page.items, EDGE_NODES)
        return Connection.of(page, SalesOrder.of)

    @strawberry.field(description="Shipments: give `ids` (at most 500) or a `filter`.")
    async def shipments(
        self,
        info: Info,
        ids: list[strawberry.ID] | None = None,
        filter: ShipmentFilter | None = None,
        first: Annotated[int, strawberry.argument(description=PAGE_HELP)] = DEFAULT_PAGE,
        after: str | None = None,
    ) -> Connection[Shipment]:
        where = None
        if filter is not None:
            where = shipments.ShipmentFilter(
                statuses=filter.status,
                warehouse_stage=filter.warehouse_stage,
                customer_id=filter.customer_id,
                ship_date_from=filter.ship_date_from,
                ship_date_to=filter.ship_date_to,
                site=filter.site,
            )
        page = await shipments.shipments(info.context, ids=ids, where=where, first=first, after=after)
        await prefetch(info, page.items, EDGE_NODES)
        return Connection.of(page, Shipment.of)

    @strawberry.field(description="Lots: give `ids` (at most 500) or a `filter`.")
    async def lots(
        self,
        info: Info,
        ids: list[strawberry.ID] | None = None,
        filter: LotFilter | None = None,
        first: Annotated[int, strawberry.argument(description=PAGE_HELP)] = DEFAULT_PAGE,
        after: str | None = None,
    ) -> Connection[Lot]:
        where = None
        if filter is not None:
            where = lots.LotFilter(filter.product_id, filter.disposition, filter.plant, filter.kind, filter.site)
        page = await lots.lots(info.context, ids=ids, where=where, first=first, after=after)
        await prefetch(info, page.items, EDGE_NODES)
        return Connection.of(page, Lot.of)
