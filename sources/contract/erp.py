"""ERP adapter: customers, products, sales orders, shipments (outbound deliveries)."""

from __future__ import annotations

from collections.abc import Iterable

from sources.cache import MasterDataCache
from sources.combined import ExpandedShipment
from sources.contract import bulk, parse
from sources.http import SourceClient, compact, group_by, index_by
from sources.records import Customer, OrderStatus, Page, Product, SalesOrder, Shipment, ShipmentFilter
from sources.resilience import Health


class ErpSource(MasterDataCache):
    name = "erp"

    def __init__(self, client: SourceClient, *, cache_ttl: float) -> None:
        super().__init__(cache_ttl)
        self.client = client

    def health(self) -> Health:
        return self.client.health()

    async def aclose(self) -> None:
        await self.client.aclose()

    async def orders(self, ids: Iterable[str]) -> dict[str, SalesOrder]:
        items = await self.client.get_batch("/orders", "ids", ids)
        return index_by(bulk.parse_all(self.name, items, parse.sales_order), lambda o: o.id)

    async def shipments(self, ids: Iterable[str]) -> dict[str, Shipment]:
        items = await self.client.get_batch("/shipments", "ids", ids)
        return index_by(bulk.parse_all(self.name, items, parse.shipment), lambda s: s.id)

    async def shipments_expanded(self, ids: Iterable[str]) -> dict[str, ExpandedShipment]:
        items = await self.client.get_batch("/shipments/expanded", "ids", ids)
        return index_by(bulk.parse_all(self.name, items, expanded, bulk.expanded_shipment), lambda x: x.shipment.id)

    async def shipments_by_order(self, order_ids: Iterable[str]) -> dict[str, list[Shipment]]:
        items = await self.client.get_batch("/shipments", "order_ids", order_ids)
        return group_by(bulk.parse_all(self.name, items, parse.shipment), lambda s: s.order_id)

    async def shipments_by_lot(self, lot_ids: Iterable[str]) -> list[Shipment]:
        items = await self.client.get_batch("/shipments", "lot_ids", lot_ids)
        unique = index_by(bulk.parse_all(self.name, items, parse.shipment), lambda s: s.id)
        return list(unique.values())

    async def search_orders(
        self, *, status: OrderStatus | None, customer_id: str | None, limit: int, after: str | None
    ) -> Page[SalesOrder]:
        body = compact(
            {
                "status": status.value if status else None,
                "customer_id": customer_id,
                "limit": limit,
                "after": after,
            }
        )
        return bulk.page(self.name, await self.client.search("/orders/search", body), parse.sales_order)

    async def search_shipments(self, where: ShipmentFilter, *, limit: int, after: str | None) -> Page[Shipment]:
        body = compact(
            {
                "ids": where.ids,
                "status": [s.value for s in where.statuses] if where.statuses else None,
                "customer_id": where.customer_id,
                "ship_date_from": where.ship_date_from.isoformat() if where.ship_date_from else None,
                "ship_date_to": where.ship_date_to.isoformat() if where.ship_date_to else None,
                "limit": limit,
                "after": after,
            }
        )
        return bulk.page(self.name, await self.client.search("/shipments/search", body), parse.shipment)

    async def _fetch_customers(self, ids: list[str]) -> dict[str, Customer]:
        items = await self.client.get_batch("/customers", "ids", ids)
        return index_by(bulk.parse_all(self.name, items, parse.customer), lambda c: c.id)

    async def _fetch_products(self, ids: list[str]) -> dict[str, Product]:
        items = await self.client.get_batch("/products", "ids", ids)
        return index_by(bulk.parse_all(self.name, items, parse.product), lambda p: p.id)


def expanded(f: parse.Fields) -> ExpandedShipment:
    """The checked reader of a ``GET /shipments/expanded`` item (``bulk.expanded_shipment`` is its direct one)."""
    order, customer = f.obj("order"), f.obj("customer")
    return ExpandedShipment(
        shipment=parse.shipment(f.one("shipment")),
        order=None if order is None else parse.sales_order(order),
        customer=None if customer is None else parse.customer(customer),
        products=tuple(parse.product(parse.Fields(p)) for p in f.array("products")),
    )
