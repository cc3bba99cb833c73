"""Every replica forgets the cached records an event concerns, whichever replica or source the event came from."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sources.bundle import Sources
from sources.bus.envelope import Event
from sources.bus.errors import BusError
from sources.ports import EventBus

log = logging.getLogger("lotgraph.events")


@dataclass(frozen=True, slots=True)
class Stale:
    """Cached records an event may have changed: MES lot master records, ERP products and customers."""

    lot_ids: tuple[str, ...]
    product_ids: tuple[str, ...]
    customer_ids: tuple[str, ...]


def stale(event: Event) -> Stale:
    customer = event.payload.get("customer_id")
    return Stale(
        lot_ids=event.keys.lot_ids,
        product_ids=event.keys.item_ids,
        customer_ids=(customer,) if isinstance(customer, str) else (),
    )


def invalidate(sources: Sources, event: Event) -> None:
    concerned = stale(event)
    if concerned.lot_ids:
        sources.mes.invalidate(concerned.lot_ids)
    if concerned.product_ids or concerned.customer_ids:
        sources.erp.invalidate(product_ids=concerned.product_ids, customer_ids=concerned.customer_ids)


async def keep_caches_fresh(bus: EventBus, sources: Sources) -> None:
    """Follow the bus live until cancelled. If it falls behind (or the bus fails), forget everything cached and
    follow again: a cache may miss, never be stale past an event."""
    while True:
        try:
            async for event in bus.subscribe(after=None):
                invalidate(sources, event)
        except BusError as exc:
            log.warning("cache invalidation fell behind the event bus; caches cleared", extra={"error": str(exc)})
            sources.mes.invalidate(None)
            sources.erp.invalidate(product_ids=None, customer_ids=None)
