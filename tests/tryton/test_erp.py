"""The ERP port over Tryton: sales with their shipments, shipments by order and by lot, searches in pages."""

from __future__ import annotations

from typing import Any

from sources.bundle import Sources
from sources.records import OrderStatus, ShipmentFilter, ShipmentStatus


async def test_orders_and_their_shipments(sources: Sources, manifest: dict[str, Any]) -> None:
    order_id = manifest["orders"]["packed"][0]
    shipment_id = manifest["shipments"]["packed"][0]
    (order,) = (await sources.erp.orders([order_id, "NO-SUCH"])).values()
    assert order.status is OrderStatus.RELEASED
    assert order.shipment_ids == (shipment_id,)
    by_order = await sources.erp.shipments_by_order([order_id])
    assert [s.id for s in by_order[order_id]] == [shipment_id]
    (shipment,) = by_order[order_id]
    assert shipment.status is ShipmentStatus.IN_PROGRESS
    assert shipment.lot_ids == [manifest["shipment_lots"][shipment_id]]
    assert [s.id for s in await sources.erp.shipments_by_lot(shipment.lot_ids)] == [shipment_id]


async def test_searches_page_in_order(sources: Sources) -> None:
    first = await sources.erp.search_shipments(
        ShipmentFilter(statuses=[ShipmentStatus.IN_PROGRESS]), limit=3, after=None
    )
    assert len(first.items) == 3
    assert first.has_more
    rest = await sources.erp.search_shipments(
        ShipmentFilter(statuses=[ShipmentStatus.IN_PROGRESS]), limit=500, after=first.items[-1].id
    )
    ids = [s.id for s in first.items + rest.items]
    assert len(ids) == len(set(ids)) == first.total
    orders = await sources.erp.search_orders(status=OrderStatus.CANCELLED, customer_id=None, limit=10, after=None)
    assert {o.status for o in orders.items} == {OrderStatus.CANCELLED}
