"""What a subscriber follows: filters over events, and what a shipment's readiness depends on. Pure functions."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from resolvers.events.catalog import HOLD_TYPES
from sources.bus.envelope import Event

EventFilter = Callable[[Event], bool]


def hold_filter(lot_ids: Collection[str] | None, plant: str | None) -> EventFilter:
    """Hold placed and released events, of these lots (any when None) in this plant (any when None)."""
    lots = frozenset(lot_ids) if lot_ids is not None else None

    def matches(event: Event) -> bool:
        if event.type not in HOLD_TYPES:
            return False
        if plant is not None and event.plant != plant:
            return False
        return lots is None or not lots.isdisjoint(event.keys.lot_ids)

    return matches


def status_filter(
    types: Collection[str] | None,
    lot_ids: Collection[str] | None,
    order_ids: Collection[str] | None,
    shipment_ids: Collection[str] | None,
) -> EventFilter:
    """Events of these types (any when None) that concern any of the lots, orders or shipments given (any event
    when none of the three is given)."""
    kinds = frozenset(types) if types is not None else None
    lots, orders, shipments = (frozenset(ids or ()) for ids in (lot_ids, order_ids, shipment_ids))
    every = lot_ids is None and order_ids is None and shipment_ids is None

    def matches(event: Event) -> bool:
        if kinds is not None and event.type not in kinds:
            return False
        if every:
            return True
        keys = event.keys
        return not (
            lots.isdisjoint(keys.lot_ids)
            and orders.isdisjoint(keys.order_ids)
            and shipments.isdisjoint(keys.shipment_ids)
        )

    return matches


@dataclass(frozen=True, slots=True)
class Watch:
    """What a shipment's readiness depends on: the shipment, its order, and the lots allocated or assigned to it."""

    shipment_ids: frozenset[str]
    order_ids: frozenset[str]
    lot_ids: frozenset[str]

    @staticmethod
    def of(shipment_ids: Iterable[str], order_ids: Iterable[str], lot_ids: Iterable[str]) -> Watch:
        return Watch(frozenset(shipment_ids), frozenset(order_ids), frozenset(lot_ids))

    def touched_by(self, event: Event) -> bool:
        keys = event.keys
        return not (
            self.shipment_ids.isdisjoint(keys.shipment_ids)
            and self.order_ids.isdisjoint(keys.order_ids)
            and self.lot_ids.isdisjoint(keys.lot_ids)
        )
